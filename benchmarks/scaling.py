"""Scaling curves: training speed and peak memory against data size, model width and batch size.

    python -m benchmarks.scaling              # every sweep (about 20 minutes on 2 CPU cores)
    python -m benchmarks.scaling --quick      # the two smallest points of each sweep, one timed epoch

One sweep at a time changes one thing of the article's 784-256-128-784 model on MNIST (tiled past 60,000
samples): the number of samples (6k to 600k), the hidden width (256 to 4096), the code width (32 to 1024,
with a 1024-wide hidden layer) or the batch size (32 to 4096). At each point every contender trains in a
fresh process (TensorFlow backend for the Keras side; PyTorch when installed): one warm-up epoch, then
`--repeats` timed epochs (median samples/s), while a thread samples the process' resident memory. The
contenders of a point run one after the other, so ratios are of runs minutes apart, not interleaved.
Results: `benchmarks/results/scaling.json`, the picture `docs/images/scaling.png`, read in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.run import RESULTS, child, environment, load_data, optional, peak_rss_during

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
BASE = {"samples": 60_000, "hidden": 256, "latent": 128, "batch": 256}
# sweep -> (its values, what it changes from BASE besides)
SWEEPS: dict[str, tuple[list[int], dict[str, int]]] = {
    "samples": ([6_000, 60_000, 240_000, 600_000], {}),
    "hidden": ([256, 1024, 2048, 4096], {"samples": 12_000}),
    "latent": ([32, 128, 512, 1024], {"samples": 12_000, "hidden": 1024}),
    "batch": ([32, 128, 512, 1024, 4096], {}),
}
CONTENDERS = {"tfae": "tfae AutoEncoder.fit", "keras": "plain Keras fit", "torch": "PyTorch eager"}


def point(contender: str, samples: int, hidden: int, latent: int, batch: int, repeats: int) -> dict:
    """Child process: one contender at one point; samples/s of each timed epoch and the peak resident memory."""
    from benchmarks import baselines

    x, _, _ = load_data(None)
    if samples > len(x):
        x = np.tile(x, (-(-samples // len(x)), 1))
    x = np.ascontiguousarray(x[:samples])
    if contender == "torch":
        net = baselines.TorchAutoEncoder(hidden=hidden, latent=latent)
        epoch = lambda: net.fit_epoch(x, batch)  # noqa: E731
    elif contender == "tfae":
        model = baselines.tfae_autoencoder(hidden=hidden, latent=latent)
        epoch = lambda: model.fit(x, batch_size=batch, epochs=1, verbose=0)  # noqa: E731
    else:
        model = baselines.keras_sequential(hidden=hidden, latent=latent)
        epoch = lambda: model.fit(x, x, batch_size=batch, epochs=1, verbose=0)  # noqa: E731

    def epochs():
        epoch()  # tracing, compilation, allocator growth
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            epoch()
            runs.append(samples / (time.perf_counter() - start))
        return runs

    runs, peak, before = peak_rss_during(epochs)
    return {"samples_per_s": statistics.median(runs), "runs": runs, "peak_rss_mib": peak, "before_fit_mib": before}


def sweep(name: str, repeats: int, quick: bool) -> list[dict]:
    values, changes = SWEEPS[name]
    contenders = [c for c in CONTENDERS if c != "torch" or optional("torch")]
    rows = []
    for value in values[:2] if quick else values:
        config = {**BASE, **changes, name: value}
        if quick:
            config["samples"] = min(config["samples"], 6_000)
        row = {"config": config}
        for contender in contenders:
            args = ["--point", contender, *(str(config[k]) for k in ("samples", "hidden", "latent", "batch")),
                    str(repeats)]
            # PyTorch's process keeps TensorFlow out (Keras on its PyTorch backend reads the data): the two
            # frameworks' thread pools slow each other down in one process.
            row[contender] = child(args, "torch" if contender == "torch" else "tensorflow", "benchmarks.scaling")
            print(f"{name}={value} {contender}: {row[contender]['samples_per_s']:,.0f} samples/s, "
                  f"{row[contender]['peak_rss_mib']:,.0f} MiB", flush=True)
        rows.append(row)
    return rows


def plot(report: dict, path: Path) -> None:
    """Samples/s (top) and peak resident memory (bottom) against each sweep's value, one column per sweep."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = report["sweeps"]
    figure, axes = plt.subplots(2, len(sweeps), figsize=(4.2 * len(sweeps), 7), squeeze=False)
    for column, (name, rows) in enumerate(sweeps.items()):
        values = [row["config"][name] for row in rows]
        for contender, label in CONTENDERS.items():
            if contender not in rows[0]:
                continue
            axes[0][column].plot(values, [row[contender]["samples_per_s"] / 1000 for row in rows], "o-", label=label)
            axes[1][column].plot(values, [row[contender]["peak_rss_mib"] / 1024 for row in rows], "o-", label=label)
        for row_axes, ylabel in ((axes[0][column], "thousand samples/s"), (axes[1][column], "peak RSS, GiB")):
            row_axes.set_xscale("log", base=2)
            row_axes.set_xlabel({"samples": "samples", "hidden": "hidden units", "latent": "code units",
                                 "batch": "batch size"}[name])
            row_axes.set_ylabel(ylabel)
            row_axes.grid(alpha=0.3)
        axes[0][column].set_title(f"{name} sweep")
    axes[0][0].legend(fontsize=8)
    figure.suptitle("One epoch of fit, TensorFlow backend vs PyTorch, 2 CPU cores")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def markdown(report: dict) -> str:
    contenders = [c for c in CONTENDERS if c in next(iter(report["sweeps"].values()))[0]]
    header = "| sweep | value | " + " | ".join(f"{CONTENDERS[c]} samples/s (peak RSS)" for c in contenders)
    rows = [header + " | tfae / Keras | tfae / PyTorch |", "|---|---:|" + "---:|" * (len(contenders) + 2)]
    for name, points in report["sweeps"].items():
        for row in points:
            cells = [f"{row[c]['samples_per_s']:,.0f} ({row[c]['peak_rss_mib']:,.0f} MiB)" for c in contenders]
            ratios = [f"{row['tfae']['samples_per_s'] / row[other]['samples_per_s']:.2f}x" if other in row else "-"
                      for other in ("keras", "torch")]
            rows.append(f"| {name} | {row['config'][name]:,} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the two smallest points of each sweep, 1 timed epoch")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per point and contender")
    parser.add_argument("--sweeps", nargs="+", choices=list(SWEEPS), default=list(SWEEPS))
    parser.add_argument("--point", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.point:
        contender, *numbers = args.point
        print(json.dumps(point(contender, *map(int, numbers))))
        return {}
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    repeats = 1 if args.quick else args.repeats
    report = {"environment": environment(), "repeats": repeats,
              "sweeps": {name: sweep(name, repeats, args.quick) for name in args.sweeps}}
    print(markdown(report))
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        file = RESULTS / "scaling.json"
        if file.exists() and set(args.sweeps) != set(SWEEPS):  # a rerun of some sweeps keeps the others
            kept = json.loads(file.read_text(encoding="utf-8"))["sweeps"]
            report["sweeps"] = {name: report["sweeps"].get(name, kept.get(name)) for name in SWEEPS
                                if name in report["sweeps"] or name in kept}
        file.write_text(json.dumps(report, indent=2), encoding="utf-8")
        plot(report, IMAGES / "scaling.png")
    return report


if __name__ == "__main__":
    main()
