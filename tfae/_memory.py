"""Memory that TensorFlow can use in place: 64-byte-aligned float32 arrays (numpy only).

The bottom layer of the package: the dataset loaders allocate their images
here, and the engine and `GraphAutoEncoder` hand such arrays to TensorFlow
without copying them. Nothing here imports Keras or a backend.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# TensorFlow's CPU kernels and XLA assume buffers aligned to Eigen's largest
# vector width (EIGEN_MAX_ALIGN_BYTES); a misaligned shared buffer aborts the process.
TENSORFLOW_ALIGNMENT = 64


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array whose data starts on a `TENSORFLOW_ALIGNMENT` boundary."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = np.empty(nbytes + TENSORFLOW_ALIGNMENT, np.uint8)
    offset = -buffer.ctypes.data % TENSORFLOW_ALIGNMENT
    return buffer[offset : offset + nbytes].view(dtype).reshape(shape)


def shareable(array: np.ndarray) -> bool:
    """Whether TensorFlow can use `array`'s memory in place (DLPack, or a session feed)."""
    return (
        array.dtype == np.float32
        and array.flags.c_contiguous
        and array.flags.writeable
        and array.ctypes.data % TENSORFLOW_ALIGNMENT == 0
    )


def as_shareable(array: np.ndarray) -> np.ndarray:
    """`array` itself when `shareable`, else a shareable float32 copy of it."""
    if shareable(array):
        return array
    copy = aligned_empty(array.shape, np.float32)
    copy[...] = array
    return copy
