"""The `tfae` command line: a thin layer over `tfae.datasets`, `AutoEncoder` and `plotting`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def _load_data(source: str):
    from tfae import datasets

    if source == "mnist-sample":
        return datasets.load_mnist_sample()
    if source == "mnist":
        return datasets.load_mnist()
    return datasets.load_mnist(source)


def run_demo(out: Path, *, epochs: int, batch_size: int, data: str = "mnist-sample") -> dict:
    """Train the article's Keras model and write `model.keras` and `reconstructions.png` to `out`."""
    import tfae

    out.mkdir(parents=True, exist_ok=True)
    (x_train, _), (x_test, _) = _load_data(data)
    model = tfae.AutoEncoder(input_shape=(784,), latent_dim=128, hidden_units=(256,), name="article_autoencoder")
    model.compile()
    print(f"Training 784-256-128-256-784 on {len(x_train)} MNIST digits for {epochs} epoch(s)...")
    start = time.perf_counter()
    model.fit(x_train, epochs=epochs, batch_size=batch_size, validation_data=x_test, verbose=2)
    seconds = time.perf_counter() - start
    scores = model.evaluate(x_test, batch_size=256, verbose=0, return_dict=True)
    results = {
        "test_bce": float(scores["loss"]),
        "test_mse": float(scores["mse"]),
        "train_seconds": round(seconds, 2),
        "epochs": epochs,
        "train_samples": len(x_train),
    }
    model.save(out / "model.keras")
    tfae.plotting.reconstruction_grid(x_test[:10], model.reconstruct(x_test[:10]), path=out / "reconstructions.png")
    (out / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"test BCE: {results['test_bce']:.4f}   test MSE: {results['test_mse']:.4f}   ({seconds:.1f} s)")
    print(f"wrote {out / 'model.keras'}, {out / 'reconstructions.png'} and {out / 'metrics.json'}")
    return results


def run_tune(
    out: Path,
    *,
    data: str,
    tuner: str,
    max_trials: int,
    epochs: int,
    batch_size: int,
    samples: int | None,
    overwrite: bool,
    seed: int,
) -> dict | None:
    """Search AutoEncoder architectures with keras-tuner; the chief (or a lone tuner) writes the results.

    Honours keras-tuner's distributed variables (KERASTUNER_TUNER_ID,
    KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT): run the same command as a
    chief and as workers. Returns the paths written, or None on a worker.
    """
    import keras_tuner as kt

    from tfae import tuning

    (x_train, _), (x_val, _) = _load_data(data)
    if samples is not None:
        x_train, x_val = x_train[:samples], x_val[: max(1, samples // 4)]
    hypermodel = tuning.AutoEncoderHyperModel(input_shape=x_train.shape[1:])
    common = {"objective": "val_loss", "directory": str(out), "project_name": "search",
              "overwrite": overwrite, "seed": seed}
    if tuner == "random":
        search = kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    elif tuner == "bayesian":
        search = kt.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    else:
        search = kt.Hyperband(hypermodel, max_epochs=epochs, **common)
    fit_kwargs = {} if tuner == "hyperband" else {"epochs": epochs}
    search.search(x_train, validation_data=x_val, batch_size=batch_size, verbose=0, **fit_kwargs)
    worker = "KERASTUNER_ORACLE_IP" in os.environ and "chief" not in os.environ.get("KERASTUNER_TUNER_ID", "")
    if worker:
        print(f"worker {os.environ.get('KERASTUNER_TUNER_ID')}: search finished")
        return None
    paths = tuning.write_search_results(search, out)
    rows = tuning.trials_table(search)
    print(f"{len(rows)} trial(s); best val_loss {rows[0]['score']:.4f} with {json.dumps({k: v for k, v in rows[0].items() if k not in ('trial_id', 'status', 'score')})}")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return paths


def _parser() -> argparse.ArgumentParser:
    from tfae._version import __version__

    parser = argparse.ArgumentParser(prog="tfae", description="Autoencoders for Keras 3.")
    parser.add_argument("--version", action="version", version=f"tfae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="train the article's autoencoder on the shipped MNIST sample")
    demo.add_argument("--out", type=Path, default=Path("tfae-demo"), help="output folder (default: tfae-demo)")
    demo.add_argument("--epochs", type=_positive_int, default=10, help="training epochs (default: 10)")
    demo.add_argument("--batch-size", type=_positive_int, default=64, help="batch size (default: 64)")
    demo.add_argument("--data", default="mnist-sample",
                      help="'mnist-sample' (shipped), 'mnist' (Keras cache) or a path to MNIST files")

    tune = commands.add_parser("tune", help="search autoencoder architectures with keras-tuner")
    tune.add_argument("--data", default="mnist-sample",
                      help="'mnist-sample' (shipped), 'mnist' (Keras cache) or a path to MNIST files")
    tune.add_argument("--tuner", choices=("random", "hyperband", "bayesian"), default="random")
    tune.add_argument("--max-trials", type=_positive_int, default=10, help="trials (random, bayesian; default 10)")
    tune.add_argument("--epochs", type=_positive_int, default=3, help="epochs per trial (hyperband: the most)")
    tune.add_argument("--batch-size", type=_positive_int, default=128)
    tune.add_argument("--samples", type=_positive_int, default=None,
                      help="train on the first N samples and validate on N/4 (default: all)")
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming in --out")
    tune.add_argument("--out", type=Path, default=Path("tfae-tune"), help="output folder (default: tfae-tune)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(args.out, epochs=args.epochs, batch_size=args.batch_size, data=args.data)
        elif args.command == "tune":
            run_tune(args.out, data=args.data, tuner=args.tuner, max_trials=args.max_trials, epochs=args.epochs,
                     batch_size=args.batch_size, samples=args.samples, overwrite=args.overwrite, seed=args.seed)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"tfae {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0
