"""MNIST loaders: the shipped sample, a local path, Keras' cache, then Keras' download."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tfae import _validation
from tfae._memory import aligned_empty
from tfae.datasets._idx import idx_header, read_idx
from tfae.datasets._npy import DataFileError, npz_shapes, read_npz

Split = tuple[np.ndarray, np.ndarray]

SAMPLE_DIR = Path(__file__).parent / "mnist_sample"
_IDX_STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_HOW_TO_PROVIDE = (
    "Provide MNIST in one of these ways: pass `path=` a folder holding the four IDX files "
    "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
    "t10k-labels-idx1-ubyte[.gz]) or a Keras `mnist.npz`; or put `mnist.npz` in Keras' cache "
    "({cache}); or use `tfae.datasets.load_mnist_sample()`, which ships with tfae."
)


def _keras_cache_file() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_folder(folder: Path) -> dict[str, np.ndarray] | None:
    found = {key: _find_idx(folder, stem) for key, stem in _IDX_STEMS.items()}
    if not any(found.values()):
        return None
    missing = [_IDX_STEMS[key] for key, file in found.items() if file is None]
    if missing:
        raise FileNotFoundError(
            f"The MNIST folder '{folder}' lacks {', '.join(missing)} (gzipped or not)."
        )
    _check_shapes({key: idx_header(file)[0] for key, file in found.items()}, f"'{folder}'")
    return {key: read_idx(file) for key, file in found.items()}


def _read_npz(file: Path) -> dict[str, np.ndarray]:
    shapes = npz_shapes(file)
    missing = [key for key in _IDX_STEMS if key not in shapes]
    if missing:
        raise DataFileError(
            f"Cannot read '{file}' as a Keras mnist.npz: it lacks the array(s) {missing} "
            f"(expected x_train, y_train, x_test, y_test; it holds {sorted(shapes)})"
        )
    _check_shapes({key: shapes[key][0] for key in _IDX_STEMS}, f"'{file}'")
    return read_npz(file, list(_IDX_STEMS))


def _read_path(path: Path) -> dict[str, np.ndarray]:
    if path.is_file():
        return _read_npz(path)
    if path.is_dir():
        arrays = _read_idx_folder(path)
        if arrays is not None:
            return arrays
        if (path / "mnist.npz").is_file():
            return _read_npz(path / "mnist.npz")
        raise FileNotFoundError(
            f"No MNIST files in '{path}'. " + _HOW_TO_PROVIDE.format(cache=_keras_cache_file())
        )
    raise FileNotFoundError(
        f"Expected `path` to be an MNIST folder or .npz file. Received: path='{path}', which "
        "does not exist."
    )


def _check_shapes(shapes: dict[str, tuple[int, ...]], source: str) -> None:
    """Images `(n, 28, 28)` and labels `(n,)` for each split: checked on headers, before any payload is read."""
    for split in ("train", "test"):
        images, labels = tuple(shapes[f"x_{split}"]), tuple(shapes[f"y_{split}"])
        if len(images) != 3 or images[1:] != (28, 28) or labels != images[:1]:
            raise DataFileError(
                f"Expected MNIST {split} images of shape (n, 28, 28) and labels of shape (n,) "
                f"in {source}. Received: images {images}, labels {labels}"
            )


def _images(raw: np.ndarray, *, normalize: bool, what: str) -> np.ndarray:
    """Pixels as uint8 0-255 or float32 [0, 1]; float images keep their values, anything unclear is refused."""
    if raw.dtype.kind in "ui":
        if raw.size and (raw.min() < 0 or raw.max() > 255):
            raise DataFileError(
                f"Expected {what} pixel values in 0..255. Received: {raw.dtype} values from "
                f"{raw.min()} to {raw.max()}"
            )
        raw = raw.astype(np.uint8, copy=False)
        if not normalize:
            return raw
        # Aligned, so that TensorFlow trains on it in place (tfae._memory.shareable).
        x = aligned_empty(raw.shape, np.float32)
        np.divide(raw, np.float32(255.0), out=x, dtype=np.float32)
        return x
    if raw.dtype.kind != "f":
        raise DataFileError(f"Expected {what} images of an integer or float dtype. Received: dtype {raw.dtype}")
    if not np.isfinite(raw).all():
        raise DataFileError(f"Expected {what} images to hold finite values. Received: NaN or infinite pixel(s)")
    if normalize and raw.size and (raw.min() < 0 or raw.max() > 1):
        raise DataFileError(
            f"Expected {what} float images in [0, 1] with normalize=True. Received: values from "
            f"{raw.min()} to {raw.max()}; scale them, or pass normalize=False to keep them as they are"
        )
    x = aligned_empty(raw.shape, np.float32)
    x[...] = raw
    return x


def _labels(raw: np.ndarray, *, what: str) -> np.ndarray:
    if raw.dtype.kind not in "ui":
        raise DataFileError(f"Expected {what} labels of an integer dtype. Received: dtype {raw.dtype}")
    bad = (raw < 0) | (raw > 9)
    if bad.any():
        raise DataFileError(
            f"Expected {what} labels that are digits 0..9. Received: {int(bad.sum())} label(s) outside, "
            f"the first {raw[bad][0]} at index {int(np.argmax(bad))}"
        )
    return raw.astype(np.uint8)


def _prepare(arrays: dict[str, np.ndarray], source: str, *, flatten: bool, normalize: bool) -> tuple[Split, Split]:
    splits = []
    for split in ("train", "test"):
        what = f"MNIST {split} ({source})"
        x = _images(arrays[f"x_{split}"], normalize=normalize, what=what)
        x = x.reshape(len(x), 784) if flatten else x.reshape(len(x), 28, 28, 1)
        splits.append((x, _labels(arrays[f"y_{split}"], what=what)))
    return splits[0], splits[1]


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    flatten: bool = True,
    normalize: bool = True,
    download: bool = True,
) -> tuple[Split, Split]:
    """Load the full MNIST data set (60,000 training and 10,000 test digits).

    Sources, in order: `path` when given (and then only `path`); Keras' cache
    (`~/.keras/datasets/mnist.npz`, or under `$KERAS_HOME`); Keras' download,
    when `download=True`. Nothing is downloaded when the data is found locally.

    Args:
        path: a folder with the four standard IDX files (gzipped or not), a
            folder holding `mnist.npz`, or a Keras `mnist.npz` file.
        flatten: return images as `(n, 784)` vectors; `False` gives
            `(n, 28, 28, 1)`.
        normalize: return float32 images in [0, 1]; `False` keeps uint8 0-255.
        download: allow the last-resort download through Keras.

    Returns:
        `(x_train, y_train), (x_test, y_test)`; labels are uint8 digits.

    Raises:
        FileNotFoundError: when no source has the data; the message says how to
            provide it.
        DataFileError: (a `ValueError`) when a file is corrupt or truncated,
            not MNIST-shaped, or holds values that are not pixels or digits:
            integer pixels outside 0..255, NaN or infinite pixels, float
            pixels outside [0, 1] with `normalize=True` (float pixels are
            otherwise kept as they are), labels outside 0..9.

    Example:

    ```python
    # A Keras-format mnist.npz (here made from the shipped sample, as uint8 images and labels):
    (x_train, y_train), (x_test, y_test) = tfae.datasets.load_mnist_sample(flatten=False, normalize=False)
    np.savez("mnist.npz", x_train=x_train.reshape(-1, 28, 28), y_train=y_train,
             x_test=x_test.reshape(-1, 28, 28), y_test=y_test)
    (x_train, y_train), (x_test, y_test) = tfae.datasets.load_mnist("mnist.npz")   # or an IDX folder
    assert x_train.shape == (8000, 784) and x_train.max() <= 1.0
    ```
    """
    if path is not None:
        arrays, source = _read_path(_validation.path(path, "path")), f"'{path}'"
    elif _keras_cache_file().is_file():
        arrays, source = _read_npz(_keras_cache_file()), f"'{_keras_cache_file()}'"
    else:
        if not download:
            raise FileNotFoundError(
                "MNIST is not in Keras' cache and download=False. "
                + _HOW_TO_PROVIDE.format(cache=_keras_cache_file())
            )
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        except Exception as error:  # no network, proxy, server error: all mean "not here"
            raise FileNotFoundError(
                f"MNIST could not be downloaded ({type(error).__name__}: {error}). "
                + _HOW_TO_PROVIDE.format(cache=_keras_cache_file())
            ) from None
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        source = "Keras' download"
        _check_shapes({key: array.shape for key, array in arrays.items()}, source)
    return _prepare(arrays, source, flatten=flatten, normalize=normalize)


def load_mnist_sample(*, flatten: bool = True, normalize: bool = True) -> tuple[Split, Split]:
    """Load the real MNIST sample shipped inside tfae: 8,000 training and 2,000 test digits.

    The first 8,000 training and first 2,000 test images of MNIST (CC BY-SA
    3.0), read from IDX files in the package: works offline, always.

    Args:
        flatten: return images as `(n, 784)` vectors; `False` gives
            `(n, 28, 28, 1)`.
        normalize: return float32 images in [0, 1]; `False` keeps uint8 0-255.

    Returns:
        `(x_train, y_train), (x_test, y_test)`, shaped as `load_mnist` returns.

    Example:

    ```python
    (x_train, y_train), (x_test, y_test) = tfae.datasets.load_mnist_sample()
    assert x_train.shape == (8000, 784) and x_test.shape == (2000, 784)
    ```
    """
    return load_mnist(SAMPLE_DIR, flatten=flatten, normalize=normalize)
