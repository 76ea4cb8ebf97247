"""The training hook: `fit` on in-memory arrays, many steps per compiled program, Keras' semantics.

Keras' own loop launches one compiled step per batch and copies every batch
through its data pipeline; for a small autoencoder that launch and copy cost
as much as the maths. The engine keeps Keras' `fit` (epochs, callbacks,
validation, history) and replaces only the data feed and the train
function for that one call:

- the arrays are held by the backend once per `fit` (`tensorflow.py`, `jax.py`);
- Keras is fed tiny tokens, and each Keras execution (of the model's own
  `steps_per_execution`, 1 unless the user sets it) is answered from a
  *chunk*: one compiled program that runs `model.train_step` over up to
  `CHUNK_STEPS` steps of index-gathered batches and returns every step's logs;
- Keras then calls the callbacks once per execution, with that execution's
  logs, exactly as its own loop would.

A `tf.data.Dataset` on the TensorFlow backend takes the same shortcut without
holding any data (a *stream*): Keras keeps its own iterator, step count and
end-of-data handling, and each chunk pulls its batches from that iterator
inside the program, never past the end of Keras' epoch.

Running ahead of Keras' callback calls is invisible only when no callback
looks at the model between steps. A callback that overrides a batch hook
(`on_train_batch_begin/end`, `on_batch_begin/end`) may read weights, save,
stop training or call `train_on_batch` there, so with one present a chunk is
exactly one execution: the model is then in the very state Keras' own loop
would leave it in at every callback call. Anything the engine cannot
reproduce (generators, `PyDataset`s, datasets on other backends or with
targets given apart, `class_weight`, `steps_per_epoch`, `shuffle="batch"`,
a distribution strategy, `run_eagerly`, the PyTorch backend) is handed to
Keras' own `fit` unchanged.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from tfae import _keras_private, _validation
from tfae._engine.boundary import keras_targets, pack

# Steps per compiled program when no callback observes single steps: enough to
# hide the per-call overhead behind the maths, small enough that a progress
# bar still moves (figures in docs/benchmarks.md).
CHUNK_STEPS = 64

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


def observes_steps(callback: keras.callbacks.Callback) -> bool:
    """Whether `callback` may look at or change the model between two training steps.

    Exact classes only: a subclass may override a hook to act on single steps.
    """
    if type(callback) in (keras.callbacks.ProgbarLogger, keras.callbacks.History):
        return False  # they only report the logs they are handed
    from tfae import callbacks as tfae_callbacks

    if type(callback) in (keras.callbacks.ModelCheckpoint, keras.callbacks.BackupAndRestore,
                          tfae_callbacks.BackupAndRestore):
        if callback.save_freq == "epoch":
            return False  # their batch hooks do nothing then
    for hook in _BATCH_HOOKS:
        method = getattr(callback, hook)
        if getattr(method, "__func__", method) is not getattr(keras.callbacks.Callback, hook):
            return True
    return False


def callback_list(callbacks: Any) -> list:
    """`fit`'s `callbacks` argument (None, a list, nested lists or a `CallbackList`) as a flat list."""
    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.CallbackList):
        return list(callbacks.callbacks)
    return list(keras.tree.flatten(callbacks))


class Plan:
    """Which samples each step of each epoch trains on, and how steps group into chunks.

    An epoch over `n` samples is `steps` batches of `batch_size` in the order
    of that epoch's permutation, the last one short when `batch_size` does
    not divide `n` (as Keras' array adapter batches). Keras runs them as
    executions of `per_execution` steps; a full chunk is as many consecutive
    executions of one epoch as fit in `chunk_steps` steps (at least one).
    """

    def __init__(self, n: int, *, batch_size: int, per_execution: int, shuffle: bool,
                 chunk_steps: int = CHUNK_STEPS):
        self.n = n
        self.batch_size = batch_size
        self.full, remainder = divmod(n, batch_size)
        self.steps = self.full + (remainder > 0)
        self.per_execution = per_execution
        self.executions = -(-self.steps // per_execution)
        self.chunk_executions = max(1, chunk_steps // per_execution)
        self.shuffle = shuffle

    def order(self) -> np.ndarray:
        """A new epoch's sample order; numpy's global generator, which `keras.utils.set_random_seed` seeds."""
        if self.shuffle:
            return np.random.permutation(self.n).astype(np.int32)
        return np.arange(self.n, dtype=np.int32)

    def chunk(self, order: np.ndarray, first_execution: int,
              executions: int | None = None) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """`(full_batches, last_batch, ends)` of the chunk of `executions` (default: a full chunk) from `first_execution`.

        `full_batches` has shape `(k, batch_size)`; `last_batch` is the
        epoch's short last batch (shape `(r,)`, `0 < r < batch_size`) when the
        chunk ends the epoch and there is one, else shape `(0,)`; `ends[j]` is
        the chunk-relative index of the last step of the chunk's j-th execution.
        """
        stop_execution = min(first_execution + (executions or self.chunk_executions), self.executions)
        first_step = first_execution * self.per_execution
        stop_step = min(stop_execution * self.per_execution, self.steps)
        full_stop = min(stop_step, self.full)
        batches = order[first_step * self.batch_size : full_stop * self.batch_size].reshape(-1, self.batch_size)
        last = order[self.full * self.batch_size :] if stop_step > self.full else order[:0]
        ends = [min((j + 1) * self.per_execution, self.steps) - 1 - first_step
                for j in range(first_execution, stop_execution)]
        return batches, last, ends


def one_at_a_time(model: keras.Model, callbacks: list) -> bool:
    """Whether the next chunk must be a single execution, because running ahead would show.

    Decided afresh for every chunk, from the callbacks as Keras has set them
    up (a callback may install a hook in `set_model` or `on_train_begin`).
    With `stop_training` already set, Keras stops after this very execution.
    """
    return bool(model.stop_training) or any(observes_steps(callback) for callback in callbacks)


class Session:
    """One `fit` call on the fast path: the epoch position, and the logs of executions already run.

    `run(full_batches, last_batch, *state)` trains one chunk and returns
    `((full_logs, last_logs), *state)`: the logs of every full-batch step
    stacked (or None), and those of the epoch's short last batch (or None).
    """

    streams = False

    def __init__(self, model: keras.Model, plan: Plan, run: Callable[..., Any], callbacks: list) -> None:
        self._model = model
        self._plan = plan
        self._run = run
        self._callbacks = callbacks
        self._ready: collections.deque = collections.deque()
        self._execution = 0
        self._order = None

    def new_epoch(self) -> None:
        """Keras begins an epoch: at its first batch, even when it cut the last one short (`stop_training`
        set, then cleared by a callback), with no step of the last one left to answer."""
        self._ready.clear()
        self._execution = 0

    def _chunk_executions(self) -> int | None:
        """How many executions the next chunk may run: all of a chunk (None), or 1 when someone would see it."""
        return 1 if one_at_a_time(self._model, self._callbacks) else None

    def execution(self, *state):
        """Answer Keras' next execution: `(logs, *state)`, running a new chunk when none is ready."""
        plan = self._plan
        if not self._ready:
            if self._execution == 0:
                self._order = plan.order()
            batches, last, ends = plan.chunk(self._order, self._execution, self._chunk_executions())
            (full, short), *state = self._run(batches, last, *state)
            full = keras.tree.map_structure(keras.ops.convert_to_numpy, full)
            for end in ends:
                self._ready.append(
                    short if end >= len(batches) else keras.tree.map_structure(lambda v, end=end: v[end], full)
                )
        self._execution = (self._execution + 1) % plan.executions
        return (self._ready.popleft(), *state)


class StreamSession:
    """One `fit` call on a dataset on the fast path: Keras' calls on its own iterators, answered in chunks.

    Keras creates an iterator per epoch, counts the steps and ends an epoch
    when a call finds the data exhausted. `run(iterator, limit)` trains on
    up to `limit` batches pulled from `iterator` in one program and returns
    `(logs, count)`: every step's logs stacked, and how many steps ran. It
    raises the backend's end-of-data error, as Keras' own call would, when
    the iterator holds no batch. A chunk never pulls a batch Keras would not
    ask for: Keras' epoch is one pass over its iterator (`fit` streams only
    without `steps_per_epoch`), and a chunk stops at its end. A dataset of
    unknown length may yield more batches in a later epoch than in the first;
    Keras then calls at most as often as it did in its first epoch, counting
    the call that found the data exhausted, and so does a chunk.
    """

    streams = True

    def __init__(self, model: keras.Model, run: Callable[..., Any], callbacks: list) -> None:
        self._model = model
        self._run = run
        self._callbacks = callbacks
        self._ready: collections.deque = collections.deque()
        self._calls = 0  # Keras' calls in this epoch
        self._most_calls: int | None = None  # per epoch, once Keras learnt it

    def new_epoch(self) -> None:
        """Keras begins an epoch, on a new iterator."""
        self._ready.clear()
        self._calls = 0

    def execution(self, iterator):
        """The logs of Keras' next call on `iterator`, running a new chunk when none is ready."""
        if not self._ready:
            limit = 1 if one_at_a_time(self._model, self._callbacks) else CHUNK_STEPS
            if self._most_calls is not None:
                limit = max(1, min(limit, self._most_calls - self._calls))
            try:
                logs, count = self._run(iterator, limit)
            except Exception:  # the end of the data (or a failure, which ends `fit` anyway)
                if self._most_calls is None:
                    self._most_calls = self._calls + 1
                raise
            logs = keras.tree.map_structure(keras.ops.convert_to_numpy, logs)
            for i in range(int(count)):
                self._ready.append(keras.tree.map_structure(lambda v, i=i: v[i], logs))
        self._calls += 1
        return self._ready.popleft()


class _EpochStart(keras.callbacks.Callback):
    """Tells a session that Keras begins an epoch: Keras' calls say nothing of where an epoch starts."""

    def __init__(self, session: Session | StreamSession) -> None:
        super().__init__()
        self._session = session

    def on_epoch_begin(self, epoch, logs=None):
        self._session.new_epoch()


def step_data(arrays: tuple, indices, take: Callable[[Any, Any], Any]):
    """The rows `indices` of the held `(x, y, sample_weight)`, in the form `train_step` takes."""
    return pack(*(None if a is None else take(a, indices) for a in arrays))


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray)


def _trainer(model: keras.Model):
    """The backend's resident trainer for `model`, or None where only Keras' own loop can run it."""
    if model.run_eagerly:
        return None
    if unbuilt_layers(model):
        # A layer neither `build()` nor an inference call built (one only training calls): Keras builds it in
        # the first step, after the optimizer, which the engine builds first. Keras' loop trains it.
        return None
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        return None
    kind = importlib.import_module(f"tfae._engine.{backend}").ResidentTrainer
    if not kind.applies(model):
        return None
    trainer = getattr(model, "_tfae_trainer", None)
    if not isinstance(trainer, kind):
        trainer = kind(model)
        object.__setattr__(model, "_tfae_trainer", trainer)  # not a tracked Keras attribute
    return trainer


def default_jit_compile(backend: str | None = None) -> bool | str:
    """`jit_compile` for a model of tfae's dense layers on `backend` (by default Keras' own): `True` where XLA
    is known to work, else Keras' "auto".

    Keras' "auto" leaves XLA off on CPU TensorFlow, where it is what fuses the
    small element-wise ops that dominate an autoencoder's step. Under a
    TensorFlow distribution strategy XLA cannot reach variables mirrored on
    other devices, so Keras' choice stands there.
    """
    backend = backend or keras.backend.backend()
    if backend == "jax":
        return True
    if backend == "tensorflow":
        from tfae._engine import tensorflow

        return "auto" if tensorflow.under_strategy() else True
    return "auto"


def forget(model: keras.Model) -> None:
    """Drop `model`'s compiled training programs (after `compile`: they were traced for the old optimizer)."""
    object.__setattr__(model, "_tfae_trainer", None)


def split_off_validation(arrays: tuple, fraction: Any) -> tuple[tuple, tuple]:
    """Keras' `validation_split` on arrays: the last `fraction` of the samples, before any shuffling.

    `fraction` is in (0, 1), as `fit` checked it.
    """
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Expected `validation_split` to leave samples for both training and validation. "
            f"Received: validation_split={fraction!r} for {n} samples"
        )
    return (tuple(None if a is None else a[:split_at] for a in arrays),
            tuple(None if a is None else a[split_at:] for a in arrays))


def fit(model: keras.Model, keras_fit: Callable[..., Any], x: Any, y: Any, sample_weight: Any,
        arguments: dict[str, Any]):
    """`keras.Model.fit(x, y, sample_weight=..., **arguments)` with Keras' semantics, on the fast path if it can.

    `x`, `y` and `sample_weight` arrive checked (`boundary.check_data`); `y is
    None` means the targets are the inputs. `arguments` holds every other
    keyword of `keras.Model.fit`, each one present.
    """
    arrays = _is_array(x) and (y is None or _is_array(y)) and (sample_weight is None or _is_array(sample_weight))
    if arrays and arguments["batch_size"] is not None:
        _validation.batch_size(arguments["batch_size"])  # on either path: Keras would take 0 for its default
    input_shape = _batch_shape(x) if not model.built else None
    if input_shape is not None:
        # As Keras' first step would: then `_trainer` sees every layer, and a layer only a training step builds
        # is told apart from the rest (`_keras_loop`).
        build(model, input_shape)
    trainer = None
    plain_epochs = (
        arguments["class_weight"] is None
        and arguments["steps_per_epoch"] is None
        and not getattr(keras.config, "max_steps_per_epoch", lambda: None)()  # Keras then caps each epoch
        and model.compiled
    )
    if plain_epochs and (arrays and arguments["shuffle"] in (True, False) or _streamable(model, x, y, sample_weight)):
        trainer = _trainer(model)
    if trainer is not None and not arrays:
        run = trainer.stream(x)  # the chunk runner, or None
        if run is not None:
            session = StreamSession(model, run, callback_list(arguments["callbacks"]))
            return _in_session(model, session, lambda callbacks: keras_fit(x, None, **{**arguments,
                                                                                      "callbacks": callbacks}),
                               arguments["callbacks"])
        trainer = None
    if trainer is None:
        return _keras_loop(model, lambda: keras_fit(x, keras_targets(x, y, sample_weight, arguments["class_weight"]),
                                                    sample_weight=sample_weight, **arguments))

    arguments = dict(arguments)
    fraction = arguments.pop("validation_split")
    if fraction and arguments["validation_data"] is None:  # Keras ignores it when validation_data is given
        (x, y, sample_weight), validation = split_off_validation((x, y, sample_weight), fraction)
        arguments["validation_data"] = pack(*validation)
    batch_size = arguments.pop("batch_size")
    batch_size = 32 if batch_size is None else _validation.batch_size(batch_size)
    # Keras validates in batches of `validation_batch_size or batch_size`; Keras' fit no longer sees batch_size.
    arguments["validation_batch_size"] = arguments["validation_batch_size"] or batch_size
    plan = Plan(len(x), batch_size=batch_size, per_execution=model.steps_per_execution,
                shuffle=bool(arguments.pop("shuffle")))
    # Keras builds what it builds lazily (loss, metrics) by peeking at the
    # feed's first element, which holds a token, not a batch: build from a real one.
    _keras_private.symbolic_build(model, step_data((x, y, sample_weight), slice(0, batch_size), lambda a, i: a[i]))
    del arguments["steps_per_epoch"], arguments["class_weight"]  # None: checked above
    feed, run = trainer.start(x, y, sample_weight)  # run holds the arrays until the session ends
    session = Session(model, plan, run, callback_list(arguments["callbacks"]))
    return _in_session(model, session, lambda callbacks: keras_fit(feed, None, steps_per_epoch=plan.steps,
                                                                   shuffle=False, **{**arguments,
                                                                                     "callbacks": callbacks}),
                       arguments["callbacks"])


def _streamable(model: keras.Model, x: Any, y: Any, sample_weight: Any) -> bool:
    """Whether `fit(x)` may stream: a dataset whose elements hold their own targets, one step per execution."""
    return _validation.is_dataset(x) and y is None and sample_weight is None and model.steps_per_execution == 1


def _batch_shape(x: Any) -> tuple[int | None, ...] | None:
    """The shape of `x`'s input batches where it is known without reading any (an array, a batched
    `tf.data.Dataset` of inputs or of tuples led by inputs), else None; the batch size left as None."""
    if _is_array(x):
        return (None, *x.shape[1:])
    if not _validation.is_dataset(x):
        return None
    spec = x.element_spec[0] if isinstance(x.element_spec, tuple) and x.element_spec else x.element_spec
    shape = getattr(spec, "shape", None)  # a TensorSpec's; none for a dict or a nested structure
    if shape is None or shape.rank is None or shape.rank < 2:
        return None  # an unbatched dataset: Keras' own error stands
    return (None, *tuple(shape)[1:])


def build(model: keras.Model, input_shape: tuple[int | None, ...]) -> None:
    """`model.build(input_shape)` where Keras' loops would build it: in the TensorFlow strategy's scope the
    model was made in, so its variables are mirrored (other backends have no such scope)."""
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow models only
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model.build(input_shape)


def unbuilt_layers(model: keras.Model) -> list:
    """The layers of a built `model`, at any depth, that neither `build()` nor an inference call built (none if
    the model is unbuilt)."""
    return [layer for layer in _keras_private.nested_layers(model) if not layer.built] if model.built else []


def _keras_loop(model: keras.Model, keras_fit: Callable[[], Any]):
    """`keras_fit()`, with a clear error where JAX or PyTorch met a layer that got weights during `fit`.

    Keras builds a layer only training calls in the first step, after the
    optimizer. TensorFlow then trains it; PyTorch fails with "Unknown
    variable", and JAX leaves the layer's weights as leaked tracers, which fail
    at their first use (or the next step) with a message that names neither
    the layer nor the cure. A layer a callback builds fails the next step the
    same way. Layers without weights (a `Lambda`, noise) are built in a step
    harmlessly and are left alone.
    """
    backend = keras.backend.backend()
    unbuilt = unbuilt_layers(model) if backend in ("jax", "torch") else []
    if not unbuilt:
        return keras_fit()
    try:
        history = keras_fit()
    except Exception as error:
        # A layer that gained weights during `fit`: the optimizer was built without them, and the step fails.
        if any(layer.weights for layer in unbuilt):
            raise ValueError(_built_in_a_step(model, [layer for layer in unbuilt if layer.weights], backend)) from error
        raise
    if backend == "jax":  # no failure yet, but the weights made inside the traced step hold leaked tracers
        from tfae._engine.jax import is_traced

        leaked = [layer for layer in unbuilt if any(is_traced(weight.value) for weight in layer.weights)]
        if leaked:
            raise ValueError(_built_in_a_step(model, leaked, backend))
    return history


def _built_in_a_step(model: keras.Model, layers: list, backend: str) -> str:
    names = [layer.name for layer in layers]
    return (
        f"Expected every layer of model {model.name!r} to be built before `fit`: the {backend} backend cannot "
        f"train a layer that gets its weights during `fit` (in a training step, or a callback), after the "
        f"optimizer. Build it in the model's `build()` (for example `self.layer.build(input_shape)`), or call it "
        f"in `call()` whatever `training` is. Received: layers built during fit: {names}"
    )


def _in_session(model: keras.Model, session: Session | StreamSession, keras_fit: Callable[[Any], Any],
                callbacks: Any):
    """`keras_fit(callbacks)` with `session` answering the model's train function, as `make_train_function`
    installs it, and told where each epoch begins by a callback added to `callbacks` (`fit`'s argument)."""
    # A fit inside a callback of another fit gets a session of its own; the outer one resumes after it.
    outer = (getattr(model, "_tfae_session", None), model.train_function)
    object.__setattr__(model, "_tfae_session", session)
    hook = _EpochStart(session)
    given = isinstance(callbacks, keras.callbacks.CallbackList)  # Keras' own container, used as given
    if given:
        callbacks.callbacks.append(hook)
    try:
        return keras_fit(callbacks if given else [*callback_list(callbacks), hook])
    finally:
        if given:
            callbacks.callbacks.remove(hook)
        object.__setattr__(model, "_tfae_session", outer[0])
        if outer[0] is not None:
            model.train_function = outer[1]
        else:
            model.train_function = getattr(model.train_function, "keras_function", model.train_function)


def make_train_function(model: keras.Model, keras_make: Callable[[bool], Any], force: bool = False):
    """`keras.Model.make_train_function`, answering the engine's feed from the active `Session`.

    Keras' own train function is kept for everything else that calls
    `train_function` during a fast `fit`, such as `train_on_batch` from a
    callback.
    """
    keras_function = getattr(model.train_function, "keras_function", None)
    if keras_function is not None and not force:
        model.train_function = keras_function
    trainer = getattr(model, "_tfae_trainer", None)
    if force and trainer is not None:  # Keras traces its step anew (a layer's `trainable` changed): so does tfae
        trainer.retrace()
    keras_make(force)
    session = getattr(model, "_tfae_session", None)
    if session is not None:
        trainer = model._tfae_trainer
        model.train_function = trainer.dispatcher(session, model.train_function)
    return model.train_function
