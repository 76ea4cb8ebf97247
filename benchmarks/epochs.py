"""Multi-epoch training: one `fit(epochs=N)` call against N epochs of the whole-epoch compiled program.

    python -m benchmarks.epochs                                  # batch 256, 10 epochs, 3 repeats
    python -m benchmarks.epochs --batch-sizes 32,256 --epochs 5 --backends jax,tensorflow

`benchmarks.run` times one-epoch `fit` calls, each of which pays what a call pays once: the data's copy
to the device, Keras' set-up of its loop, callbacks and iterator. A user trains with `fit(epochs=N)`, so
the GPU target (a multi-epoch `fit` at batch 256 >= 0.8x the whole-epoch program, docs/benchmarks.md) is
measured here. Each timed run of a contender trains N epochs: tfae and plain Keras in one `fit` call
(each at one step per execution, Keras' default, and at 64),
PyTorch eager and the whole-epoch JAX program (`benchmarks.baselines`) in N epochs of their loops. The
contenders run interleaved, one backend per process; the median of `--repeats` runs is reported, with
the test set's BCE after the last run. Results: `benchmarks/results/epochs-<device>.json` and `.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.run import (
    RESULTS,
    bce_mse,
    child,
    environment,
    interleaved,
    load_data,
    ratio,
    training_contenders,
)

LIMIT = "whole-epoch JAX program (limit)"
FAST_EXECUTIONS = ", steps_per_execution=64"  # the suffix of the rows at 64 steps per execution


def contenders(batch_size: int, epochs: int) -> dict:
    """name -> (train `epochs` epochs on x, reconstruct x), every model freshly built: `benchmarks.run`'s
    contenders, and tfae and plain Keras again at `steps_per_execution=64` (callbacks see every 64th step,
    in both).
    """
    from benchmarks import baselines

    result = training_contenders("keras", batch_size, epochs)
    ae = baselines.tfae_autoencoder(steps_per_execution=64)
    plain = baselines.keras_sequential(steps_per_execution=64)
    result[f"tfae AutoEncoder.fit{FAST_EXECUTIONS}"] = (
        lambda x: ae.fit(x, batch_size=batch_size, epochs=epochs, verbose=0), ae.reconstruct)
    result[f"plain Keras fit{FAST_EXECUTIONS}"] = (
        lambda x: plain.fit(x, x, batch_size=batch_size, epochs=epochs, verbose=0),
        lambda x: plain.predict(x, batch_size=1024, verbose=0))
    return result


def worker(batch_sizes: list[int], epochs: int, repeats: int, samples: int | None) -> None:
    """Child process: every batch size on this process' Keras backend; prints one JSON line."""
    import keras

    x, x_test, data = load_data(samples)
    result = {"backend": keras.backend.backend(), "data": data, "epochs": epochs, "train": {}}
    for batch_size in batch_sizes:
        models = contenders(batch_size, epochs)
        speeds = interleaved({name: (lambda train=train: train(x)) for name, (train, _) in models.items()},
                             repeats, epochs * len(x))
        result["train"][str(batch_size)] = {
            name: {"samples_per_s": statistics.median(speeds[name]), "runs": speeds[name],
                   "test_bce": bce_mse(x_test, np.asarray(reconstruct(x_test)))[0]}
            for name, (_, reconstruct) in models.items()
        }
    print(json.dumps(result))


def markdown(report: dict) -> str:
    lines = [f"Measured {report['date']}: `{report['command']}`.", ""]
    for run in report["backends"]:
        sizes = list(run["train"])
        lines += [f"Keras backend {run['backend']}, {run['data']}, {run['epochs']} epochs per timed run:", "",
                  "| samples/s (median) | " + " | ".join(f"batch {b}" for b in sizes) + " | tfae vs it |",
                  "| --- |" + " ---: |" * (len(sizes) + 1)]
        for name in run["train"][sizes[0]]:
            speeds = [run["train"][b][name]["samples_per_s"] for b in sizes]
            # Against tfae at the same steps_per_execution; the others against tfae at its default.
            ours = name.replace("plain Keras fit", "tfae AutoEncoder.fit") if name.startswith("plain Keras") \
                else "tfae AutoEncoder.fit"
            versus = ", ".join(ratio(run["train"][b][ours]["samples_per_s"], s) for b, s in zip(sizes, speeds))
            lines.append(f"| {name} | " + " | ".join(f"{s:,.0f}" for s in speeds)
                         + f" | {'' if name.startswith('tfae') else versus} |")
        bces = ", ".join(f"{name} {value['test_bce']:.4f}" for name, value in run["train"][sizes[-1]].items())
        lines += ["", f"Test BCE after the runs at batch {sizes[-1]}: {bces}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="jax", help="comma-separated Keras backends (default: jax)")
    parser.add_argument("--batch-sizes", default="256", help="comma-separated (default: 256)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per timed run (default: 10)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=None, help="limit the training set (default: all)")
    parser.add_argument("--device", default="cpu", help="label of the results file (default: cpu)")
    parser.add_argument("--data", help="MNIST folder, IDX or .npz (as benchmarks.run)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error(f"--epochs and --repeats must be >= 1. Received: epochs={args.epochs}, repeats={args.repeats}")
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    if args.worker:
        return worker(batch_sizes, args.epochs, args.repeats, args.samples)
    if args.data:  # children inherit it
        os.environ["TFAE_BENCH_DATA"] = str(Path(args.data).resolve())
    # environment() imports Keras: on its first backend, as a GPU machine may have no TensorFlow.
    os.environ.setdefault("KERAS_BACKEND", args.backends.split(",")[0])
    common = ["--worker", "--batch-sizes", args.batch_sizes, "--epochs", str(args.epochs),
              "--repeats", str(args.repeats)] + (["--samples", str(args.samples)] if args.samples else [])
    report = {"date": time.strftime("%Y-%m-%d"),
              "command": "python -m benchmarks.epochs " + " ".join(argv if argv is not None else sys.argv[1:]),
              "environment": environment(), "backends": []}
    for backend in args.backends.split(","):
        print(f"benchmarking the {backend} backend...", file=sys.stderr, flush=True)
        report["backends"].append(child(common, backend, module="benchmarks.epochs"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"epochs-{args.device}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (RESULTS / f"epochs-{args.device}.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
