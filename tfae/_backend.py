"""The fast path: the one place where tfae talks to a specific Keras backend.

- Inference: `keras.Model.predict` rebuilds an iterator, callbacks and a
  progress bar on every call, which costs more than the maths of a small
  autoencoder. `BatchedRunner` compiles a layer's forward pass once per batch
  size with the backend's own compiler and runs fixed-shape batches (the last
  one is padded, so nothing is retraced); on TensorFlow all batches of a call
  run in one graph, loop included.
- Training: `training_defaults` picks `steps_per_execution` and XLA, and on
  TensorFlow `ResidentTraining` runs each execution of that many steps on
  in-memory arrays as one compiled program, loop included, where Keras'
  own loop launches a program per step and copies each batch through
  `tf.data` (measured in `benchmarks/`).

Everything else in tfae stays backend-agnostic.
"""

from __future__ import annotations

import math
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


def _compile(layer: keras.layers.Layer, call_kwargs: dict[str, Any]) -> Callable[[Any], Any]:
    """`layer`'s inference forward pass as one compiled function of a batch."""
    backend = keras.backend.backend()
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


def _shared_tensor(array: np.ndarray):
    """`array` as a TensorFlow tensor, sharing its memory when TensorFlow can use it in place.

    `tf.convert_to_tensor` always copies; for a full MNIST that is a fresh
    188 MB allocation per `fit`, whose cost on a loaded machine swung between
    0.07 s and 0.9 s. A `shareable` array (what `tfae.datasets` returns) is
    handed over through DLPack instead, so training reads the array itself,
    as Keras' own array adapter does.
    """
    import tensorflow as tf

    if shareable(array):
        try:
            return tf.experimental.dlpack.from_dlpack(array.__dlpack__())
        except (BufferError, TypeError, ValueError, AttributeError, tf.errors.OpError):
            pass
    return tf.convert_to_tensor(array)


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


def _owned_array(tensor, source: np.ndarray) -> np.ndarray:
    """A fresh CPU tensor as a writeable numpy array over the tensor's own memory.

    `tensor.numpy()` copies: for a 60,000 x 784 output that copy took
    ~55 ms, as long as decoding the data (2-core CPU). DLPack hands numpy the
    tensor's buffer instead, read-only because TensorFlow tensors are
    immutable; the caller is to own the result, as with `predict`, so it is
    re-exposed as writeable. Only for outputs of an inference program, which
    are allocated by that call (a concatenation) and referenced by nothing
    else; should one ever share memory with the `source` array it was
    computed from (shared with TensorFlow too), it is copied instead, so
    writing to the result can never change the input. Dtypes numpy cannot
    take over DLPack (bfloat16) are copied.
    """
    try:
        view = np.from_dlpack(tensor)
    except (BufferError, RuntimeError, TypeError, ValueError):
        return tensor.numpy()
    if np.may_share_memory(view, source):
        return view.copy()
    return np.asarray(_TensorBuffer(view))


def _batch_by_batch(layer: keras.layers.Layer, call_kwargs: dict[str, Any],
                    batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """One compiled call per fixed-size batch (the last one padded, so nothing retraces).

    Every batch is dispatched before any result is read back: JAX and
    PyTorch-on-GPU run asynchronously, so the next batch's transfer and
    launch overlap the current one's work instead of waiting for it.
    """
    function = _compile(layer, call_kwargs)

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
            result = keras.ops.convert_to_numpy(result)
            if outputs is None:  # written in place: no list of batches to concatenate
                outputs = np.empty((n,) + result.shape[1:], result.dtype)
            outputs[start : start + rows] = result[:rows]
        return outputs

    return run


def _in_one_program(layer: keras.layers.Layer, call_kwargs: dict[str, Any],
                    batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """TensorFlow: every batch of an array in one graph, loop included.

    A call per batch pays TensorFlow's dispatch, a numpy-to-tensor copy of
    the batch and a tensor-to-numpy copy of its output, and the outputs are
    then concatenated: together more than the maths of a small model
    (reconstruct of 60,000 MNIST images at batch 1024 on a 2-core CPU: ~94k
    samples/s that way, 170k-270k here). Here the input is shared with
    TensorFlow when it can be (`_shared_tensor`), each batch is a slice of
    it, the batches run in a graph loop, and the one output tensor is handed
    to numpy without a copy (`_owned_array`). Two batches may run at once:
    they are independent and a 2-core CPU is not kept busy by one small
    matmul chain.
    """
    import tensorflow as tf

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

    traced: dict[tuple[Any, ...], Any] = {}

    def run(x: np.ndarray) -> np.ndarray:
        key = (x.shape[1:], x.dtype.str)
        function = traced.get(key)
        if function is None:
            signature = [tf.TensorSpec((None,) + x.shape[1:], x.dtype)]
            function = traced[key] = tf.function(program, input_signature=signature, autograph=False)
        return _owned_array(function(_shared_tensor(x)), x)

    return run


class BatchedRunner:
    """Runs `layer` over a numpy array in fixed-size batches, compiled.

    One runner belongs to one layer and one set of call arguments; compiled
    programs are cached per batch size. On TensorFlow the whole array is one
    program call (`_in_one_program`), elsewhere each batch is one call.
    """

    def __init__(self, layer: keras.layers.Layer, **call_kwargs: Any) -> None:
        self._layer = layer
        self._call_kwargs = call_kwargs
        self._programs: dict[int, Callable[[np.ndarray], np.ndarray]] = {}

    def __call__(self, x: np.ndarray, batch_size: int | None) -> np.ndarray:
        n = x.shape[0]
        if batch_size is None:
            batch_size = min(n, DEFAULT_BATCH_SIZE)
        batch_size = min(_validation.batch_size(batch_size), n)
        program = self._programs.get(batch_size)
        if program is None:
            build = _in_one_program if keras.backend.backend() == "tensorflow" else _batch_by_batch
            program = self._programs[batch_size] = build(self._layer, self._call_kwargs, batch_size)
        return program(x)


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


class _Resident:
    """What the TensorFlow and JAX resident trainers share: the held arrays, the epoch plan, each step's data."""

    def __init__(self, model: keras.Model) -> None:
        self._model = model
        self._arrays: tuple[Any, ...] = ()

    def _plan(self, n: int, batch_size: int) -> tuple[int, int, int]:
        """`(full batches, steps, executions)` of one epoch over `n` samples."""
        full, remainder = divmod(n, batch_size)
        steps = full + (remainder > 0)
        return full, steps, -(-steps // self._model.steps_per_execution)

    @staticmethod
    def _step_data(arrays, indices, take):
        """The rows `indices` of every held array, in the form `train_step` takes (`x`, or `(x, y)`)."""
        data = tuple(take(a, indices) for a in arrays)
        return data if len(data) > 1 else data[0]

    def release(self) -> None:
        """Drop the references to the training data (the compiled programs stay)."""
        self._arrays = ()


class ResidentTraining(_Resident):
    """TensorFlow: each execution of `steps_per_execution` steps is one compiled program over in-memory data.

    Keras' TensorFlow trainer runs its steps in a TF while loop that pulls
    every batch through `tf.data` and launches one XLA program per step; on a
    small model that launch and copy cost as much as the step itself (measured
    ~2x at batch 256 on a 2-core CPU, `python -m benchmarks.run`). Here the
    training arrays are held as tensors, Keras' iterator yields only the
    shuffled batch indices of each execution, and the gathers, forward and
    backward passes and updates of all its steps run in one program, with the
    loop inside it. `model.train_step` is what runs, so losses, metrics,
    callbacks and a subclass's own `train_step` behave as in Keras.

    One instance belongs to one compiled model; its traced programs (one per
    distinct execution shape: a full execution, and the last one of an epoch)
    are reused by every `fit` on arrays of the same shapes.
    """

    def __init__(self, model: keras.Model) -> None:
        import tensorflow as tf

        super().__init__(model)
        self._program = tf.function(self._execution, jit_compile=bool(model.jit_compile), autograph=False)

    @staticmethod
    def applies(model: keras.Model) -> bool:
        """Whether `model.fit` on arrays can take this path (else Keras' own runs)."""
        if keras.backend.backend() != "tensorflow" or model.run_eagerly:
            return False
        import tensorflow as tf

        # Under a distribution strategy Keras shards batches across replicas,
        # which one program over one copy of the data cannot do.
        return not tf.distribute.has_strategy() and getattr(model, "_distribute_strategy", None) is None

    def dataset(self, x: np.ndarray, y: np.ndarray | None, *, batch_size: int, shuffle: bool):
        """Hold `x` (and `y`) as tensors; return Keras' feed and its `steps_per_epoch`.

        The feed is an endless `tf.data.Dataset` whose every element is one
        execution's `(full_batches, last_batch)` indices: `full_batches` has
        shape `(k, batch_size)`, `last_batch` shape `(r,)` with `0 < r <
        batch_size` on an epoch's last execution when `batch_size` does not
        divide the data, else `(0,)`. Keras counts `steps_per_epoch` steps per
        epoch and calls the train function once per `steps_per_execution`,
        so each call takes exactly one element.
        """
        import tensorflow as tf

        self._arrays = tuple(_shared_tensor(a) for a in ((x,) if y is None else (x, y)))
        n = len(x)
        per_execution = self._model.steps_per_execution
        full, steps, executions = self._plan(n, batch_size)

        def epoch(order):
            batches = tf.reshape(order[: full * batch_size], (full, batch_size))
            last = order[full * batch_size :]  # empty when batch_size divides n

            def execution(i):
                start = tf.minimum(i * per_execution, full)
                stop = tf.minimum(start + per_execution, full)
                return batches[start:stop], tf.cond(tf.equal(i, executions - 1), lambda: last, lambda: last[:0])

            return tf.data.Dataset.range(executions).map(lambda i: execution(tf.cast(i, tf.int32)))

        # One order per epoch (as Keras' own array adapter draws it).
        orders = tf.data.Dataset.from_tensors(tf.range(n, dtype=tf.int32)).repeat()
        if shuffle:
            orders = orders.map(tf.random.shuffle)
        feed = orders.flat_map(epoch)
        options = tf.data.Options()
        options.autotune.enabled = False
        return feed.prefetch(2).with_options(options), steps

    def __call__(self, iterator):
        batches, last = next(iterator)
        return self._program(self._arrays, batches, last)

    def _execution(self, arrays, batches, last):
        import tensorflow as tf

        model = self._model

        def step(indices):
            return model.train_step(self._step_data(arrays, indices, tf.gather))

        # Shapes are static here: one trace per execution shape. The first
        # step runs outside the loop so that whatever Keras builds lazily
        # (optimizer slots, metric variables) is created outside it too.
        k = batches.shape[0]
        logs = step(batches[0]) if k else step(last)
        if k > 1:
            _, logs = tf.while_loop(
                lambda i, _: i < k,
                lambda i, _: (i + 1, step(batches[i])),
                (tf.constant(1), logs),
                parallel_iterations=1,  # each step reads the weights the previous one wrote
            )
        if k and last.shape[0]:
            logs = step(last)
        return logs


class JaxResidentTraining(_Resident):
    """JAX: each execution of `steps_per_execution` steps is one jitted program over device-resident data.

    Keras' JAX trainer honours `steps_per_execution` by calling its jitted
    step once per batch from Python, each batch copied from host memory: on a
    GPU that dispatch and copy, not the maths, set the speed of a small
    model. Here the arrays are put on the device once per `fit`, Keras'
    iterator yields only each execution's shuffled batch indices (host
    numpy, a few KB), and one program runs the gathers and all the
    `model.train_step` calls of an execution, as a `lax.scan`. Keras' JAX
    `train_step` is a pure function of the state, so what runs per step is
    exactly Keras' step: losses, metrics, callbacks and a subclass's own
    `train_step` behave as in Keras.

    The same contract as `ResidentTraining`: one instance per compiled model,
    one traced program per distinct execution shape.
    """

    def __init__(self, model: keras.Model) -> None:
        import jax

        super().__init__(model)
        # The state is donated, as in Keras' own jitted step: updated in place.
        self._program = jax.jit(self._execution, donate_argnums=0)

    @staticmethod
    def applies(model: keras.Model) -> bool:
        """Whether `model.fit` on arrays can take this path (else Keras' own runs)."""
        if keras.backend.backend() != "jax" or model.run_eagerly or not model.jit_compile:
            return False
        # Under a keras.distribution Keras shards batches across devices,
        # which one program over one copy of the data cannot do.
        return keras.distribution.distribution() is None

    def dataset(self, x: np.ndarray, y: np.ndarray | None, *, batch_size: int, shuffle: bool):
        """Put `x` (and `y`) on the device; return Keras' feed and its `steps_per_epoch`.

        The feed is an endless generator of `(full_batches, last_batch)`
        index arrays, one per execution, shaped as in `ResidentTraining.dataset`.
        Epoch orders come from numpy's global generator, which
        `keras.utils.set_random_seed` seeds.
        """
        import jax

        model = self._model
        # Build what Keras would otherwise build by peeking at the feed's first
        # element, which holds indices, not samples.
        model._symbolic_build(data_batch=(x[:batch_size],) if y is None else (x[:batch_size], y[:batch_size]))
        self._arrays = tuple(jax.device_put(a) for a in ((x,) if y is None else (x, y)))
        n = len(x)
        per_execution = model.steps_per_execution
        full, steps, executions = self._plan(n, batch_size)

        def feed():
            while True:
                order = np.random.permutation(n).astype(np.int32) if shuffle else np.arange(n, dtype=np.int32)
                batches = order[: full * batch_size].reshape(full, batch_size)
                last = order[full * batch_size :]
                for i in range(executions):
                    start = min(i * per_execution, full)
                    stop = min(start + per_execution, full)
                    yield batches[start:stop], (last if i == executions - 1 else last[:0])

        return feed(), steps

    def __call__(self, state, iterator):
        batches, last = next(iterator)
        return self._program(state, self._arrays, batches, last)

    def _execution(self, state, arrays, batches, last):
        import jax

        model = self._model

        def step(state, indices):
            data = self._step_data(arrays, indices, lambda a, i: keras.ops.take(a, i, axis=0))
            logs, state = model.train_step(state, data)
            return state, logs

        # Shapes are static here: one trace per execution shape.
        logs = None
        if batches.shape[0]:
            state, logs = jax.lax.scan(step, state, batches)
            logs = jax.tree_util.tree_map(lambda value: value[-1], logs)  # the last step's, as Keras reports
        if last.shape[0]:
            state, logs = step(state, last)
        return logs, state


def resident_training_kind(model: keras.Model) -> type | None:
    """The resident-training class for `model`'s backend and settings, or None for Keras' own loop."""
    for kind in (ResidentTraining, JaxResidentTraining):
        if kind.applies(model):
            return kind
    return None
