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


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:  # numpy's and keras-tuner's range
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 2**32 - 1, received {text!r}")
    return value


def _folder(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"expected a folder to write into, received {text!r}, an existing file")
    return path


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
    # numpy-only pixels, so the demo needs no matplotlib on a bare install
    tiles = tfae.plotting.reconstruction_tiles(x_test[:10], model.reconstruct(x_test[:10]), scale=2)
    tfae.plotting.write_png(out / "reconstructions.png", tiles)
    (out / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"test BCE: {results['test_bce']:.4f}   test MSE: {results['test_mse']:.4f}   ({seconds:.1f} s)")
    print(f"wrote {out / 'model.keras'}, {out / 'reconstructions.png'} and {out / 'metrics.json'}")
    return results


def build_model(kind: str, *, input_shape: tuple[int, ...], latent_dim: int, hidden_units: tuple[int, ...]):
    """The model `tfae train --model KIND` trains."""
    import tfae

    images = input_shape if len(input_shape) == 3 else (28, 28, 1)
    if kind == "dense":
        return tfae.AutoEncoder(input_shape=input_shape, latent_dim=latent_dim, hidden_units=hidden_units)
    if kind == "denoising":
        return tfae.AutoEncoder(input_shape=input_shape, latent_dim=latent_dim, hidden_units=hidden_units,
                                noise="gaussian", noise_level=0.3)
    if kind == "conv":
        return tfae.AutoEncoder(tfae.ConvEncoder(latent_dim), tfae.ConvDecoder(images), input_shape=images)
    if kind == "vae":
        return tfae.VariationalAutoEncoder(input_shape=input_shape, latent_dim=latent_dim, hidden_units=hidden_units)
    if kind == "aae":
        return tfae.AdversarialAutoEncoder(input_shape=input_shape, latent_dim=latent_dim, hidden_units=hidden_units)
    raise ValueError(f"Expected --model to be one of {MODEL_KINDS}. Received: model={kind!r}")


MODEL_KINDS = ("dense", "denoising", "conv", "vae", "aae")


STRATEGIES = ("none", "mirrored", "multiworker")


def run_train(out: Path, *, data: str, kind: str, latent_dim: int, hidden_units: tuple[int, ...], epochs: int,
              batch_size: int, resume: bool, verbose: int = 1, strategy: str = "none",
              seed: int | None = 0) -> dict:
    """Train a model of the family on MNIST; write `model.keras`, `history.json` and its pictures to `out`.

    `seed` seeds the weights, the shuffled orders and the noise (`keras.utils.set_random_seed`): the same seed
    trains the same model, and a run resumed with `resume` ends as if it had not been stopped. None: unseeded.

    `strategy`: "mirrored" trains on every local device (`tf.distribute.MirroredStrategy`, TensorFlow
    backend); "multiworker" joins the job Keras' KERAS_DISTRIBUTION_* variables describe (JAX backend,
    `tfae.distribute`): `batch_size` is then the global batch, and worker 0 writes the files.
    """
    import contextlib

    import keras

    import tfae

    if strategy == "multiworker":
        tfae.distribute.multiworker()  # before JAX starts: first
    if seed is not None:
        keras.utils.set_random_seed(seed)
    (x_train, _), (x_test, y_test) = _load_data(data)
    scope = contextlib.nullcontext()
    if strategy == "mirrored":
        if keras.backend.backend() != "tensorflow":
            raise ValueError("Expected the TensorFlow backend for --strategy mirrored (on JAX, use multiworker "
                             f"or keras.distribution). Received: backend {keras.backend.backend()!r}")
        import tensorflow as tf

        scope = tf.distribute.MirroredStrategy().scope()
    with scope:
        model = build_model(kind, input_shape=(784,), latent_dim=latent_dim, hidden_units=hidden_units)
        model.compile()
    x_train = x_train.reshape((-1,) + model.sample_shape)
    x_test = x_test.reshape((-1,) + model.sample_shape)
    local_batch = batch_size
    if strategy == "multiworker":
        workers = tfae.distribute.num_workers()
        keep = len(x_train) - (len(x_train) % batch_size) % workers  # the last global batch must split evenly
        x_train = tfae.distribute.worker_share(x_train[:keep], global_batch_size=batch_size)
        local_batch = batch_size // workers
    chief = tfae.distribute.is_chief()
    if chief:
        out.mkdir(parents=True, exist_ok=True)
    # With --resume an interrupted run continues from its last finished epoch; without, it starts afresh.
    backup = tfae.callbacks.BackupAndRestore(out / "backup")
    if chief and not resume and (out / "backup").exists():
        from tfae.callbacks import _check_backup_dir

        _check_backup_dir(out / "backup")  # only a backup is deleted, never a folder of the user's
        import shutil

        shutil.rmtree(out / "backup")
    start = time.perf_counter()
    model.fit(x_train, epochs=epochs, batch_size=local_batch, validation_data=x_test, verbose=verbose,
              callbacks=[backup])
    seconds = time.perf_counter() - start
    history = backup.history  # every epoch's logs, those run before a --resume included
    if not chief:  # saving is collective: every worker runs it; worker 0's files are kept
        with tfae.distribute.scratch_folder() as scratch:
            model.save(scratch / "model.keras")
        return {name: values[-1] for name, values in history.items()}
    model.save(out / "model.keras")
    (out / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    write_pictures(model, x_test[:2000], y_test[:2000], out, history=history, command="train")
    last = {name: values[-1] for name, values in history.items()}
    print(f"{kind}: {epochs} epoch(s) in {seconds:.1f} s, " + ", ".join(f"{k} {v:.4f}" for k, v in last.items())
          + f" -> {out}")
    return last


def _units(text: str) -> tuple[int, ...]:
    """`256,128` as `(256, 128)`; an empty text, no hidden layers."""
    try:
        units = tuple(int(part) for part in text.split(",")) if text.strip() else ()
    except ValueError:
        units = (0,)
    if any(unit <= 0 for unit in units):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, received {text!r}")
    return units


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


def _names_preset(spec: str) -> bool:
    from tfae import presets

    return spec.startswith(presets.PREFIX) or (Path(spec) / presets.CONFIG_FILE).is_file()


def load_model(spec: str):
    """The model a command names: `preset:NAME`, a preset folder, or a `.keras` file (Keras' safe mode)."""
    from tfae import presets
    from tfae.models._saving import load_model

    path = Path(spec)
    if _names_preset(spec):
        return presets.load_preset(spec)
    if path.suffix == ".keras" and path.is_file():
        return load_model(path)
    raise ValueError(f"Expected 'preset:NAME' (one of {sorted(presets.list_presets())}), a preset folder or a "
                     f".keras file. Received: model={spec!r}")


def read_array(path: Path):
    """An array from `.npy`, `.npz` (its only array, or `x`), an IDX file (`.gz` or plain) or a folder of images
    (`tfae.datasets.load_images`: grayscale, sorted by name); uint8 scaled to [0, 1]."""
    import numpy as np

    from tfae import datasets
    from tfae.datasets._npy import npz_shapes, read_npy, read_npz

    if path.is_dir():
        return datasets.load_images(path)[0]
    if not path.is_file():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.suffix == ".npy":
        array = read_npy(path)
    elif path.suffix == ".npz":
        names = list(npz_shapes(path))
        if len(names) != 1 and "x" not in names:
            raise ValueError(f"Expected an .npz with one array or an array named 'x'. Received: {path} with {names}")
        name = "x" if "x" in names else names[0]
        array = read_npz(path, [name])[name]
    else:
        array = datasets.read_idx(path)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    return array


def run_transform(command: str, spec: str, source: Path, target: Path, *, batch_size: int) -> tuple[int, ...]:
    """`encode`, `decode` or `reconstruct` an array file with a model; writes `.npy`; returns the output shape."""
    import numpy as np

    from tfae import _files

    if target.suffix != ".npy" or target.is_dir():  # numpy would write `target + ".npy"` instead
        raise ValueError(f"Expected `--output` to be a .npy file to write. Received: --output {str(target)!r}"
                         + (", a folder" if target.is_dir() else ""))
    model = load_model(spec)
    if not hasattr(model, command):
        raise ValueError(f"Expected a model with `{command}` (an autoencoder). Received: {type(model).__name__}")
    x = read_array(source)
    sample_shape = tuple(model.sample_shape) if command != "decode" else (model.latent_dim,)
    if x.ndim >= 2 and x.shape[1:] != sample_shape and int(np.prod(x.shape[1:])) == int(np.prod(sample_shape)):
        x = x.reshape((-1,) + sample_shape)  # images (n, 28, 28[, 1]) for a flat model, or flat for a conv one
    result = getattr(model, command)(x, batch_size=batch_size)
    _files.write_file(target, lambda partial: np.save(partial, np.asarray(result)))  # whole, or not at all
    print(f"{command}: {source} -> {target} {tuple(result.shape)}")
    return tuple(result.shape)


def run_plot(spec: str, *, data: str, out: Path, samples: int) -> list[Path]:
    """The pictures of a model: reconstructions, codes of labelled test digits, samples if it generates."""
    model = load_model(spec)
    if not hasattr(model, "reconstruct"):
        raise ValueError(f"Expected an autoencoder to plot (a model with `reconstruct`). Received: model={spec!r}, "
                         f"a {type(model).__name__}")
    _, (x_test, y_test) = _load_data(data)
    x_test = x_test[:samples].reshape((-1,) + tuple(model.sample_shape))
    out.mkdir(parents=True, exist_ok=True)
    written = write_pictures(model, x_test, y_test[:samples], out, command="plot")
    print("wrote " + ", ".join(str(path) for path in written))
    return written


def write_pictures(model, x, labels, out: Path, *, history=None, command: str) -> list[Path]:
    """Reconstructions, latent space, loss curves (with `history`), samples and the 2-d manifold where they apply.

    Without matplotlib only `reconstructions.png` (numpy-drawn) is written, and a note says what was skipped.
    """
    from tfae import plotting

    shown = min(10, len(x))
    written = [out / "reconstructions.png"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        plotting.write_png(written[0], plotting.reconstruction_tiles(x[:shown], model.reconstruct(x[:shown]), scale=2))
        print(f"tfae {command}: note: latent and loss pictures need matplotlib: pip install 'tfae[plot]'",
              file=sys.stderr)
        return written
    import matplotlib.pyplot as plt

    figures = [plotting.reconstruction_grid(x[:shown], model.reconstruct(x[:shown]), path=written[0])]
    written.append(out / "latent.png")
    figures.append(plotting.latent_scatter(model.encode(x), labels, path=written[-1]))
    if history is not None:
        written.append(out / "loss.png")
        figures.append(plotting.loss_curves(history, path=written[-1]))
    if hasattr(model, "sample"):
        written.append(out / "samples.png")
        figures.append(plotting.sample_grid(model, n=40, path=written[-1]))
    if getattr(model, "latent_dim", None) == 2:
        written.append(out / "manifold.png")
        figures.append(plotting.latent_manifold(model, path=written[-1]))
    for figure in figures:
        plt.close(figure)
    return written


def run_info(spec: str) -> dict:
    """Describe a model: class, shapes, parameters, its layers, a preset's metadata, a run's history summary."""
    from tfae import presets

    model = load_model(spec)
    info = {"model": spec, "class": type(model).__name__, "name": model.name,
            "input_shape": list(model.sample_shape) if getattr(model, "sample_shape", None) else None,
            "latent_dim": getattr(model, "latent_dim", None),
            "parameters": int(model.count_params())}
    info["layers"] = [{"name": layer.name, "class": type(layer).__name__, "parameters": int(layer.count_params())}
                      for layer in model.layers]
    if _names_preset(spec):
        info["metadata"] = presets.metadata(spec)
    history_file = Path(spec).parent / "history.json"  # written beside model.keras by `tfae train`
    if Path(spec).suffix == ".keras" and history_file.is_file():
        history = json.loads(history_file.read_text())
        info["history"] = {"epochs": max((len(v) for v in history.values()), default=0),
                           **{f"last_{name}": values[-1] for name, values in history.items() if values}}
    print(json.dumps(info, indent=1))
    return info


def run_presets() -> dict:
    from tfae import presets

    listed = presets.list_presets()
    for name, description in listed.items():
        print(f"{presets.PREFIX}{name:<20} {description}")
    return listed


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default; required options and flags say none."""

    def _get_help_string(self, action):
        if action.required or isinstance(action, (argparse._StoreTrueAction, argparse._VersionAction,
                                                  argparse._HelpAction)):
            return action.help
        return super()._get_help_string(action)


_DATA_HELP = "'mnist-sample' (shipped), 'mnist' (Keras cache) or a folder with MNIST IDX files or mnist.npz"
_MODEL_HELP = "'preset:NAME', a preset folder or a .keras file (loaded in Keras' safe mode)"


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported in one line (and status 2) instead of the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    from tfae._version import __version__

    parser = _Parser(
        prog="tfae", description="Autoencoders for Keras 3. TensorFlow's start-up log lines are hidden unless "
        "TF_CPP_MIN_LOG_LEVEL=0.")
    parser.add_argument("--version", action="version", version=f"tfae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=description, description=description, formatter_class=_HelpFormatter)

    demo = command("demo", "train the article's autoencoder on the shipped MNIST sample")
    demo.add_argument("--out", type=_folder, default=Path("tfae-demo"), help="output folder")
    demo.add_argument("--epochs", type=_positive_int, default=10, help="training epochs")
    demo.add_argument("--batch-size", type=_positive_int, default=64, help="batch size")
    demo.add_argument("--data", default="mnist-sample", help=_DATA_HELP)

    train = command("train", "train a model of the family on MNIST and write its pictures")
    train.add_argument("--data", default="mnist-sample", help=_DATA_HELP)
    train.add_argument("--model", choices=MODEL_KINDS, default="dense", help="which model")
    train.add_argument("--latent-dim", type=_positive_int, default=32, help="size of the code")
    train.add_argument("--hidden-units", type=_units, default=(256,), help="hidden units, e.g. 256,128 ('' for none)")
    train.add_argument("--epochs", type=_positive_int, default=10, help="training epochs")
    train.add_argument("--batch-size", type=_positive_int, default=128, help="batch size")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    train.add_argument("--seed", type=_seed, default=0,
                       help="seeds the weights, shuffling and noise: the same seed trains the same model")
    train.add_argument("--strategy", choices=STRATEGIES, default="none",
                       help="mirrored: every local device (TensorFlow); multiworker: the job in the "
                            "KERAS_DISTRIBUTION_* variables (KERAS_BACKEND=jax; --batch-size is global)")
    train.add_argument("--out", type=_folder, default=Path("tfae-train"), help="output folder")

    tune = command("tune", "search autoencoder architectures with keras-tuner")
    tune.add_argument("--data", default="mnist-sample", help=_DATA_HELP)
    tune.add_argument("--tuner", choices=("random", "hyperband", "bayesian"), default="random", help="search method")
    tune.add_argument("--max-trials", type=_positive_int, default=10, help="trials (random, bayesian)")
    tune.add_argument("--epochs", type=_positive_int, default=3, help="epochs per trial (hyperband: the most)")
    tune.add_argument("--batch-size", type=_positive_int, default=128, help="batch size")
    tune.add_argument("--samples", type=_positive_int, default=None,
                      help="train on the first N samples and validate on N/4 (None: all)")
    tune.add_argument("--seed", type=_seed, default=0, help="the tuner's random seed")
    tune.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming in --out")
    tune.add_argument("--out", type=_folder, default=Path("tfae-tune"), help="output folder")

    for name, what in (("encode", "samples to codes"), ("decode", "codes to samples"),
                       ("reconstruct", "samples to reconstructions")):
        sub = command(name, f"{what}: an .npy/.npz/IDX file or an image folder in, an .npy file out")
        sub.add_argument("--model", required=True, help=_MODEL_HELP)
        sub.add_argument("--input", type=Path, required=True,
                         help=".npy, .npz or IDX (.gz) file, or a folder of PNG/JPEG images (rows in name order)")
        sub.add_argument("--output", type=Path, required=True, help=".npy file to write")
        sub.add_argument("--batch-size", type=_positive_int, default=256, help="batch size")

    plot = command("plot", "reconstructions, latent space, samples and manifold of a model, as PNG")
    plot.add_argument("--model", required=True, help=_MODEL_HELP)
    plot.add_argument("--data", default="mnist-sample", help=_DATA_HELP)
    plot.add_argument("--samples", type=_positive_int, default=2000, help="test digits to plot")
    plot.add_argument("--out", type=_folder, default=Path("tfae-plots"), help="output folder")

    command("presets", "list the pretrained models shipped with tfae")
    info = command("info", "describe a model: class, shapes, parameters, layers, preset metadata, history")
    info.add_argument("model", help=_MODEL_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(args.out, epochs=args.epochs, batch_size=args.batch_size, data=args.data)
        elif args.command == "train":
            run_train(args.out, data=args.data, kind=args.model, latent_dim=args.latent_dim,
                      hidden_units=args.hidden_units, epochs=args.epochs, batch_size=args.batch_size,
                      resume=args.resume, strategy=args.strategy, seed=args.seed)
        elif args.command == "tune":
            run_tune(args.out, data=args.data, tuner=args.tuner, max_trials=args.max_trials, epochs=args.epochs,
                     batch_size=args.batch_size, samples=args.samples, overwrite=args.overwrite, seed=args.seed)
        elif args.command in ("encode", "decode", "reconstruct"):
            run_transform(args.command, args.model, args.input, args.output, batch_size=args.batch_size)
        elif args.command == "plot":
            run_plot(args.model, data=args.data, out=args.out, samples=args.samples)
        elif args.command == "presets":
            run_presets()
        elif args.command == "info":
            run_info(args.model)
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as error:
        print(f"tfae {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tfae {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
