"""Atomic `save` / `save_weights` for tfae's models: a crash mid-save never destroys the previous file.

Keras writes `.keras` and `.weights.h5` files in place, so a process killed
while saving (by the user, the OOM killer, a pre-empted VM) leaves a stub
where the last good model was, and `ModelCheckpoint` saves through the same
calls. Here Keras writes a hidden file beside the target, which then replaces
the target in one rename (`tfae._files`); a partial file a killed save left
behind is removed by the next save of the same target.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras

from tfae import _errors, _files


def _local_file(filepath) -> Path | None:
    """`filepath` as a local path, or None where Keras' own writing must stand (remote or file objects)."""
    if not isinstance(filepath, (str, os.PathLike)) or "://" in str(filepath):
        return None
    return Path(filepath)


class AtomicSaving:
    """`keras.Model.save` and `save_weights`, written beside the target and moved into place."""

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        path = _local_file(filepath)
        if path is None or zipped is False or path.suffix != ".keras" or (path.exists() and not overwrite):
            return super().save(filepath, overwrite=overwrite, zipped=zipped, **kwargs)  # Keras' own cases
        _files.write_file(path, lambda partial: super(AtomicSaving, self).save(partial, overwrite=True,
                                                                             zipped=zipped, **kwargs))

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        path = _local_file(filepath)
        if (path is None or max_shard_size is not None or not path.name.endswith(".weights.h5")
                or (path.exists() and not overwrite)):
            return super().save_weights(filepath, overwrite=overwrite, max_shard_size=max_shard_size)
        _files.write_file(path, lambda partial: super(AtomicSaving, self).save_weights(partial, overwrite=True))


@contextlib.contextmanager
def portable_optimizers(custom_objects: dict | None = None) -> Iterator[None]:
    """Within it, an optimizer another backend's Keras recorded in a `.keras` file loads as Keras' public one.

    Keras' PyTorch backend records its own optimizer classes (module
    `keras.src.backend.torch.optimizers.torch_adam`, registered name "Adam"):
    loaded on TensorFlow or JAX, that class is PyTorch's, and `fit` fails in
    it. Here each such name resolves to `keras.optimizers.<name>`, which
    every backend builds its own way. Names in `custom_objects` are the user's.
    """
    public = {name: value for name, value in vars(keras.optimizers).items()
              if isinstance(value, type) and issubclass(value, keras.optimizers.Optimizer)
              and name not in (custom_objects or {})}
    with keras.saving.custom_object_scope(public):
        yield


# The module Keras records for a backend's own optimizer class, e.g. `keras.src.backend.torch.optimizers.torch_adam`.
_BACKEND_OPTIMIZER = re.compile(r"keras\.src\.backend\.\w+\.optimizers(\.|$)")


def portable_config(config: Any) -> Any:
    """`config` (a serialized object) with each backend's own optimizer class named as Keras' public one.

    Only entries whose module is a Keras backend's optimizers change (see
    `portable_optimizers`); a user's class, even one named `Adam`, keeps its
    own module and loads from `custom_objects` as in Keras.
    """
    if isinstance(config, list):
        return [portable_config(value) for value in config]
    if not isinstance(config, dict):
        return config
    config = {key: portable_config(value) for key, value in config.items()}
    module, name = config.get("module"), config.get("class_name")
    if (isinstance(module, str) and _BACKEND_OPTIMIZER.match(module) and isinstance(name, str)
            and isinstance(getattr(keras.optimizers, name, None), type)):
        config.update(module="keras.optimizers", registered_name=None)
    return config


def deserialize_compile_config(config: dict[str, Any]) -> dict[str, Any]:
    """A saved compile config as `compile`'s arguments, whichever backend wrote it."""
    return keras.saving.deserialize_keras_object(portable_config(config))


class ModelFileError(ValueError):
    """A `.keras` file cannot be loaded: damaged, not a Keras model, or refused by safe mode.

    Example:

    ```python
    with open("broken.keras", "wb") as file:
        file.write(b"PK not really a zip")
    try:
        tfae.load_model("broken.keras")
    except tfae.ModelFileError as error:
        print(error)                                      # names the file and what is wrong
    ```
    """


def load_model(filepath: str | os.PathLike, *, safe_mode: bool = True, custom_objects: dict | None = None):
    """Load a `.keras` file (any Keras model, tfae's or not), in Keras' safe mode unless told otherwise.

    Safe mode refuses a file that would run code when loaded (a `Lambda`
    layer's bytecode): pass `safe_mode=False` only for files you trust.
    Any failure is one `ModelFileError` naming the file, whatever deep Keras,
    zip or HDF5 error caused it.

    Args:
        filepath: the `.keras` file.
        safe_mode: refuse files that carry code (Keras' `safe_mode`).
        custom_objects: classes or functions the file names that are not
            registered Keras objects, as in `keras.saving.load_model`.

    Returns:
        The model, as `keras.saving.load_model` returns it (a tfae model is
        its own class again).

    Raises:
        FileNotFoundError: when there is no such file.
        ModelFileError: (a `ValueError`) when the file cannot be loaded.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    ae.save("ae.keras")
    same = tfae.load_model("ae.keras")
    assert isinstance(same, tfae.AutoEncoder)
    ```
    """
    import keras

    from tfae import _validation

    path = _validation.path(filepath, "filepath")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix != ".keras":
        raise ModelFileError(f"Expected a `.keras` file. Received: filepath='{path}'")
    try:
        with portable_optimizers(custom_objects):
            return keras.saving.load_model(path, safe_mode=safe_mode, custom_objects=custom_objects)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 - Keras, zipfile and h5py raise a dozen kinds for a bad file
        message = _errors.reason(error, typed=True)
        if _errors.refused_by_safe_mode(error):
            message = f"{_errors.HOLDS_CODE}; pass safe_mode=False only if you trust the file"
        raise ModelFileError(f"Cannot load the model in '{path}': {message}") from None
