"""The fast path: the one place where tfae talks to a specific Keras backend.

- Inference: `keras.Model.predict` rebuilds an iterator, callbacks and a
  progress bar on every call, which costs more than the maths of a small
  autoencoder. `BatchedRunner` compiles a layer's forward pass once per batch
  size with the backend's own compiler and feeds fixed-shape batches (the last
  one is padded, so nothing is retraced).
- Training: `training_defaults` picks `steps_per_execution` and XLA, and
  `training_dataset` gives TensorFlow a shuffled, prefetched `tf.data` pipeline
  for numpy inputs, which Keras' generic array adapter is about twice as slow
  at feeding (measured in `benchmarks/`).

Everything else in tfae stays backend-agnostic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from tfae import _validation

DEFAULT_BATCH_SIZE = 1024


def is_symbolic(x: Any) -> bool:
    return isinstance(x, keras.KerasTensor)


def is_backend_tensor(x: Any) -> bool:
    return not isinstance(x, np.ndarray) and keras.ops.is_tensor(x)


def is_dataset(x: Any) -> bool:
    # Duck-typed so that tfae never imports tensorflow for Keras-side work.
    return hasattr(x, "as_numpy_iterator") and hasattr(x, "element_spec")


def dataset_inputs(dataset: Any) -> np.ndarray:
    """Concatenate the inputs of a batched `tf.data.Dataset` (targets are ignored)."""
    batches = []
    for element in dataset.as_numpy_iterator():
        if isinstance(element, (tuple, list)):
            element = element[0]
        batches.append(np.asarray(element))
    if not batches:
        raise ValueError("Expected a dataset with at least one batch. Received: an empty dataset")
    return np.concatenate(batches, axis=0)


def _compile(layer: keras.layers.Layer, call_kwargs: dict[str, Any]) -> Callable[[np.ndarray], Any]:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(lambda x: layer(x, training=False, **call_kwargs), autograph=False)
    if backend == "jax":
        import jax

        @jax.jit
        def stateless(trainable, non_trainable, x):
            return layer.stateless_call(trainable, non_trainable, x, training=False, **call_kwargs)[0]

        def function(x):
            return stateless(
                [v.value for v in layer.trainable_variables],
                [v.value for v in layer.non_trainable_variables],
                x,
            )

        return function
    if backend == "torch":
        import torch

        def function(x):
            with torch.no_grad():
                return layer(keras.ops.convert_to_tensor(x), training=False, **call_kwargs)

        return function
    return lambda x: layer(x, training=False, **call_kwargs)


class BatchedRunner:
    """Runs `layer` over a numpy array in fixed-size batches, through a compiled function.

    One runner belongs to one layer and one set of call arguments; compiled
    functions are cached per batch size.
    """

    def __init__(self, layer: keras.layers.Layer, **call_kwargs: Any) -> None:
        self._layer = layer
        self._call_kwargs = call_kwargs
        self._functions: dict[int, Callable[[np.ndarray], Any]] = {}

    def __call__(self, x: np.ndarray, batch_size: int | None) -> np.ndarray:
        n = x.shape[0]
        if batch_size is None:
            batch_size = min(n, DEFAULT_BATCH_SIZE)
        batch_size = _validation.batch_size(batch_size)
        batch_size = min(batch_size, n)
        function = self._functions.get(batch_size)
        if function is None:
            function = self._functions[batch_size] = _compile(self._layer, self._call_kwargs)
        outputs = []
        for start in range(0, n, batch_size):
            batch = x[start : start + batch_size]
            short = batch_size - batch.shape[0]
            if short:
                batch = np.concatenate([batch, np.zeros((short,) + batch.shape[1:], batch.dtype)])
            result = keras.ops.convert_to_numpy(function(batch))
            outputs.append(result[: batch_size - short] if short else result)
        return np.concatenate(outputs, axis=0) if len(outputs) > 1 else outputs[0]


# Enough steps per compiled call to hide Keras' per-call overhead (~4 ms on a
# 2-core CPU) behind the maths, few enough that progress bars still move.
STEPS_PER_EXECUTION = 64


def training_defaults(model: keras.Model, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Fill in `steps_per_execution` and `jit_compile` unless the user chose them."""
    kwargs = dict(kwargs)
    backend = keras.backend.backend()
    if backend in ("tensorflow", "jax"):  # Keras' torch trainer runs one step per call
        kwargs.setdefault("steps_per_execution", STEPS_PER_EXECUTION)
    if kwargs.get("jit_compile", "auto") == "auto" and not kwargs.get("run_eagerly"):
        from tfae._layers import Decoder, Encoder

        # Keras' "auto" turns XLA off on CPU-only TensorFlow, where it is what
        # fuses the small element-wise ops that dominate an autoencoder's step;
        # tfae's own layers are known to compile, a user's layers keep "auto".
        ours = isinstance(getattr(model, "encoder", None), Encoder) and isinstance(
            getattr(model, "decoder", None), Decoder
        )
        if ours and backend in ("tensorflow", "jax"):
            kwargs["jit_compile"] = True
    return kwargs


def training_dataset(x: np.ndarray, y: np.ndarray | None, *, batch_size: int, shuffle: bool):
    """A shuffled, batched, prefetched `tf.data.Dataset` over in-memory arrays, or None off TensorFlow.

    Shuffles indices rather than samples, so the only copy of the data is the
    one tensor it is gathered from.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    tensors = tuple(tf.convert_to_tensor(a) for a in ((x,) if y is None else (x, y)))
    indices = tf.data.Dataset.range(len(x))
    if shuffle:
        indices = indices.shuffle(len(x), reshuffle_each_iteration=True)

    def gather(batch):
        parts = tuple(tf.gather(t, batch) for t in tensors)
        return parts if y is not None else parts[0]

    return indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
