"""tfae's benchmark suite: one command, side-by-side measurements, ratios from the same run.

    python -m benchmarks.run                 # full MNIST, every installed Keras backend, 3 repeats
    python -m benchmarks.run --quick         # 10,000 samples, 1 repeat: a smoke run
    python -m benchmarks.run --backends tensorflow --repeats 5

Each Keras backend runs in its own process (a process has one backend); inside it every
contender is timed in turn, repeat after repeat (interleaved, so machine noise hits all alike),
and the median is reported. Peak memory and import time are measured in fresh processes.
Results go to `benchmarks/results/<device>.json` and into the table of `docs/benchmarks.md`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DOC = REPO / "docs" / "benchmarks.md"
BACKENDS = ("tensorflow", "jax", "torch")


# --------------------------------------------------------------------------- data
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist"


def load_data(samples: int | None):
    import tfae

    path = Path(os.environ.get("TFAE_BENCH_DATA", DEFAULT_DATA))
    try:
        (x, _), (x_test, _) = tfae.datasets.load_mnist(path if path.exists() else None, download=False)
        source = "full MNIST"
    except FileNotFoundError:
        (x, _), (x_test, _) = tfae.datasets.load_mnist_sample()
        source = "tfae's MNIST sample"
    if samples:
        x, x_test = x[:samples], x_test[: max(1000, samples // 6)]
    return x, x_test, f"{source}: {len(x)} train / {len(x_test)} test"


def bce_mse(x: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    p = np.clip(p.reshape(x.shape).astype(np.float64), 1e-7, 1 - 1e-7)
    bce = float(-np.mean(x * np.log(p) + (1 - x) * np.log(1 - p)))
    return bce, float(np.mean((x - p) ** 2))


def optional(name: str) -> bool:
    try:
        __import__(name)
        return True
    except ImportError:
        return False


# Untimed pause before each timed run: the OpenMP (PyTorch), Eigen (TensorFlow)
# and XLA (JAX) thread pools keep spinning for a while after their work, which
# slows whichever contender runs next on two cores.
SETTLE_S = 1.0


def interleaved(jobs: dict, repeats: int, samples: int) -> dict[str, list[float]]:
    """Warm each job up once, then run them in turn `repeats` times; samples/s of every run."""
    for job in jobs.values():  # tracing, compilation, allocator growth
        job()
    speeds = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, job in jobs.items():
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            job()
            speeds[name].append(samples / (time.perf_counter() - start))
    return speeds


# ------------------------------------------------------------------ contenders
def training_contenders(group: str, batch_size: int, epochs: int = 1):
    """name -> (train(x), reconstruct(x)) for one group of contenders and a batch size; train runs `epochs`
    epochs (one `fit` call for the models that have one).

    The TF1 pair runs in a process of its own ("tf1"): PyTorch's and JAX's
    thread pools spin after their work, which would slow whatever runs next.
    """
    from benchmarks import baselines

    contenders = {}
    if group == "tf1":
        import tfae
        from benchmarks.article import ArticleAutoEncoder

        # The TF1 pair is the article's own first model (784-128-784, RMSProp, summed cost).
        article = ArticleAutoEncoder(seed=0)
        contenders["article TF1 feed_dict loop"] = (
            lambda x: article.train(x, epochs=epochs, batch_size=batch_size),
            lambda x: article.session.run(article.X_hat, {article.X: x}),
        )
        graph = tfae.GraphAutoEncoder(784, 128, seed=0)
        contenders["tfae GraphAutoEncoder.fit"] = (
            lambda x: graph.fit(x, epochs=epochs, batch_size=batch_size, verbose=0),
            graph.reconstruct,
        )
        return contenders
    ae = baselines.tfae_autoencoder()
    contenders["tfae AutoEncoder.fit"] = (
        lambda x: ae.fit(x, batch_size=batch_size, epochs=epochs, verbose=0),
        lambda x: ae.reconstruct(x),
    )
    plain = baselines.keras_sequential()
    contenders["plain Keras fit"] = (
        lambda x: plain.fit(x, x, batch_size=batch_size, epochs=epochs, verbose=0),
        lambda x: plain.predict(x, batch_size=1024, verbose=0),
    )
    if optional("torch"):
        net = baselines.TorchAutoEncoder()
        contenders["PyTorch eager"] = (lambda x: [net.fit_epoch(x, batch_size) for _ in range(epochs)],
                                       net.reconstruct)
    if optional("jax"):
        limit = baselines.JaxWholeEpoch()
        contenders["whole-epoch JAX program (limit)"] = (
            lambda x: [limit.fit_epoch(x, batch_size) for _ in range(epochs)], limit.reconstruct)
    return contenders


def time_training(group: str, x, x_test, batch_size: int, repeats: int) -> dict:
    contenders = training_contenders(group, batch_size)
    jobs = {name: (lambda train=train: train(x)) for name, (train, _) in contenders.items()}
    speeds = interleaved(jobs, repeats, len(x))
    result = {}
    for name, (_, reconstruct) in contenders.items():
        bce, mse = bce_mse(x_test, np.asarray(reconstruct(x_test)))
        result[name] = {
            "samples_per_s": statistics.median(speeds[name]),
            "runs": speeds[name],
            "epochs_trained": repeats + 1,
            "test_bce": bce,
            "test_mse": mse,
        }
    return result


def time_inference(x, repeats: int) -> dict:
    import tfae
    from benchmarks import baselines

    ae = baselines.tfae_autoencoder()
    plain = baselines.keras_sequential()
    # What a Keras user does to encode or decode alone: split at the bottleneck, then `predict`.
    plain_encoder, plain_decoder = tfae.split_autoencoder(plain)
    z = ae.encode(x)
    jobs = {
        "tfae encode": lambda: ae.encode(x, batch_size=1024),
        "tfae decode": lambda: ae.decode(z, batch_size=1024),
        "tfae reconstruct": lambda: ae.reconstruct(x, batch_size=1024),
        "Keras predict encode": lambda: plain_encoder.predict(x, batch_size=1024, verbose=0),
        "Keras predict decode": lambda: plain_decoder.predict(z, batch_size=1024, verbose=0),
        "Keras predict reconstruct": lambda: plain.predict(x, batch_size=1024, verbose=0),
    }
    if optional("torch"):
        net = baselines.TorchAutoEncoder()
        jobs["PyTorch no_grad encode"] = lambda: net.encode(x)
        jobs["PyTorch no_grad decode"] = lambda: net.decode(z)
        jobs["PyTorch no_grad reconstruct"] = lambda: net.reconstruct(x)
    speeds = interleaved(jobs, repeats, len(x))
    return {name: {"samples_per_s": statistics.median(v), "runs": v} for name, v in speeds.items()}


# --------------------------------------------------------------- fresh processes
def peak_rss_of_fit(contender: str, samples: int | None) -> None:
    """Child process: one epoch of a full-data fit; print the peak RSS in MiB while it ran (not at start-up)."""
    from benchmarks import baselines

    x, _, _ = load_data(samples)
    model, targets = (baselines.tfae_autoencoder(), None) if contender == "tfae" else (baselines.keras_sequential(), x)
    _, peak, _ = peak_rss_during(lambda: model.fit(x, targets, batch_size=256, epochs=1, verbose=0))
    print(json.dumps({"peak_rss_mib": peak}))


def rss_mib() -> float:
    """This process' resident memory now, in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_during(function) -> tuple[object, float, float]:
    """`(function(), peak resident MiB while it ran (sampled every 10 ms), resident MiB before it)`.

    `ru_maxrss` would not do in a fresh process: TensorFlow's start-up peaks higher than a small model's
    training.
    """
    import threading

    before, peak, done = rss_mib(), [0.0], threading.Event()

    def sample():
        while not done.wait(0.01):
            peak[0] = max(peak[0], rss_mib())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = function()
    finally:
        done.set()
        sampler.join()
    return result, max(peak[0], rss_mib()), before


def child(args: list[str], backend: str, module: str = "benchmarks.run") -> dict:
    """`python -m module ARGS` in a fresh process with Keras on `backend`: the JSON line it prints last."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": child_path()}
    out = subprocess.run([sys.executable, "-m", module, *args], env=env, cwd=REPO,
                         capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child {args} on {backend} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


def child_path() -> str:
    return os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


def import_times(repeats: int, backend: str) -> dict:
    """Median wall time of `import tensorflow` and `import tfae` in fresh processes (Keras on `backend`)."""
    result = {}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": backend, "PYTHONPATH": child_path()}
    for module in ("tensorflow", "tfae"):
        if importlib.util.find_spec(module) is None:  # no TensorFlow on a JAX/PyTorch-only GPU machine
            continue
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            if subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPO, env=env).returncode:
                break  # reported as missing rather than losing the whole report
            runs.append(time.perf_counter() - start)
        else:
            result[f"import {module}"] = {"seconds": statistics.median(runs), "runs": runs}
    return result


def worker(group: str, samples: int | None, repeats: int) -> None:
    """Child process: training and quality (and, for the Keras group, inference) measurements."""
    import keras

    x, x_test, data = load_data(samples)
    result = {"backend": keras.backend.backend(), "data": data, "keras": keras.__version__, "train": {}}
    for batch_size in (32, 256):
        result["train"][str(batch_size)] = time_training(group, x, x_test, batch_size, repeats)
    if group == "keras":
        result["inference"] = time_inference(x, repeats)
    print(json.dumps(result))


# ------------------------------------------------------------------ reporting
def environment() -> dict:
    info = {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "TF_NUM_INTRAOP_THREADS",
                                                    "TF_NUM_INTEROP_THREADS", "OPENBLAS_CORETYPE")},
    }
    try:
        with open("/proc/cpuinfo") as file:
            info["cpu_model"] = next(line.split(":", 1)[1].strip() for line in file if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    for module in ("tensorflow", "keras", "keras_tuner", "torch", "jax"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    if info.get("torch"):
        import torch

        info["threads"]["torch.get_num_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name()
    return info


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        f"Measured {report['date']} on "
        + (f"an {env['gpu']} with " if env.get("gpu") else "")
        + f"{env.get('cpu_model', env['processor'])} ({env['cpus']} cores), "
        f"Python {env['python']}, TensorFlow {env['tensorflow']}, Keras {env['keras']}, "
        f"PyTorch {env['torch']}, JAX {env['jax']}; thread settings {json.dumps(env['threads'])}. "
        f"Command: `{report['command']}`.",
        "",
    ]
    for run in report["backends"]:
        lines += [f"### Keras backend: {run['backend']} ({run['data']})", ""]
        if run.get("date"):
            lines += [f"Measured {run['date']}: `{run['command']}`.", ""]
        lines += ["| training, samples/s (median) | batch 32 | batch 256 | test BCE | test MSE |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        train32, train256 = run["train"]["32"], run["train"]["256"]
        for name in train256:
            q = train256[name]
            lines.append(f"| {name} | {train32[name]['samples_per_s']:,.0f} | {q['samples_per_s']:,.0f} | "
                         f"{q['test_bce']:.4f} | {q['test_mse']:.4f} |")
        ours32, ours256 = train32["tfae AutoEncoder.fit"], train256["tfae AutoEncoder.fit"]
        lines += ["", "| tfae `AutoEncoder.fit` vs | batch 32 | batch 256 | target |", "| --- | ---: | ---: | --- |"]
        targets = {"plain Keras fit": ">= 2x, >= 2x", "PyTorch eager": ">= 1.5x, >= 1.0x",
                   "whole-epoch JAX program (limit)": "-, >= 0.8x"}
        for name, target in targets.items():
            if name in train256:
                lines.append(f"| {name} | {ratio(ours32['samples_per_s'], train32[name]['samples_per_s'])} | "
                             f"{ratio(ours256['samples_per_s'], train256[name]['samples_per_s'])} | {target} |")
        if "tfae GraphAutoEncoder.fit" in train256:
            g, a = "tfae GraphAutoEncoder.fit", "article TF1 feed_dict loop"
            lines.append(f"| (GraphAutoEncoder vs the article's loop) | "
                         f"{ratio(train32[g]['samples_per_s'], train32[a]['samples_per_s'])} | "
                         f"{ratio(train256[g]['samples_per_s'], train256[a]['samples_per_s'])} | >= 2x |")
        inference = run["inference"]
        lines += ["", "| inference on the training set, batch 1024 | samples/s | vs Keras predict | vs PyTorch no_grad |",
                  "| --- | ---: | ---: | ---: |"]
        for name, value in inference.items():
            speed = value["samples_per_s"]
            kind = name.split()[-1]
            torch_ref = inference.get(f"PyTorch no_grad {kind}", {}).get("samples_per_s")
            predict_ref = inference.get(f"Keras predict {kind}", {}).get("samples_per_s")
            versus_torch = ratio(speed, torch_ref) if torch_ref and name.startswith("tfae") else ""
            versus_predict = ratio(speed, predict_ref) if predict_ref and name.startswith("tfae") else ""
            lines.append(f"| {name} | {speed:,.0f} | {versus_predict} | {versus_torch} |")
        memory = run.get("memory")
        if memory:
            when = f" (measured {run['memory_date']}: `{run['memory_command']}`)" if run.get("memory_date") else ""
            lines += ["", f"Peak RSS of a one-epoch batch-256 fit{when}: tfae {memory['tfae']:.0f} MiB, plain Keras "
                      f"{memory['keras']:.0f} MiB ({ratio(memory['tfae'], memory['keras'])}; target <= 1.1x).", ""]
    if report.get("imports"):
        imports = report["imports"]
        timed = ", ".join(f"`{name}` {value['seconds']:.2f} s" for name, value in sorted(imports.items(), reverse=True))
        backend = report.get("imports_keras_backend", "tensorflow")
        lines += [f"Import time (fresh process, median, Keras on {backend}): {timed}.", ""]
    return "\n".join(lines)


def write_doc(table: str) -> None:
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    DOC.write_text(f"{before}{start}\n{table}\n{end}{after}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated Keras backends")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=None, help="limit the training set (default: all)")
    parser.add_argument("--quick", action="store_true", help="10,000 samples and one repeat")
    parser.add_argument("--device", default="cpu", help="label of the results file (default: cpu)")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--data", help=f"MNIST folder, IDX or .npz (default: {DEFAULT_DATA})")
    parser.add_argument("--memory-only", action="store_true",
                        help="measure only the peak RSS of fit again; keep the other results of the backends")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--memory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data:  # children inherit it
        os.environ["TFAE_BENCH_DATA"] = str(Path(args.data).resolve())
    if args.quick:
        args.samples, args.repeats = args.samples or 10000, 1
    if args.worker:
        return worker(args.worker, args.samples, args.repeats)
    if args.memory:
        return peak_rss_of_fit(args.memory, args.samples)

    if args.memory_only:
        return print(remeasure_memory(args))

    # The versions reported are those of the backend benchmarked first (Keras imports TensorFlow
    # unless told otherwise, and a GPU machine may have none).
    backends = args.backends.split(",")
    os.environ.setdefault("KERAS_BACKEND", backends[0])
    common = ["--repeats", str(args.repeats)] + (["--samples", str(args.samples)] if args.samples else [])
    report = {"date": time.strftime("%Y-%m-%d"), "command": "python -m benchmarks.run " + " ".join(argv or sys.argv[1:]),
              "environment": environment(), "backends": []}
    for backend in backends:
        if backend != "tensorflow" and not optional({"torch": "torch", "jax": "jax"}.get(backend, backend)):
            print(f"skipping the {backend} backend: not installed", file=sys.stderr)
            continue
        print(f"benchmarking the {backend} backend...", file=sys.stderr, flush=True)
        try:
            run = child(["--worker", "keras", *common], backend)
            if backend == "tensorflow":
                tf1 = child(["--worker", "tf1", *common], backend)
                for batch_size, rows in tf1["train"].items():
                    run["train"][batch_size].update(rows)
            run.update(date=report["date"], command=report["command"])
            report["backends"].append(run)
            save(report, args)  # what is measured is kept, whatever happens next
            run["memory"] = peak_rss_of_fits(backend, args.samples)
        except RuntimeError as error:  # keep the other backends' results
            print(error, file=sys.stderr)
    report["imports_keras_backend"] = backends[0]
    report["imports"] = import_times(3, report["imports_keras_backend"])
    print(save(report, args))


def peak_rss_of_fits(backend: str, samples: int | None) -> dict[str, float]:
    """Peak RSS in MiB of a one-epoch fit of tfae and of plain Keras, each in a fresh process on `backend`."""
    samples_args = ["--samples", str(samples)] if samples else []
    return {c: child(["--memory", c, *samples_args], backend)["peak_rss_mib"] for c in ("tfae", "keras")}


def remeasure_memory(args: argparse.Namespace) -> str:
    """`--memory-only`: the peak RSS of the backends in `--backends` again, dated; their other results kept."""
    path = RESULTS / f"{args.device}.json"
    if not path.exists():
        raise SystemExit(f"--memory-only needs earlier results. Received: --device={args.device} ({path} is missing)")
    report = json.loads(path.read_text())
    wanted = args.backends.split(",")
    for run in report["backends"]:
        if run["backend"] in wanted:
            run["memory"] = peak_rss_of_fits(run["backend"], args.samples)
            run["memory_date"] = time.strftime("%Y-%m-%d")
            run["memory_command"] = "python -m benchmarks.run --memory-only --backends " + run["backend"]
    return save(report, args)


def save(report: dict, args: argparse.Namespace) -> str:
    """Write the results (JSON, Markdown, the docs' table); backends not in `report` keep their last results."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{args.device}.json"
    measured = {run["backend"] for run in report["backends"]}
    kept = []
    if path.exists():
        kept = [run for run in json.loads(path.read_text()).get("backends", []) if run["backend"] not in measured]
    order = {name: i for i, name in enumerate(BACKENDS)}
    merged = {**report, "backends": sorted(report["backends"] + kept,
                                           key=lambda run: order.get(run["backend"], len(order)))}
    path.write_text(json.dumps(merged, indent=2) + "\n")
    table = markdown(merged)
    (RESULTS / f"{args.device}.md").write_text(table + "\n")
    if not args.no_doc:
        write_doc(table)
    return table


if __name__ == "__main__":
    main()
