"""The engine on the TensorFlow backend: resident and streamed training chunks, one-graph inference, shared memory."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfae import _memory
from tfae._engine.training import step_data


class _OwnProgramsRetracing(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning for tfae's inference programs only.

    `one_graph_runner` compiles one program per batch bucket by design (a
    bounded number, `inference.MAX_PROGRAMS`); TensorFlow counts them as one
    function retracing, because they share their code, and warns the user about
    a problem that is not there. Every other retracing warning is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("retracing" in message and "one_graph_runner.<locals>.program" in message)


tf.get_logger().addFilter(_OwnProgramsRetracing())


def shared_tensor(array: np.ndarray) -> tf.Tensor:
    """`array` as a TensorFlow tensor, sharing its memory when TensorFlow can use it in place.

    `tf.convert_to_tensor` always copies; for a full MNIST that is a fresh
    188 MB allocation per `fit` whose cost swings widely on a loaded machine.
    A `_memory.shareable` array (what `tfae.datasets` returns) is handed over
    through DLPack instead, so training reads the array itself, as Keras' own
    array adapter does.
    """
    if _memory.shareable(array):
        try:
            return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
        except (BufferError, TypeError, ValueError, AttributeError, tf.errors.OpError):
            pass
    return tf.convert_to_tensor(array)


def under_strategy() -> bool:
    """Whether the code runs inside a `tf.distribute` strategy's scope."""
    return tf.distribute.has_strategy()


class ResidentTrainer:
    """Chunks of `model.train_step` calls as one TensorFlow program over resident arrays.

    One instance per compiled model; its programs are traced once per chunk
    shape (a full chunk, the last chunk of an epoch) and reused by every
    `fit` on arrays of the same shapes.
    """

    def __init__(self, model: keras.Model) -> None:
        self._model = model
        self._feed_spec = tf.TensorSpec((), tf.int8)
        self.retrace()

    def retrace(self) -> None:
        """Trace the programs anew at their next call, as Keras' `make_train_function(force=True)` does: a
        traced step keeps the trainable variables of its trace (a layer frozen since would still train)."""
        model = self._model
        self._program = tf.function(self._chunk, jit_compile=bool(model.jit_compile), autograph=False)
        # A dataset's iterator cannot live in an XLA program: its chunk loop runs
        # outside XLA, each step inside it, as in Keras' own train function.
        self._stream_step = tf.function(model.train_step, jit_compile=bool(model.jit_compile), autograph=False,
                                        reduce_retracing=True)
        self._stream_program = tf.function(self._stream_chunk, autograph=False)

    @staticmethod
    def applies(model: keras.Model) -> bool:
        # Under a distribution strategy Keras shards batches across replicas,
        # which one program over one copy of the data cannot do.
        return not tf.distribute.has_strategy() and model.distribute_strategy is tf.distribute.get_strategy()

    def start(self, x, y, sample_weight):
        """Hold the arrays; return Keras' feed (an endless stream of tokens) and the chunk runner.

        The runner holds the arrays: they are released with the session.
        """
        arrays = tuple(None if a is None else shared_tensor(a) for a in (x, y, sample_weight))
        options = tf.data.Options()
        options.autotune.enabled = False  # its thread held up the end of every fit
        feed = tf.data.Dataset.from_tensors(tf.constant(0, tf.int8)).repeat().with_options(options)

        def run(batches, last):
            return (self._program(arrays, batches, last),)

        return feed, run

    def stream(self, dataset) -> Callable[..., Any] | None:
        """`StreamSession`'s chunk runner for `dataset`, or None where Keras' own loop must train on it.

        An endless dataset is left to Keras, which needs `steps_per_epoch` for it.
        """
        if not isinstance(dataset, tf.data.Dataset) or dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
            return None

        def run(iterator, limit):
            return self._stream_program(iterator, tf.constant(limit, tf.int32))

        return run

    def dispatcher(self, session, keras_function):
        return _Dispatcher(session, keras_function, self._feed_spec)

    def _stream_chunk(self, iterator, limit):
        """`(logs, count)`: up to `limit` steps on batches pulled from `iterator`, every step's logs stacked.

        The first batch is pulled with `get_next`, so an exhausted iterator
        raises `OutOfRangeError` exactly as Keras' own call does; each later
        one is pulled only when a step is still to run.
        """
        step = self._stream_step
        first = step(iterator.get_next())
        if any(value.shape.rank != 0 for value in tf.nest.flatten(first)):
            # Logs shaped like the batch cannot be stacked when a short last batch
            # may follow: one step per chunk, as Keras runs them.
            return tf.nest.map_structure(lambda value: value[tf.newaxis], first), tf.constant(1)
        logs = [tf.TensorArray(value.dtype, size=0, dynamic_size=True, element_shape=value.shape).write(0, value)
                for value in tf.nest.flatten(first)]

        def body(i, more, logs):
            optional = iterator.get_next_as_optional()
            more = optional.has_value()

            def train():
                return [a.write(i, v) for a, v in zip(logs, tf.nest.flatten(step(optional.get_value())))]

            logs = tf.cond(more, train, lambda: logs)
            return i + tf.cast(more, tf.int32), more, logs

        count, _, logs = tf.while_loop(
            lambda i, more, _: tf.logical_and(more, i < limit),
            body,
            (tf.constant(1), tf.constant(True), logs),
            parallel_iterations=1,  # each step reads the weights the previous one wrote
        )
        return tf.nest.pack_sequence_as(first, [a.stack() for a in logs]), count

    def _chunk(self, arrays, batches, last):
        """`(full_logs, last_logs)`: every full-batch step's logs stacked, and the short last batch's."""
        model = self._model

        def step(indices):
            return model.train_step(step_data(arrays, indices, tf.gather))

        # Shapes are static here: one trace per chunk shape. The first step runs
        # outside the loop so that whatever Keras creates lazily on a first
        # step (optimizer slots, metric variables) is created outside it too.
        k = batches.shape[0]
        full = None
        if k:
            first = step(batches[0])
            logs = [tf.TensorArray(value.dtype, size=k).write(0, value) for value in tf.nest.flatten(first)]
            if k > 1:
                _, logs = tf.while_loop(
                    lambda i, _: i < k,
                    lambda i, logs: (i + 1, [a.write(i, v) for a, v in zip(logs, tf.nest.flatten(step(batches[i])))]),
                    (tf.constant(1), logs),
                    parallel_iterations=1,  # each step reads the weights the previous one wrote
                )
            full = tf.nest.pack_sequence_as(first, [a.stack() for a in logs])
        return full, (step(last) if last.shape[0] else None)


class _Dispatcher:
    """Keras' `train_function` during a fast `fit`: the engine's feed goes to the session, the rest to Keras."""

    def __init__(self, session, keras_function, feed_spec) -> None:
        self._session = session
        self.keras_function = keras_function
        self._feed_spec = feed_spec

    def __call__(self, iterator):
        if self._session.streams:
            if isinstance(iterator, tf.data.Iterator):
                return self._session.execution(iterator)
        elif getattr(iterator, "element_spec", None) == self._feed_spec:
            return self._session.execution()[0]
        return self.keras_function(iterator)  # e.g. `train_on_batch` from a callback


class _TensorBuffer:
    """A tensor's memory, offered to numpy through the array interface as writeable."""

    def __init__(self, view: np.ndarray) -> None:
        self._view = view  # keeps the tensor, hence the memory, alive
        self.__array_interface__ = {
            "shape": view.shape,
            "typestr": view.dtype.str,
            "data": (view.ctypes.data, False),
            "version": 3,
        }


def owned_array(tensor, source: np.ndarray) -> np.ndarray:
    """A fresh CPU tensor as a writeable numpy array over the tensor's own memory.

    `tensor.numpy()` copies, which for a large output costs about as much as
    decoding it. DLPack hands numpy the tensor's buffer instead, read-only
    because TensorFlow tensors are immutable; the caller is to own the
    result, as with `predict`, so it is re-exposed as writeable. Only for
    outputs of an inference program, which are allocated by that call and
    referenced by nothing else; should one ever share memory with the
    `source` array it was computed from, it is copied instead, so writing to
    the result can never change the input. Dtypes numpy cannot take over
    DLPack (bfloat16) are copied.
    """
    try:
        view = np.from_dlpack(tensor)
    except (AttributeError, BufferError, RuntimeError, TypeError, ValueError):  # no DLPack before TF 2.17
        return tensor.numpy()
    if np.may_share_memory(view, source):
        return view.copy()
    return np.asarray(_TensorBuffer(view))


def one_graph_runner(layer: keras.layers.Layer, call_kwargs: dict[str, Any],
                     batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """Every batch of an array (at least `batch_size` rows) in one TensorFlow graph, loop included.

    A call per batch pays TensorFlow's dispatch, a numpy-to-tensor copy of
    the batch and a tensor-to-numpy copy of its output, and the outputs are
    then concatenated: together more than the maths of a small model. Here
    the input is shared with TensorFlow when it can be (`shared_tensor`),
    each batch is a slice of it, the batches run in a graph loop, and the one
    output tensor is handed to numpy without a copy (`owned_array`). Two
    batches may run at once: they are independent and a 2-core CPU is not
    kept busy by one small matmul chain.
    """

    def batch(inputs, i, n):
        # Every batch is a slice of `batch_size` rows, so every call has the same
        # static shape and a slice along the first axis is a view, not a copy.
        # The last one ends at the last sample and overlaps the one before it;
        # its overlapping rows are dropped.
        start = tf.minimum(i * batch_size, n - batch_size)
        outputs = layer(inputs[start : start + batch_size], training=False, **call_kwargs)
        return outputs[i * batch_size - start :]

    def program(inputs):
        n = tf.shape(inputs)[0]
        count = (n + batch_size - 1) // batch_size
        # The first batch runs outside the loop: it gives the output dtype
        # (e.g. float16 under a mixed policy) the TensorArray needs up front.
        first = batch(inputs, 0, n)
        element_shape = tf.TensorShape([None]).concatenate(first.shape[1:])
        outputs = tf.TensorArray(first.dtype, size=count, element_shape=element_shape, infer_shape=False)
        _, outputs = tf.while_loop(
            lambda i, _: i < count,
            lambda i, outputs: (i + 1, outputs.write(i, batch(inputs, i, n))),
            (tf.constant(1), outputs.write(0, first)),
            parallel_iterations=2,
        )
        return outputs.concat()

    traced = []  # one program, traced on first use: a runner's arrays share one sample shape and dtype

    def run(x: np.ndarray) -> np.ndarray:
        if not traced:
            signature = [tf.TensorSpec((None,) + x.shape[1:], x.dtype)]
            traced.append(tf.function(program, input_signature=signature, autograph=False))
        return owned_array(traced[0](shared_tensor(x)), x)

    return run
