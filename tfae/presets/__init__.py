"""Pretrained models shipped inside the package, in keras-hub's preset layout, loaded offline in safe mode.

A preset is a folder holding `config.json` (the model's Keras config),
`model.weights.h5` and `metadata.json` (what it was trained on, for how
long, its measured losses, tfae and Keras versions, date). The presets that
ship with tfae live beside this module; any folder of that layout works too.
`benchmarks/presets.py` trains the shipped ones on the full MNIST.

>>> tfae.list_presets()
{'mnist_dense': 'The article's 784-256-128-784 autoencoder ...', ...}
>>> ae = tfae.AutoEncoder.from_preset("mnist_dense")
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tfae import _errors, _files

PRESETS = Path(__file__).resolve().parent
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
_FILES = (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE)
# The name prefix the command line takes for a preset wherever it takes a model.
PREFIX = "preset:"


def _is_preset(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() and (folder / WEIGHTS_FILE).is_file()


def list_presets() -> dict[str, str]:
    """The presets shipped with tfae: `{name: one-line description}`, sorted by name.

    Example:

    ```python
    names = tfae.list_presets()                           # {name: description}
    assert "mnist_dense" in names
    ```
    """
    return {folder.name: metadata(folder).get("description", "")
            for folder in sorted(PRESETS.iterdir()) if folder.is_dir() and _is_preset(folder)}


def preset_folder(preset: str | os.PathLike) -> Path:
    """The folder of `preset`: a shipped preset's name, or a path to a preset folder.

    Args:
        preset: a shipped preset's name (`"mnist_dense"` or `"preset:mnist_dense"`) or a preset folder.

    Returns:
        The folder's path.

    Example:

    ```python
    assert (tfae.presets.preset_folder("mnist_dense") / "config.json").is_file()
    ```
    """
    if isinstance(preset, str) and preset.startswith(PREFIX):
        preset = preset[len(PREFIX):]
    if isinstance(preset, (str, os.PathLike)):
        path = Path(preset)
        if str(preset):
            _files.recover_folder(path)  # a save killed between its two renames left it beside
        if _is_preset(path):
            return path
        if isinstance(preset, str) and "/" not in preset and os.sep not in preset and _is_preset(PRESETS / preset):
            return PRESETS / preset
    raise ValueError(
        f"Expected the name of a tfae preset (one of {sorted(list_presets())}) or a folder with {CONFIG_FILE} and "
        f"{WEIGHTS_FILE}. Received: preset={preset!r}"
    )


def metadata(preset: str | os.PathLike) -> dict[str, Any]:
    """The preset's `metadata.json` (an empty dict when it has none).

    Args:
        preset: a shipped preset's name (`"mnist_vae"` or `"preset:mnist_vae"`) or a preset folder.

    Returns:
        The metadata dict.

    Example:

    ```python
    assert "description" in tfae.presets.metadata("mnist_dense")
    ```
    """
    folder = preset if isinstance(preset, Path) and preset.is_dir() else preset_folder(preset)
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"Cannot read the metadata of the preset in '{folder}': {METADATA_FILE}: "
                         f"{_errors.reason(error, typed=True)}") from None


def load_preset(preset: str | os.PathLike, *, expected: type = keras.Model) -> keras.Model:
    """The model of `preset`, rebuilt from its config in Keras' safe mode, with its weights.

    Args:
        preset: a shipped preset's name (`tfae.list_presets()`), optionally
            spelled `"preset:NAME"`, or a preset folder.
        expected: the class the model must be an instance of (a
            `from_preset` classmethod passes its own class).

    Example:

    ```python
    vae = tfae.presets.load_preset("mnist_vae")           # safe mode; the class the preset records
    assert vae.latent_dim == 2
    ```
    """
    from tfae.models._saving import ModelFileError  # tfae.models imports this module

    folder = preset_folder(preset)

    def damaged(file: str, error: BaseException) -> ModelFileError:
        return ModelFileError(f"Cannot load the preset in '{folder}': {file}: {_errors.reason(error, typed=True)}")

    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise damaged(CONFIG_FILE, error) from None
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 - an edited config fails in a dozen ways deep in Keras
        if not _errors.refused_by_safe_mode(error):
            raise damaged(CONFIG_FILE, error) from None
        raise ValueError(f"Cannot load the preset in '{folder}': {_errors.HOLDS_CODE}. A preset always loads in "
                         "safe mode; call keras.config.enable_unsafe_deserialization() first only if you trust "
                         "it") from None
    if not isinstance(model, expected):
        raise ValueError(
            f"Expected a preset of a {expected.__name__}. Received: preset={str(preset)!r}, which holds a "
            f"{type(model).__name__}"
        )
    if not model.built:
        raise ValueError(f"Expected a preset of a built model (one with `input_shape`). Received: preset={preset!r}")
    try:
        model.load_weights(folder / WEIGHTS_FILE)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 - h5py and Keras raise many kinds for a damaged file
        raise damaged(WEIGHTS_FILE, error) from None
    return model


def save_preset(model: keras.Model, path: str | os.PathLike, *, metadata: dict[str, Any] | None = None) -> Path:
    """Write `model` as a preset folder at `path`; returns the folder.

    The folder is written beside `path` and then takes its place, so an
    interrupted save leaves the previous preset whole; an existing folder
    at `path` is replaced only if it holds nothing but a preset's files.

    Args:
        model: a built tfae model.
        path: the preset folder to write.
        metadata: a JSON-serializable dict stored as `metadata.json`.

    Returns:
        The folder's path.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    folder = tfae.presets.save_preset(ae, "my_preset", metadata={"description": "untrained"})
    assert tfae.AutoEncoder.from_preset(folder).latent_dim == 8
    ```
    """
    from tfae import __version__

    if not model.built:
        raise ValueError(f"Expected a built model to save as a preset. Received: model={model.name!r}, not built")
    folder = Path(path)
    info = {
        **(metadata or {}),
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "parameters": int(model.count_params()),
        "tfae_version": __version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "date": datetime.date.today().isoformat(),
    }
    try:
        metadata_text = json.dumps(info, indent=1)
    except (TypeError, ValueError) as error:  # before anything is written
        raise ValueError("Expected `metadata` to be a JSON-serializable dict (str, int, float, bool, None, lists "
                         f"and dicts of them). Received: metadata={metadata!r} ({error})") from None
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)  # architecture and weights only, as keras-hub's presets: compile after loading

    def write(partial: Path) -> None:
        (partial / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")
        _weights_only(model, config).save_weights(partial / WEIGHTS_FILE)
        (partial / METADATA_FILE).write_text(metadata_text, encoding="utf-8")

    _files.write_folder(folder, write, replaceable=lambda old: {p.name for p in old.iterdir()} <= set(_FILES))
    return folder


def _weights_only(model: keras.Model, config: dict[str, Any]) -> keras.Model:
    """`model`, or for a compiled one an uncompiled twin with its state: Keras' weights file would hold the optimizer's."""
    if getattr(model, "optimizer", None) is None:
        return model
    twin = keras.saving.deserialize_keras_object(config)
    if len(twin.variables) != len(model.variables):
        raise ValueError(f"Expected the model to rebuild from its config. Received: model={model.name!r}, whose "
                         f"config rebuilds {len(twin.variables)} variables instead of {len(model.variables)}")
    for target, source in zip(twin.variables, model.variables):
        target.assign(source)
    return twin


def measure(model: keras.Model, x: np.ndarray, *, noise_level: float | None = None, seed: int = 0,
            batch_size: int = 500) -> dict[str, float]:
    """What a preset's metadata records for test digits `x` (float32 in [0, 1], any shape).

    `bce` and `mse`: mean binary cross-entropy and squared error of
    `model.reconstruct` against `x`, per pixel; with `noise_level`, of the
    reconstructions of `x` plus Gaussian noise (numpy, `seed`) clipped to
    [0, 1] (a denoiser's task). For a model with a KL term, `loss`: its
    `evaluate` loss (the negative ELBO in nats).

    Args:
        model: a compiled tfae autoencoder.
        x: the test digits.
        noise_level: the standard deviation of the noise added first, if any.
        seed: the noise's seed.
        batch_size: the batch size of the passes.

    Returns:
        `{"bce": ..., "mse": ...}`, and `"loss"` for a model with a KL term.

    Example:

    ```python
    ae = tfae.AutoEncoder.from_preset("mnist_dense")
    ae.compile()
    scores = tfae.presets.measure(ae, x_test)             # {"bce": ..., "mse": ...}
    assert scores["bce"] < 0.2
    ```
    """
    x = np.asarray(x, np.float32).reshape((-1,) + tuple(model.sample_shape))
    inputs = x
    if noise_level is not None:
        noise = np.random.default_rng(seed).standard_normal(x.shape).astype(np.float32)
        inputs = np.clip(x + noise_level * noise, 0.0, 1.0)
    p = np.clip(model.reconstruct(inputs, batch_size=batch_size).astype(np.float64), 1e-7, 1 - 1e-7)
    result = {"bce": float(-np.mean(x * np.log(p) + (1 - x) * np.log(1 - p))), "mse": float(np.mean((x - p) ** 2))}
    if hasattr(model, "encode_distribution"):
        if not model.compiled:
            model.compile()
        result["loss"] = float(model.evaluate(x, batch_size=batch_size, verbose=0, return_dict=True)["loss"])
    return result


__all__ = ["list_presets", "load_preset", "measure", "metadata", "preset_folder", "save_preset"]
