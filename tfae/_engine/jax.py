"""The engine on the JAX backend: chunks of `train_step` as one jitted `lax.scan` over device-resident arrays,
and a layer's inference pass as one jitted function of a batch."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import keras
import numpy as np

from tfae._engine.training import step_data
from tfae.layers._common import training_kwargs


class ResidentTrainer:
    """Chunks of Keras' pure JAX `train_step(state, data)` as one jitted program.

    Keras' JAX trainer calls its jitted step once per batch from Python, each
    batch copied from host memory: on a GPU that dispatch and copy, not the
    maths, set the speed of a small model. Here the arrays are put on the
    device once per `fit`, and one program runs the gathers and all the
    `train_step` calls of a chunk as a `lax.scan`. The state is donated, as
    in Keras' own jitted step. One instance per compiled model; one trace
    per chunk shape.
    """

    def __init__(self, model: keras.Model) -> None:
        self._model = model
        self._program = jax.jit(self._chunk, donate_argnums=0)

    def retrace(self) -> None:
        """Nothing to drop: the program takes Keras' state, whose split into trainable and non-trainable
        variables Keras makes anew for each `fit`, and `jax.jit` traces again for a state of another shape."""

    @staticmethod
    def applies(model: keras.Model) -> bool:
        # Under a keras.distribution Keras shards batches across devices,
        # which one program over one copy of the data cannot do.
        return bool(model.jit_compile) and keras.distribution.distribution() is None

    def start(self, x, y, sample_weight):
        """Put the arrays on the device; return Keras' feed (an endless stream of tokens) and the chunk runner.

        The runner holds the arrays: they are released with the session.
        """
        arrays = tuple(None if a is None else jax.device_put(a) for a in (x, y, sample_weight))

        def run(batches, last, state):
            return self._program(state, arrays, batches, last)

        def tokens():  # Keras takes generators, not other iterators
            token = (np.zeros((), np.int8),)
            while True:
                yield token

        return tokens(), run

    @staticmethod
    def stream(dataset) -> None:
        """None: datasets are Keras' own loop here (its JAX trainer reads them batch by batch in Python)."""
        return None

    def dispatcher(self, session, keras_function):
        return _Dispatcher(session, keras_function)

    def _chunk(self, state, arrays, batches, last):
        """`((full_logs, last_logs), state)`: full-batch steps' logs stacked, and the short last batch's."""
        model = self._model

        def step(state, indices):
            data = step_data(arrays, indices, lambda a, i: jnp.take(a, i, axis=0))
            logs, state = model.train_step(state, data)
            return state, logs

        full = short = None
        if batches.shape[0]:
            state, full = jax.lax.scan(step, state, batches)
        if last.shape[0]:
            state, short = step(state, last)
        return (full, short), state


def _is_token(element) -> bool:
    element = element[0] if isinstance(element, tuple) and len(element) == 1 else element
    return getattr(element, "shape", None) == () and getattr(element, "dtype", None) == np.int8


class _Dispatcher:
    """Keras' `train_function` during a fast `fit`: the engine's tokens go to the session, the rest to Keras."""

    def __init__(self, session, keras_function) -> None:
        self._session = session
        self.keras_function = keras_function

    def __call__(self, state, data):
        # Keras hands its train function the batches of one execution (a list in
        # older Keras releases, an iterator in current ones); every batch Keras makes is an
        # `(x, y, sample_weight)` tuple (`train_on_batch` from a callback), the
        # engine's feed holds `(token,)`, a scalar int8 no batch can be. A
        # batch taken from an iterator is put back in front of it.
        if isinstance(data, (list, tuple)):
            element = data[0] if data else None
        else:
            element = next(data)
            data = itertools.chain([element], data)
        if _is_token(element):
            logs, state = self._session.execution(state)
            return logs, state
        return self.keras_function(state, data)


def is_traced(value: Any) -> bool:
    """Whether `value` is a JAX tracer: a variable made inside a traced step holds one after the step."""
    return isinstance(value, jax.core.Tracer)


def to_numpy(result: jax.Array) -> np.ndarray:
    """A result as numpy: on the CPU a read-only view of JAX's buffer, not Keras' copy of it."""
    return np.asarray(result)


def inference_function(layer: keras.layers.Layer, call_kwargs: dict[str, Any]) -> Callable[[Any], Any]:
    """`layer`'s inference forward pass of one batch, jitted; reads the layer's current weights at each call."""

    @jax.jit
    def stateless(trainable, non_trainable, x):
        return layer.stateless_call(trainable, non_trainable, x, **training_kwargs(layer, False), **call_kwargs)[0]

    def function(x):
        return stateless([v.value for v in layer.trainable_variables], [v.value for v in layer.non_trainable_variables], x)

    return function
