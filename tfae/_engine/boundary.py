"""What `fit` and `evaluate` accept: arrays checked up front, with Keras-style messages.

Datasets, generators, `PyDataset`s, dicts and backend tensors pass through
untouched (Keras checks them as it reads them). Arrays are checked here, once,
before any training: their shapes, finiteness (stricter than Keras: a NaN
input is refused rather than trained on), matching lengths of inputs,
targets and sample weights, and, for the cross-entropy losses, that the
targets lie in [0, 1].
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from tfae import _validation, losses
from tfae.losses import SigmoidCrossEntropy

_VALIDATION_NAMES = ("validation_data[0]", "validation_data[1]", "validation_data[2]")
_UNIT_TARGET_LOSSES = ("sigmoid_cross_entropy", "binary_crossentropy", "bce")


def _needs_unit_targets(loss: Any) -> bool:
    """Whether `loss` is a binary cross-entropy, meaningless for targets outside [0, 1]."""
    loss = losses._single_loss(loss)
    if isinstance(loss, str):
        return loss in _UNIT_TARGET_LOSSES
    return isinstance(loss, (SigmoidCrossEntropy, keras.losses.BinaryCrossentropy)) or (
        loss is keras.losses.binary_crossentropy
    )


def _passes_through(x: Any) -> bool:
    return (
        x is None
        or _validation.is_dataset(x)
        or _validation.is_backend_tensor(x)
        or isinstance(x, (dict, keras.utils.PyDataset))
        or callable(getattr(x, "__next__", None))
    )


def _array(x: Any, name: str, feature_shape) -> Any:
    if isinstance(x, dict):  # inputs by name, as Keras takes them: each checked as an array
        if not x:
            raise ValueError(f"Expected `{name}` as a dict to map input names to arrays. Received: {name}={{}}")
        return {key: _validation.as_float_array(value, name=f"{name}[{key!r}]", feature_shape=feature_shape)
                for key, value in x.items()}
    return x if _passes_through(x) else _validation.as_float_array(x, name=name, feature_shape=feature_shape)


def _weights(sample_weight: Any, name: str) -> Any:
    if sample_weight is None or _validation.is_backend_tensor(sample_weight):
        return sample_weight
    if _passes_through(sample_weight):  # a dict, a data set, a generator: weights come with the data then
        raise ValueError(f"Expected `{name}` to be an array of one weight per sample, or None. "
                         f"Received: {name} of type {type(sample_weight).__name__}")
    weights = _validation.numeric_array(sample_weight, name)
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.ndim != 1:  # numeric_array has checked the dtype
        raise ValueError(
            f"Expected `{name}` to be a 1-D array of numbers, one weight per sample. "
            f"Received: {name} with shape {weights.shape} and dtype {weights.dtype}"
        )
    weights = weights.astype(np.float32)
    if not np.isfinite(weights).all():
        raise ValueError(f"Expected `{name}` to hold finite values only. Received: {name} with NaN or infinite values")
    return weights


def _check_lengths(named: dict[str, Any]) -> None:
    arrays = {name: value for name, value in named.items() if isinstance(value, np.ndarray)}
    lengths = {name: len(value) for name, value in arrays.items()}
    if len(set(lengths.values())) > 1:
        received = ", ".join(f"len({name})={length}" for name, length in lengths.items())
        raise ValueError(
            f"Expected {', '.join(f'`{name}`' for name in lengths)} to hold the same number of samples. "
            f"Received: {received}"
        )


def _check_unit_targets(targets: Any, name: str, original: Any) -> None:
    """Refuse float `targets` outside [0, 1], naming the dtype of `original` (or theirs, if it has none)."""
    if not isinstance(targets, np.ndarray):
        return
    low, high = _validation.value_range(targets)
    if low < 0.0 or high > 1.0:
        dtype = getattr(original, "dtype", targets.dtype)
        raise ValueError(
            "Expected targets in [0, 1] for the binary cross-entropy loss. "
            f"Received: {name} with values in [{low:g}, {high:g}] (dtype {dtype}). "
            "Scale images to [0, 1] first (for example `x / 255`, or "
            "`tfae.datasets.load_mnist(normalize=True)`), or use another loss such as `loss=\"mse\"`."
        )


def check_unit_targets(loss: Any, targets: Any, name: str, original: Any = None) -> None:
    """Refuse targets outside [0, 1] for a binary cross-entropy `loss`: its values there mean nothing.

    `original` is what the user passed (its dtype goes into the message); `targets` its float array.
    """
    if _needs_unit_targets(loss):
        _check_unit_targets(targets, name, original)


def pack(x: Any, y: Any, sample_weight: Any) -> Any:
    """One data set in Keras' form: `x`, `(x, y)` or `(x, y, sample_weight)`, with `y is None` meaning `x`.

    With sample weights the targets are spelled out: Keras drops sample
    weights that come without targets.
    """
    if sample_weight is not None:
        return (x, x if y is None else y, sample_weight)
    return x if y is None else (x, y)


def keras_targets(x: Any, y: Any, sample_weight: Any, class_weight: Any = None) -> Any:
    """The `y` to hand Keras' own `fit`/`evaluate` for `(x, y, sample_weight)`; see `pack`.

    Keras drops sample weights without targets and fails on class weights
    without them, so with either the targets `x` are spelled out.
    """
    if y is None and (sample_weight is not None or class_weight is not None) and not _validation.is_dataset(x):
        return x
    return y


def check_data(model: keras.Model, x: Any, y: Any, sample_weight: Any, *, feature_shape,
               names: tuple[str, str, str] = ("x", "y", "sample_weight")):
    """`(x, y, sample_weight)` checked as one data set; `y is None` means the targets are `x`."""
    names = dict(zip(("x", "y", "sample_weight"), names))
    if x is None:  # Keras' own fit fails on it with a KeyError deep in its array adapter
        raise ValueError(f"Expected `{names['x']}` to be the data: an array, a tf.data.Dataset, a "
                         f"keras.utils.PyDataset or a generator. Received: {names['x']}=None")
    checked_x = _array(x, names["x"], feature_shape)
    if y is not None and not _validation.is_backend_tensor(y) and _passes_through(y):
        raise ValueError(f"Expected `{names['y']}` to be an array of targets or None (a data set, generator or "
                         f"dict in `{names['x']}` brings its own). Received: {names['y']} of type {type(y).__name__}")
    checked_y = _array(y, names["y"], feature_shape)
    if y is x:
        checked_y = None  # the default target: one copy of the data, not two
    weights = _weights(sample_weight, names["sample_weight"])
    _check_lengths({names["x"]: checked_x, names["y"]: checked_y, names["sample_weight"]: weights})
    if model.compiled:
        if checked_y is None:
            check_unit_targets(model.loss, checked_x, names["x"], x)
        else:
            check_unit_targets(model.loss, checked_y, names["y"], y)
    return checked_x, checked_y, weights


def check_validation_data(model: keras.Model, validation_data: Any, *, feature_shape) -> Any:
    """Keras' `validation_data`, with inputs alone accepted (`x_val` or `(x_val,)`) and arrays checked."""
    if isinstance(validation_data, tuple) and len(validation_data) == 1:
        validation_data = validation_data[0]  # Keras' spelling of "inputs only"
    if validation_data is None or _validation.is_dataset(validation_data):
        return validation_data
    if isinstance(validation_data, tuple) and len(validation_data) not in (2, 3):
        raise ValueError("Expected `validation_data` to be the inputs `x_val`, or a tuple `(x_val,)`, `(x_val, y_val)` "
                         f"or `(x_val, y_val, sample_weight)`. Received: validation_data, a tuple of "
                         f"{len(validation_data)} items")
    if isinstance(validation_data, list) and len(validation_data) in (2, 3):
        validation_data = tuple(validation_data)  # as Keras reads it: (x, y[, sample_weight])
    if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
        parts = tuple(validation_data) + (None,) * (3 - len(validation_data))
        x, y, weights = check_data(model, *parts, feature_shape=feature_shape, names=_VALIDATION_NAMES)
    else:
        x, y, weights = check_data(model, validation_data, None, None, feature_shape=feature_shape,
                                   names=("validation_data", "validation_data", "validation_data"))
    return pack(x, y, weights)
