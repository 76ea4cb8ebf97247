"""Where a training step's time goes on Keras' PyTorch backend, where tfae's models train in Keras' own loop.

    python -m benchmarks.torch_step                    # the article's 784-256-128-784 model, batch 32
    python -m benchmarks.torch_step --batch-size 256 --samples 30000
    python -m benchmarks.torch_step --jit-compile      # also Keras' `jit_compile=True` (torch.compile)

On PyTorch, Keras runs one `train_step` per call, in Python: it refuses `steps_per_execution` > 1 and has
no compiler to hand a loop to, so tfae's fast path steps aside there (docs/keras.md). This times one epoch
of `tfae.AutoEncoder.fit` next to a PyTorch eager epoch of the same model (interleaved, median of
`--repeats`; with `--jit-compile`, also a model compiled with Keras' `jit_compile=True`, which hands
Keras' step to `torch.compile`, and the time of its first, compiling epoch), then profiles one more tfae
epoch with cProfile and splits it by phase of Keras' `train_step`. The profiler slows Python more than PyTorch's kernels: read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time

# Phases of Keras' PyTorch `train_step`: (name, file suffix, function) of the call whose cumulative time
# is the phase's; a recursive call (a layer's `__call__`) counts once, at its outermost level.
PHASES = (
    ("forward: the model's call through Keras layers", "keras/src/layers/layer.py", "__call__"),
    ("loss: compute_loss", "keras/src/trainers/trainer.py", "_compute_loss"),
    ("metrics: compute_metrics", "keras/src/trainers/trainer.py", "compute_metrics"),
    ("backward: PyTorch autograd", "~", "<method 'run_backward' of 'torch._C._EngineBase' objects>"),
    ("optimizer: Keras' Adam (torch._foreach ops)", "keras/src/optimizers/base_optimizer.py", "apply"),
    ("data: Keras' epoch iterator", "keras/src/trainers/epoch_iterator.py", "__next__"),
)
DATA = PHASES[-1][0]  # outside train_step: Keras' iterator feeds it
STEP = ("keras/src/backend/torch/trainer.py", "train_step")


def phase_shares(stats: pstats.Stats) -> dict[str, float]:
    """{phase: its share of the profiled `fit`'s time}, with Keras' other work in `train_step` and outside it."""
    cumulative: dict[tuple[str, str], float] = {}
    for (filename, _, function), (_, _, _, cumtime, _) in stats.stats.items():
        for suffix, name in [*(phase[1:] for phase in PHASES), STEP]:
            if function == name and filename.replace(os.sep, "/").endswith(suffix):
                cumulative[(suffix, name)] = cumulative.get((suffix, name), 0.0) + cumtime
    total = stats.total_tt
    shares = {phase: cumulative.get((suffix, name), 0.0) / total for phase, suffix, name in PHASES}
    step = cumulative.get(STEP, 0.0) / total
    shares["other Keras work inside train_step"] = step - sum(share for phase, share in shares.items() if phase != DATA)
    shares["outside train_step: fit's loop, callbacks"] = 1.0 - step - shares[DATA]
    # Across the phases: the time spent inside PyTorch's compiled functions, the rest being Python.
    kernels = sum(tottime for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items()
                  if filename == "~" and "torch" in function)
    shares["across all: inside PyTorch's compiled functions"] = kernels / total
    return shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--samples", type=int, default=8192, help="MNIST training images per epoch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jit-compile", action="store_true",
                        help="also time a model compiled with jit_compile=True (torch.compile)")
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = "torch"
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "torch":
        raise SystemExit("benchmarks.torch_step needs a fresh process: Keras was imported on another backend")

    from benchmarks import baselines
    from benchmarks.run import interleaved, load_data

    x, _, source = load_data(args.samples)
    ae, net = baselines.tfae_autoencoder(), baselines.TorchAutoEncoder()
    contenders = {"tfae AutoEncoder.fit (Keras' PyTorch loop)":
                  lambda: ae.fit(x, batch_size=args.batch_size, epochs=1, verbose=0),
                  "PyTorch eager": lambda: net.fit_epoch(x, args.batch_size)}
    if args.jit_compile:
        compiled = baselines.tfae_autoencoder(jit_compile=True)
        start = time.perf_counter()
        compiled.fit(x, batch_size=args.batch_size, epochs=1, verbose=0)
        first_epoch = time.perf_counter() - start
        contenders["tfae AutoEncoder.fit, jit_compile=True (torch.compile)"] = (
            lambda: compiled.fit(x, batch_size=args.batch_size, epochs=1, verbose=0))
    speeds = interleaved(contenders, args.repeats, len(x))  # warmed up, then in turn
    steps = -(-len(x) // args.batch_size)
    print(f"{source}; batch {args.batch_size}, {steps} steps per epoch, median of {args.repeats} epochs:")
    for name, runs in speeds.items():
        speed = statistics.median(runs)
        print(f"  {name}: {speed:,.0f} samples/s, {len(x) / speed / steps * 1e3:.2f} ms per step")
    if args.jit_compile:
        print(f"  the compiled model's first epoch, compiling included: {first_epoch:.1f} s")
    profile = cProfile.Profile()
    profile.runcall(contenders["tfae AutoEncoder.fit (Keras' PyTorch loop)"])
    print("share of a profiled tfae epoch:")
    for phase, share in phase_shares(pstats.Stats(profile)).items():
        print(f"  {share:6.1%}  {phase}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
