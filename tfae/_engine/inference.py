"""The inference hook: a layer over an array in compiled, fixed-shape batches, numpy out.

`keras.Model.predict` rebuilds an iterator, callbacks and a progress bar on
every call, which costs more than the maths of a small autoencoder. Here a
layer's forward pass is compiled once per batch shape with the backend's own
compiler. Batch shapes are bucketed: an array of at least `batch_size` rows
runs in batches of `batch_size`, a shorter one in the next power of two
(padded), so any number of input lengths needs at most
`log2(batch_size) + 2` programs per layer and batch size.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from tfae import _validation

DEFAULT_BATCH_SIZE = 1024
# Runners kept per layer, one per (requested batch size, bucket); the oldest goes first.
MAX_PROGRAMS = 32


def is_batches(x: Any) -> bool:
    """Whether `x` yields batches: a `tf.data.Dataset` or a `keras.utils.PyDataset`."""
    return _validation.is_dataset(x) or isinstance(x, keras.utils.PyDataset)


def dataset_inputs(batches: Any, *, name: str = "x", feature_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Concatenate the inputs of a batched `tf.data.Dataset` or `keras.utils.PyDataset` (targets are ignored)."""
    if _validation.is_dataset(batches):
        elements = batches.as_numpy_iterator()
    else:
        if batches.num_batches is None:
            raise ValueError(f"Expected `{name}` to be a keras.utils.PyDataset of known length (`num_batches`). "
                             f"Received: {name}, an endless {type(batches).__name__}")
        elements = (batches[index] for index in range(batches.num_batches))
    arrays = []
    for element in elements:
        if isinstance(element, (tuple, list)):
            element = element[0]
        element = np.asarray(element)
        if element.ndim < 2 or (feature_shape is not None and element.shape == tuple(feature_shape)):
            raise ValueError(f"Expected `{name}` to yield batches of samples (call `.batch(batch_size)` on a "
                             f"dataset of single samples). Received: {name} yielding an element of shape "
                             f"{element.shape}")
        arrays.append(element)
    if not arrays:
        raise ValueError(f"Expected `{name}` to yield at least one batch. Received: {name} yielding none")
    return np.concatenate(arrays, axis=0)


def bucket(n: int, batch_size: int) -> int:
    """The batch shape an array of `n` rows runs in: `batch_size`, or the next power of two below it."""
    if n >= batch_size:
        return batch_size
    return min(batch_size, 1 << max(0, (n - 1).bit_length()))


def batch_by_batch(function: Callable[[np.ndarray], Any], batch_size: int, *,
                   to_numpy: Callable[[Any], np.ndarray] = np.asarray) -> Callable[[np.ndarray], np.ndarray]:
    """`function` (a backend's compiled forward pass of one batch) over an array, one call per batch.

    Every call gets exactly `batch_size` rows (the last batch is padded), so
    nothing retraces. Every batch is dispatched before any result is read
    back: JAX and PyTorch-on-GPU run asynchronously, so the next batch's
    transfer and launch overlap the current one's work instead of waiting for it.
    `to_numpy` reads a result without copying it where it can (the backend's
    own), since each batch is copied into the output anyway.
    """

    def run(x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        pending = []
        for start in range(0, n, batch_size):
            batch = x[start : start + batch_size]
            rows = batch.shape[0]
            if rows < batch_size:
                batch = np.concatenate([batch, np.zeros((batch_size - rows,) + batch.shape[1:], batch.dtype)])
            pending.append((start, rows, function(batch)))
        outputs = None
        for start, rows, result in pending:
            result = to_numpy(result)
            if outputs is None:  # written in place: no list of batches to concatenate
                outputs = np.empty((n,) + result.shape[1:], result.dtype)
            outputs[start : start + rows] = result[:rows]
        return outputs

    return run


class BatchedRunner:
    """Runs one layer with one set of call arguments over numpy arrays, compiled per batch shape.

    On TensorFlow an array of at least one batch is one program call
    (`tensorflow.one_graph_runner`), elsewhere each batch is one call. A
    shorter array is padded to its `bucket`.
    """

    def __init__(self, layer: keras.layers.Layer, **call_kwargs: Any) -> None:
        self._layer = layer
        self._call_kwargs = call_kwargs
        self._programs: collections.OrderedDict[int, Callable[[np.ndarray], np.ndarray]] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._programs)

    def _program(self, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
        """The layer over arrays of at least `batch_size` rows, compiled the backend's way."""
        backend = keras.backend.backend()
        if backend == "tensorflow":
            from tfae._engine.tensorflow import one_graph_runner

            return one_graph_runner(self._layer, self._call_kwargs, batch_size)
        if backend == "jax":
            from tfae._engine.jax import inference_function, to_numpy
        else:
            from tfae._engine.torch import inference_function, to_numpy
        return batch_by_batch(inference_function(self._layer, self._call_kwargs), batch_size, to_numpy=to_numpy)

    def __call__(self, x: np.ndarray, batch_size: int | None) -> np.ndarray:
        n = x.shape[0]
        batch_size = DEFAULT_BATCH_SIZE if batch_size is None else _validation.batch_size(batch_size)
        shape = bucket(n, batch_size)
        program = self._programs.get(shape)
        if program is None:
            program = self._programs[shape] = self._program(shape)
            if len(self._programs) > MAX_PROGRAMS:
                self._programs.popitem(last=False)
        else:
            self._programs.move_to_end(shape)
        if n < shape:
            padded = np.zeros((shape,) + x.shape[1:], x.dtype)
            padded[:n] = x
            return program(padded)[:n].copy()
        return program(x)


def infer(model: keras.Model, key: str, layer: keras.layers.Layer, x: Any, *, name: str,
          feature_shape: tuple[int, ...] | None, batch_size: int | None, **call_kwargs: Any):
    """`layer(x)` for any input kind: symbolic and backend tensors are called, arrays run batched.

    Numpy arrays, lists and datasets are validated (`name`, `feature_shape`)
    and run by `model`'s `BatchedRunner` for `key`; the result is a numpy
    array the caller owns.
    """
    if _validation.is_symbolic(x) or _validation.is_backend_tensor(x):
        return layer(x, **call_kwargs)
    if is_batches(x):
        x = dataset_inputs(x, name=name, feature_shape=feature_shape)
    array = _validation.as_float_array(x, name=name, feature_shape=feature_shape)
    runners = getattr(model, "_tfae_runners", None)
    if runners is None:
        runners = {}
        object.__setattr__(model, "_tfae_runners", runners)
    runner = runners.get(key)
    if runner is None:
        runner = runners[key] = BatchedRunner(layer, **call_kwargs)
    return runner(array, batch_size)
