"""Argument and array checks shared by every tfae module.

Every message follows the Keras convention: say what was expected, then
``Received: name=value``, so the user sees which argument is wrong without
reading a backend stack trace. This module imports numpy and keras only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

# No size, count or batch is larger: TensorFlow indexes tensors with int32 in many kernels, and no
# such size fits in memory anyway. Refusing it up front beats an out-of-memory trace from a backend.
MAX_SIZE = 2**31 - 1
# No seed is larger: Keras keeps a seed generator's state as int32 on PyTorch (uint32 on JAX), so a larger
# seed works on one backend and fails deep inside another's tensor conversion.
MAX_SEED = 2**31 - 1


def positive_int(value: Any, name: str) -> int:
    """Return `value` as an `int`, or raise if it is not an integer in [1, MAX_SIZE]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 < value <= MAX_SIZE:
        raise ValueError(f"Expected `{name}` to be a positive integer (at most {MAX_SIZE}). "
                         f"Received: {name}={value!r}")
    return int(value)


def non_negative_int(value: Any, name: str) -> int:
    """Return `value` as an `int`, or raise if it is not an integer >= 0 (no upper bound: `epochs=10**9`
    with `EarlyStopping` is a Keras idiom)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Expected `{name}` to be an integer >= 0. Received: {name}={value!r}")
    return int(value)


def path(value: Any, name: str):
    """`value` as a `pathlib.Path`: a non-empty `str` or `os.PathLike`."""
    import os
    from pathlib import Path

    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ValueError(f"Expected `{name}` to be a file or folder path. Received: {name}={value!r}")
    return Path(value)


def unit_interval(value: Any, name: str) -> float:
    """Return `value` as a `float` in [0, 1), or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"Expected `{name}` to be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


def one_of(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """`value` if it is one of `choices` (names, numbers or None); arrays, lists and dicts never are."""
    choices = list(choices)
    if not (value is None or isinstance(value, (str, numbers.Number))) or value not in choices:
        raise ValueError(f"Expected `{name}` to be one of {choices}. Received: {name}={value!r}")
    return value


def boolean(value: Any, name: str) -> bool:
    """`value` as a bool: True or False (numpy's too); numbers, strings and None are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Expected `{name}` to be True or False. Received: {name}={value!r}")
    return bool(value)


def verbose(value: Any) -> int:
    """Keras' `verbose` of `fit`: "auto" (1), 0 silent, 1 a progress bar, 2 one line per epoch."""
    if isinstance(value, str) and value == "auto":
        return 1
    if not (isinstance(value, numbers.Integral) and 0 <= value <= 2):
        raise ValueError(f'Expected `verbose` to be "auto", 0, 1 or 2. Received: verbose={value!r}')
    return int(value)


def finite_real(value: Any) -> bool:
    """Whether `value` is a real number (not a bool) that a float holds finitely: no NaN, no infinity, and no
    integer beyond float's range, where `math.isfinite` would raise OverflowError instead of answering."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def positive_float(value: Any, name: str) -> float:
    """Return `value` as a `float`, or raise if it is not a finite number > 0."""
    if not finite_real(value) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a finite positive number. Received: {name}={value!r}")
    return float(value)


def layer(value: Any, name: str, *, optional: bool = False) -> Any:
    """A Keras layer (or, with `optional`, None)."""
    import keras

    if (value is None and optional) or isinstance(value, keras.layers.Layer):
        return value
    raise ValueError(f"Expected `{name}` to be a Keras layer{' or None' if optional else ''}. "
                     f"Received: {name} of type {type(value).__name__}")


def non_negative_float(value: Any, name: str) -> float:
    """Return `value` as a `float`, or raise if it is not a finite number >= 0."""
    if not finite_real(value) or value < 0:
        raise ValueError(f"Expected `{name}` to be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def seed(value: Any, name: str = "seed") -> int | None:
    """A random seed: None or an integer in [0, MAX_SEED], which every Keras backend can hold."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value <= MAX_SEED:
        raise ValueError(f"Expected `{name}` to be None or an integer from 0 to {MAX_SEED}. "
                         f"Received: {name}={value!r}")
    return int(value)


def units_tuple(value: Any, name: str) -> tuple[int, ...]:
    """Normalise a hidden-layer spec (an int or a sequence of ints) to a tuple."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes)):
        raise ValueError(
            f"Expected `{name}` to be a sequence of positive integers. Received: {name}={value!r}"
        )
    items = tuple(value)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or not 0 < item <= MAX_SIZE:
            raise ValueError(
                f"Expected `{name}` to be a sequence of positive integers. "
                f"Received: {name}={value!r}"
            )
    return tuple(int(item) for item in items)


def shape_tuple(value: Any, name: str) -> tuple[int, ...]:
    """Normalise a per-sample shape (an int or a tuple of ints, no batch axis)."""
    try:
        return units_tuple(value, name)
    except ValueError:
        raise ValueError(
            f"Expected `{name}` to be a positive integer or a tuple of positive integers "
            f"(the shape of one sample, without the batch axis). Received: {name}={value!r}"
        ) from None


def activation(value: Any, name: str):
    """Resolve a Keras activation identifier, naming the argument on failure."""
    import keras

    if value is None:
        return keras.activations.linear
    try:
        return keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"Expected `{name}` to be the name of a Keras activation (for example 'relu'), "
            f"a callable or None. Received: {name}={value!r}"
        ) from None


def serialize_activation(value: Any) -> Any:
    """An activation argument as `get_config` should store it: names as-is, callables serialized."""
    import keras

    return keras.saving.serialize_keras_object(value) if callable(value) else value


def batch_size(value: Any, name: str = "batch_size") -> int:
    return positive_int(value, name)


def _all_finite(array: np.ndarray, chunk: int = 1 << 18) -> bool:
    """`np.isfinite(array).all()` a chunk at a time.

    Checked on every call with data, so it must be cheap: one mask of the
    whole array (47 MB for MNIST) took ~44 ms, a reused 256 KB one ~27 ms.
    """
    flat = array.reshape(-1)
    mask = np.empty(min(chunk, flat.size), bool)
    for start in range(0, flat.size, chunk):
        part = flat[start : start + chunk]
        if not np.isfinite(part, out=mask[: part.size]).all():
            return False
    return True


def numeric_array(x: Any, name: str) -> np.ndarray:
    """`x` as a numpy array of real numbers (any rank), or a ValueError naming `name`."""
    try:
        array = np.asarray(x)
    except Exception as error:  # ragged lists, objects numpy cannot stack
        raise ValueError(
            f"Expected `{name}` to be an array of numbers. Received: {name} of type "
            f"{type(x).__name__} ({error})"
        ) from None
    if array.dtype == object and array.ndim == 0:  # not array-like at all (a dict, a dataset): name its type
        raise ValueError(f"Expected `{name}` to be an array of numbers. Received: {name} of type {type(x).__name__}")
    if array.dtype == object or np.iscomplexobj(array) or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise ValueError(
            f"Expected `{name}` to be an array of numbers. Received: {name} with dtype={array.dtype}"
        )
    return array


def as_float_array(
    x: Any, *, name: str, feature_shape: Sequence[int] | None = None
) -> np.ndarray:
    """Convert array-like input to a finite float32 numpy array of shape `(n, *feature_shape)`.

    A flat `(n, prod(feature_shape))` array is accepted for an image-shaped
    `feature_shape` and the other way round: the article feeds 784-vectors to a
    model that thinks in 28x28 images, and both are the same data.
    """
    array = numeric_array(x, name)
    if array.ndim < 2:
        raise ValueError(
            f"Expected `{name}` to have a batch axis and at least one feature axis, "
            f"i.e. rank >= 2. Received: {name}.shape={array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"Expected `{name}` to hold at least one sample. Received: {name}.shape={array.shape}")
    if feature_shape is not None:
        feature_shape = tuple(feature_shape)
        sample_shape = array.shape[1:]
        if sample_shape != feature_shape:
            if math.prod(sample_shape) != math.prod(feature_shape):
                raise ValueError(
                    f"Expected `{name}` to have samples of shape {feature_shape} "
                    f"({math.prod(feature_shape)} values each). "
                    f"Received: {name}.shape={array.shape}"
                )
            array = array.reshape((array.shape[0],) + feature_shape)
    array = np.asarray(array, dtype=np.float32)
    if not _all_finite(array):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"Expected `{name}` to hold finite values only. Received: {name} with {bad} "
            "NaN or infinite value(s)"
        )
    return array


def is_symbolic(x: Any) -> bool:
    """Whether `x` is a symbolic Keras tensor (a node of a functional model)."""
    import keras

    return isinstance(x, keras.KerasTensor)


def is_backend_tensor(x: Any) -> bool:
    """Whether `x` is a tensor of the Keras backend (not a numpy array)."""
    import keras

    return not isinstance(x, np.ndarray) and keras.ops.is_tensor(x)


def is_dataset(x: Any) -> bool:
    """Whether `x` is a `tf.data.Dataset` (duck-typed, so Keras-side code never imports TensorFlow)."""
    return hasattr(x, "as_numpy_iterator") and hasattr(x, "element_spec")


def value_range(array: np.ndarray, chunk: int = 1 << 18) -> tuple[float, float]:
    """`(array.min(), array.max())`, a chunk at a time (no temporary the size of the array)."""
    flat = array.reshape(-1)
    low, high = np.inf, -np.inf
    for start in range(0, flat.size, chunk):
        part = flat[start : start + chunk]
        low, high = min(low, float(part.min())), max(high, float(part.max()))
    return low, high
