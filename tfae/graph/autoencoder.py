"""`GraphAutoEncoder`: the article's low-level model, on `tf.compat.v1` graphs and sessions.

This is the one TensorFlow-only module of tfae. It builds everything inside its
own `tf.Graph` (or one the caller passes) and never switches eager execution
off for the process, so Keras code before and after it keeps working.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfae import _errors, _files, _memory, _validation
from tfae._engine.boundary import check_unit_targets

v1 = tf.compat.v1

_ACTIVATIONS = {
    "relu": tf.nn.relu,
    "sigmoid": tf.nn.sigmoid,
    "tanh": tf.nn.tanh,
    "elu": tf.nn.elu,
    "selu": tf.nn.selu,
    "softplus": tf.nn.softplus,
    "leaky_relu": tf.nn.leaky_relu,
    "linear": tf.identity,
    None: tf.identity,
}
_OPTIMIZERS = ("rmsprop", "adam", "sgd")
_LOSSES = ("sigmoid_cross_entropy", "mse")
_INITIALIZERS = ("random_normal", "glorot_uniform")
_CONFIG_FILE = "graph_autoencoder.json"
# What TensorFlow's checkpoint reader raises for a damaged file (its C++ errors arrive as any of these).
_CHECKPOINT_ERRORS = (tf.errors.OpError, ValueError, IndexError, RuntimeError, TypeError, OverflowError)
_CHECKPOINT_PREFIX = "model.ckpt"


@tf.custom_gradient
def _summed_sigmoid_cross_entropy(labels: tf.Tensor, logits: tf.Tensor):
    """`reduce_sum(sigmoid_cross_entropy_with_logits(labels, logits))`, with the fused gradient.

    `softplus(l) - y * l` is the same stable value in three kernels instead of
    eight, and the gradient `sigmoid(l) - y` is one expression instead of the
    chain rule through every one of them.
    """
    cost = tf.reduce_sum(tf.nn.softplus(logits) - labels * logits)

    def gradient(upstream):
        return None, upstream * (tf.nn.sigmoid(logits) - labels)

    return cost, gradient


class _Optimizer:
    """RMSProp, Adam and SGD with the update rules and defaults of `tf.compat.v1.train`.

    Written with plain tensor ops because TF's fused `ResourceApplyRMSProp`
    kernel cost more on CPU than the rest of a training step, and the same
    arithmetic as element-wise ops far less (measured in docs/graph.md).
    """

    def __init__(self, kind: str, learning_rate: float, variables: list[tf.Variable]) -> None:
        self.kind = kind
        self.learning_rate = learning_rate
        self.params = variables
        self.slots: dict[str, list[tf.Variable]] = {}
        with v1.variable_scope("optimizer"):
            if kind == "rmsprop":  # decay 0.9, momentum 0, epsilon 1e-10; ms starts at one
                self.slots["ms"] = [self._slot(v, "ms", 1.0) for v in variables]
            elif kind == "adam":  # beta1 0.9, beta2 0.999, epsilon 1e-8
                self.slots["m"] = [self._slot(v, "m", 0.0) for v in variables]
                self.slots["v"] = [self._slot(v, "v", 0.0) for v in variables]
                self.step = v1.Variable(0.0, trainable=False, name="step")
        self.variables = [v for slots in self.slots.values() for v in slots]
        if kind == "adam":
            self.variables.append(self.step)

    @staticmethod
    def _slot(variable: tf.Variable, name: str, value: float) -> tf.Variable:
        slot = f"{_relative_name(variable.op.name).replace('/', '_')}_{name}"  # encoder_0_kernel_ms
        return v1.Variable(tf.fill(variable.shape, value), trainable=False, name=slot)

    def minimize(self, cost: tf.Tensor) -> tf.Operation:
        grads = tf.gradients(cost, self.params)
        lr = self.learning_rate
        updates = []
        if self.kind == "sgd":
            updates = [v.assign_sub(lr * g) for v, g in zip(self.params, grads)]
        elif self.kind == "rmsprop":
            for v, g, ms in zip(self.params, grads, self.slots["ms"]):
                ms_new = ms.assign(0.9 * ms + 0.1 * tf.square(g))
                updates.append(v.assign_sub(lr * g * tf.math.rsqrt(ms_new + 1e-10)))
        else:
            t = self.step.assign_add(1.0)
            lr_t = lr * tf.sqrt(1.0 - tf.pow(0.999, t)) / (1.0 - tf.pow(0.9, t))
            for v, g, m, s in zip(self.params, grads, self.slots["m"], self.slots["v"]):
                m_new = m.assign(0.9 * m + 0.1 * g)
                s_new = s.assign(0.999 * s + 0.001 * tf.square(g))
                updates.append(v.assign_sub(lr_t * m_new / (tf.sqrt(s_new) + 1e-8)))
        return tf.group(*updates)


def _choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    return _validation.one_of(value, name, choices)


class GraphAutoEncoder:
    """The article's TF1 autoencoder as a reusable class: placeholder in, `Z` and `X_hat` out.

    With the defaults it is the article's model exactly: `W1` of shape `(D, d)`
    drawn from a standard normal, zero biases, a relu code
    `Z = relu(X @ W1 + b1)`, logits `Z @ W2 + b2`, `X_hat = sigmoid(logits)`,
    the sigmoid cross-entropy summed over pixels and batch, and RMSProp with
    learning rate 0.005.

    The tensors are public, for wiring into other TF1 graphs: `X` (the input
    placeholder), `Z` (the code; feed it to decode, e.g. with noise as a GAN
    generator), `logits`, `X_hat`, `cost`, `train_op`, plus `graph`,
    `session`, `variables` and `weights` (the `(kernel, bias)` pairs).

    Args:
        input_dim: size D of one flat input.
        latent_dim: size d of the code.
        hidden_units: hidden layers between input and code; the decoder mirrors
            them. Defaults to `()` (the article's single layer each way).
        activation: activation of hidden layers (one of `relu`, `sigmoid`,
            `tanh`, `elu`, `selu`, `softplus`, `leaky_relu`, `linear`).
        latent_activation: activation of the code. Defaults to `"relu"` (the
            article's TF1 model); `None` gives a linear code like the Keras half.
        loss: `"sigmoid_cross_entropy"` (on logits) or `"mse"` (on `X_hat`);
            either summed over pixels and batch, as the article does.
        optimizer: `"rmsprop"`, `"adam"` or `"sgd"`.
        learning_rate: the optimizer's learning rate.
        kernel_initializer: `"random_normal"` (stddev 1, the article's) or
            `"glorot_uniform"`.
        seed: graph-level seed of the model's own graph, for reproducible
            initial weights (a `graph` you pass keeps the seed you gave it,
            with `tf.compat.v1.set_random_seed`); it also seeds `fit`'s
            shuffling.
        graph: an existing `tf.Graph` to build in; by default a new one.
        session: an existing `tf.compat.v1.Session` on `graph`; by default a
            new one, closed by `close()`.
        name: variable scope of this model (made unique within the graph).

    Example:

    ```python
    with tfae.GraphAutoEncoder(input_dim=784, latent_dim=32, seed=0) as graph_model:
        graph_model.fit(x_train, epochs=1, batch_size=64, verbose=0)
        z = graph_model.encode(x_test)                    # runs Z, feeding X
        assert graph_model.decode(z).shape == (256, 784)  # feeds Z
    ```
    """

    def __init__(
        self,
        input_dim: int,
        latent_dim: int,
        *,
        hidden_units: int | Sequence[int] = (),
        activation: str | None = "relu",
        latent_activation: str | None = "relu",
        loss: str = "sigmoid_cross_entropy",
        optimizer: str = "rmsprop",
        learning_rate: float = 0.005,
        kernel_initializer: str = "random_normal",
        seed: int | None = None,
        graph: tf.Graph | None = None,
        session: v1.Session | None = None,
        name: str = "graph_autoencoder",
    ) -> None:
        self.input_dim = _validation.positive_int(input_dim, "input_dim")
        self.latent_dim = _validation.positive_int(latent_dim, "latent_dim")
        self.hidden_units = _validation.units_tuple(hidden_units, "hidden_units")
        options = self._check_options(
            activation=activation, latent_activation=latent_activation, loss=loss, optimizer=optimizer,
            learning_rate=learning_rate, kernel_initializer=kernel_initializer, seed=seed,
        )
        self.activation = options["activation"]
        self.latent_activation = options["latent_activation"]
        self.loss = options["loss"]
        self.optimizer = options["optimizer"]
        self.learning_rate = options["learning_rate"]
        self.kernel_initializer = options["kernel_initializer"]
        self.seed = options["seed"]
        if not isinstance(name, str) or not _SCOPE.fullmatch(name):
            raise ValueError("Expected `name` to be a TensorFlow name scope: letters, digits and `_.-`, parts "
                             f"joined by `/`, starting with a letter or digit. Received: name={name!r}")
        if graph is not None and not isinstance(graph, tf.Graph):
            raise ValueError(f"Expected `graph` to be a tf.Graph or None. Received: graph of type {type(graph).__name__}")
        if session is not None and not isinstance(session, v1.Session):
            raise ValueError("Expected `session` to be a tf.compat.v1.Session or None. "
                             f"Received: session of type {type(session).__name__}")
        if session is not None and graph is not None and session.graph is not graph:
            raise ValueError("Expected `session` to run `graph`. Received: a session of another graph")
        if session is not None and graph is None:
            graph = session.graph
        self._owns_session = session is None
        self.graph = graph if graph is not None else tf.Graph()
        self._lock = threading.Lock()
        self._closed = False
        # One generator for the model's life, so successive fit() calls see new orders.
        self._rng = np.random.default_rng(self.seed)

        with self.graph.as_default():
            if seed is not None and graph is None:
                v1.set_random_seed(seed)
            with v1.variable_scope(None, default_name=name) as scope:
                self.name = scope.name
                self._build_graph()
        self.session = session if session is not None else v1.Session(graph=self.graph)
        self.session.run(self._init_op)

    @staticmethod
    def _check_options(
        *,
        activation: Any,
        latent_activation: Any,
        loss: Any,
        optimizer: Any,
        learning_rate: Any,
        kernel_initializer: Any,
        seed: Any,
    ) -> dict[str, Any]:
        """The constructor's options other than sizes, checked; also checks a saved config before building.

        No defaults here: they are the constructor's (`_DEFAULTS`), in one place.
        """
        return {
            "activation": _choice(activation, "activation", list(_ACTIVATIONS)),
            "latent_activation": _choice(latent_activation, "latent_activation", list(_ACTIVATIONS)),
            "loss": _choice(loss, "loss", _LOSSES),
            "optimizer": _choice(optimizer, "optimizer", _OPTIMIZERS),
            "learning_rate": _validation.positive_float(learning_rate, "learning_rate"),
            "kernel_initializer": _choice(kernel_initializer, "kernel_initializer", _INITIALIZERS),
            "seed": _validation.seed(seed),
        }

    # ------------------------------------------------------------------ graph
    def _initial_kernel(self, shape: tuple[int, int]) -> tf.Tensor:
        if self.kernel_initializer == "random_normal":
            return v1.random_normal(shape)
        limit = math.sqrt(6.0 / (shape[0] + shape[1]))
        return v1.random_uniform(shape, -limit, limit)

    def _dense(self, name: str, fan_in: int, units: int) -> tuple[tf.Variable, tf.Variable]:
        with v1.variable_scope(name):
            kernel = v1.Variable(self._initial_kernel((fan_in, units)), name="kernel")
            bias = v1.Variable(tf.zeros([units]), name="bias")
        return kernel, bias

    def _build_graph(self) -> None:
        sizes = (self.input_dim, *self.hidden_units, self.latent_dim)
        encoder = [self._dense(f"encoder_{i}", a, b) for i, (a, b) in enumerate(zip(sizes, sizes[1:]))]
        back = sizes[::-1]
        decoder = [self._dense(f"decoder_{i}", a, b) for i, (a, b) in enumerate(zip(back, back[1:]))]
        self.weights: list[tuple[tf.Variable, tf.Variable]] = encoder + decoder
        self.variables = [v for pair in self.weights for v in pair]

        self.X = v1.placeholder(tf.float32, [None, self.input_dim], name="X")
        self.Z = self._encode(self.X)
        self.logits = self._decode_logits(self.Z)
        self.X_hat = tf.nn.sigmoid(self.logits, name="X_hat")
        self.cost = self._cost(self.X, self.logits)
        self._cost_row = tf.reshape(self.cost, [1])
        self._optimizer = _Optimizer(self.optimizer, self.learning_rate, self.variables)
        self.train_op = self._optimizer.minimize(self.cost)

        # The fast path: one session.run executes many steps in a while_loop over
        # shuffled indices into the whole training set, instead of copying a
        # numpy batch in and out per step. The set is fed, not held in a
        # variable: an aligned array is fed without a copy, whereas an XLA
        # program that reads a variable snapshots it first, at every
        # session.run (measured in docs/graph.md).
        self._data = v1.placeholder(tf.float32, [None, self.input_dim], name="train_data")
        self._order = v1.placeholder(tf.int32, [None], name="order")
        self._batch = v1.placeholder(tf.int32, [], name="batch_size")
        self._steps_loss = self._many_steps()
        self._compiled: dict[tuple[int, int], tuple[tf.Tensor, tf.Tensor]] = {}
        self._xla_failed = False

        self._weight_inputs = [v1.placeholder(tf.float32, v.shape) for v in self.variables]
        self._assign_weights = [v.assign(p) for v, p in zip(self.variables, self._weight_inputs)]

        optimizer_variables = self._optimizer.variables
        self._saved_variables = self.variables + optimizer_variables
        self._init_op = v1.variables_initializer(self._saved_variables)
        # Relative paths: the "checkpoint" file stays true once `save` renames its folder into place.
        self._saver = v1.train.Saver(var_list=self._saved_variables, save_relative_paths=True)

    def _encode(self, x: tf.Tensor) -> tf.Tensor:
        layers = self.weights[: len(self.hidden_units) + 1]
        for index, (kernel, bias) in enumerate(layers):
            last = index == len(layers) - 1
            act = _ACTIVATIONS[self.latent_activation if last else self.activation]
            x = act(tf.matmul(x, kernel) + bias)
        return x

    def _decode_logits(self, z: tf.Tensor) -> tf.Tensor:
        layers = self.weights[len(self.hidden_units) + 1 :]
        for index, (kernel, bias) in enumerate(layers):
            z = tf.matmul(z, kernel) + bias
            if index < len(layers) - 1:
                z = _ACTIVATIONS[self.activation](z)
        return z

    def _cost(self, x: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        if self.loss == "sigmoid_cross_entropy":
            return _summed_sigmoid_cross_entropy(x, logits)
        return tf.reduce_sum(tf.square(tf.nn.sigmoid(logits) - x))

    def _train_step(self, batch: tf.Tensor) -> tf.Tensor:
        cost = self._cost(batch, self._decode_logits(self._encode(batch)))
        with tf.control_dependencies([self._optimizer.minimize(cost)]):
            return tf.identity(cost)

    def _many_steps(self) -> tf.Tensor:
        """Any number of steps of any batch size, in one while_loop (shapes known at run time)."""
        steps = tf.shape(self._order)[0] // self._batch

        def body(step, total):
            batch = tf.gather(self._data, self._order[step * self._batch : (step + 1) * self._batch])
            return self._after_step(step, total, self._train_step(batch))

        _, total = tf.while_loop(lambda step, _: step < steps, body, (tf.constant(0), tf.constant(0.0)),
                                 parallel_iterations=1)
        return total

    @staticmethod
    def _after_step(step: tf.Tensor, total: tf.Tensor, cost: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # Both loop variables wait for the update: otherwise the next iteration's
        # weight reads depend on nothing and may run before this step's writes.
        with tf.control_dependencies([cost]):
            return step + 1, total + cost

    def _compiled_steps(self, steps: int, batch_size: int) -> tuple[tf.Tensor, tf.Tensor]:
        """`steps` steps of `batch_size` as one XLA program; `(order placeholder, summed cost)`.

        With every shape static, XLA fuses each step's element-wise work and the
        optimizer update into a few loops, which is where a small model's time
        goes. Built on first use for each (steps, batch size) and cached; when
        XLA refuses it at run time, `_run_steps` falls back to `_many_steps`.
        """
        key = (steps, batch_size)
        if key not in self._compiled:
            # "name/" re-enters the model's own name scope rather than a new, uniquified one.
            with self._lock, self.graph.as_default(), self.graph.name_scope(self.name + "/"):
                order = v1.placeholder(tf.int32, [steps * batch_size], name=f"order_{steps}x{batch_size}")

                @tf.function(jit_compile=True, autograph=False)
                def run(order):
                    batches = tf.reshape(order, [steps, batch_size])

                    def body(step, total):
                        return self._after_step(step, total, self._train_step(tf.gather(self._data, batches[step])))

                    return tf.while_loop(lambda s, _: s < steps, body, (tf.constant(0), tf.constant(0.0)),
                                         parallel_iterations=1)[1]

                self._compiled[key] = (order, run(order))
        return self._compiled[key]

    # --------------------------------------------------------------- plumbing
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                f"GraphAutoEncoder {self.name!r} is closed; its session was released. "
                "Create or load a new one."
            )

    def _inputs(self, x: Any, name: str, dim: int) -> np.ndarray:
        return _validation.as_float_array(x, name=name, feature_shape=(dim,))

    def _targets(self, x: Any, name: str) -> np.ndarray:
        """Inputs that are also the targets of the loss: in [0, 1] for the cross-entropy, as Keras' side checks."""
        data = self._inputs(x, name, self.input_dim)
        check_unit_targets(self.loss, data, name, x)
        return data

    def _run_batched(self, fetch: tf.Tensor, feed: tf.Tensor, data: np.ndarray, batch_size: int) -> np.ndarray:
        self._check_open()
        batch_size = _validation.batch_size(batch_size)
        parts = [self.session.run(fetch, {feed: data[i : i + batch_size]}) for i in range(0, len(data), batch_size)]
        return np.concatenate(parts, axis=0)

    def close(self) -> None:
        """Release the session (when this model created it). Idempotent."""
        with self._lock:
            if not self._closed and self._owns_session:
                self.session.close()
            self._closed = True

    def __enter__(self) -> GraphAutoEncoder:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"GraphAutoEncoder(input_dim={self.input_dim}, latent_dim={self.latent_dim}, "
                f"hidden_units={self.hidden_units}, name={self.name!r}, {state})")

    # ------------------------------------------------------- graph building
    def encode_tensor(self, x: tf.Tensor) -> tf.Tensor:
        """Build the encoder on another tensor of this graph, sharing the weights: the code for `x`."""
        with self.graph.as_default():
            return self._encode(x)

    def decode_tensor(self, z: tf.Tensor, *, logits: bool = False) -> tf.Tensor:
        """Build the decoder on another tensor of this graph, sharing the weights.

        With `z` a noise tensor this is a GAN generator inside your own TF1 graph;
        `logits=True` returns the pre-sigmoid outputs.
        """
        with self.graph.as_default():
            out = self._decode_logits(z)
            return out if logits else tf.nn.sigmoid(out)

    @property
    def decoder_variables(self) -> list[tf.Variable]:
        """The decoder's kernels and biases (what a GAN's generator step trains)."""
        return [v for pair in self.weights[len(self.hidden_units) + 1 :] for v in pair]

    @property
    def encoder_variables(self) -> list[tf.Variable]:
        return [v for pair in self.weights[: len(self.hidden_units) + 1] for v in pair]

    # ------------------------------------------------------------- inference
    def encode(self, x: Any, *, batch_size: int = 1024) -> np.ndarray:
        """Codes `Z` for inputs of shape `(n, input_dim)`; numpy `(n, latent_dim)`."""
        return self._run_batched(self.Z, self.X, self._inputs(x, "x", self.input_dim), batch_size)

    def decode(self, z: Any, *, batch_size: int = 1024) -> np.ndarray:
        """`X_hat` for codes of shape `(n, latent_dim)`, by feeding `Z` as the article does."""
        return self._run_batched(self.X_hat, self.Z, self._inputs(z, "z", self.latent_dim), batch_size)

    def reconstruct(self, x: Any, *, batch_size: int = 1024) -> np.ndarray:
        """`X_hat` for inputs of shape `(n, input_dim)`; values in [0, 1]."""
        return self._run_batched(self.X_hat, self.X, self._inputs(x, "x", self.input_dim), batch_size)

    def evaluate(self, x: Any, *, batch_size: int = 1024) -> float:
        """Mean loss per example: the summed cost over `x` divided by `len(x)`, as in `fit`'s history."""
        data = self._targets(x, "x")
        costs = self._run_batched(self._cost_row, self.X, data, batch_size)
        return float(costs.sum() / len(data))

    # --------------------------------------------------------------- training
    def fit(
        self,
        x: Any,
        *,
        epochs: int = 1,
        batch_size: int = 64,
        shuffle: bool = True,
        validation_data: Any = None,
        verbose: int | str = 1,
        steps_per_execution: int | None = 32,
        jit_compile: bool = True,
    ) -> dict[str, list[float]]:
        """Train on `x` (targets are the inputs).

        Each `session.run` executes `steps_per_execution` optimizer steps
        in-graph as one XLA-compiled program over the whole of `x`, which is
        fed in place (a float32, C-contiguous, 64-byte-aligned array such as
        `tfae.datasets` returns; any other is copied once per call); a last
        partial batch is trained with one fed step.

        Args:
            x: training inputs, `(n, input_dim)`.
            epochs: passes over `x`.
            batch_size: examples per step.
            shuffle: reshuffle every epoch (with numpy's generator, seeded by
                `seed` when given).
            validation_data: inputs to evaluate after each epoch; Keras'
                `(x_val,)` and `(x_val, x_val)` are taken too (the targets
                are the inputs, so other targets are refused).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch; "auto"
                is 1, as in Keras' `fit`.
            steps_per_execution: steps per `session.run` (default 32, the
                fastest measured here); `None` runs all full batches of an
                epoch in one call.
            jit_compile: compile those steps with XLA (compiled once per
                steps and batch size); `False` runs them in a plain while_loop.

        Returns:
            `{"loss": [...]}` with the mean loss per example of each epoch, and
            `"val_loss"` when `validation_data` is given.
        """
        self._check_open()
        data = self._targets(x, "x")
        epochs = _validation.positive_int(epochs, "epochs")
        batch_size = _validation.batch_size(batch_size)
        val = None if validation_data is None else self._targets(_validation_inputs(validation_data),
                                                                  "validation_data")
        if steps_per_execution is not None:
            steps_per_execution = _validation.positive_int(steps_per_execution, "steps_per_execution")
        shuffle = _validation.boolean(shuffle, "shuffle")
        jit_compile = _validation.boolean(jit_compile, "jit_compile")
        verbose = _validation.verbose(verbose)
        import keras  # for its progress bar only

        n = len(data)
        full = n // batch_size
        chunk = full if steps_per_execution is None else min(steps_per_execution, full)
        history: dict[str, list[float]] = {"loss": []}
        if val is not None:
            history["val_loss"] = []
        data = _memory.as_shareable(data)  # fed to every session.run below: it must not be copied each time
        for epoch in range(epochs):
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
                bar = keras.utils.Progbar(full + (n % batch_size > 0), verbose=verbose)
            order = self._rng.permutation(n).astype(np.int32) if shuffle else np.arange(n, dtype=np.int32)
            total, done = 0.0, 0
            while done < full:
                steps = min(chunk, full - done)
                window = order[done * batch_size : (done + steps) * batch_size]
                total += self._run_steps(data, window, steps, batch_size, compiled=jit_compile)
                done += steps
                if verbose:
                    bar.update(done, [("loss", total / (done * batch_size))])
            if n % batch_size:
                rest = data[order[full * batch_size :]]
                cost, _ = self.session.run([self.cost, self.train_op], {self.X: rest})
                total += cost
                if verbose:
                    bar.update(full + 1, [("loss", total / n)])
            history["loss"].append(float(total / n))
            if val is not None:
                history["val_loss"].append(self.evaluate(val))
                if verbose:
                    print(f"val_loss: {history['val_loss'][-1]:.4f}")
        return history

    def _run_steps(self, data: np.ndarray, window: np.ndarray, steps: int, batch_size: int, *,
                   compiled: bool) -> float:
        if compiled and not self._xla_failed:
            order, total = self._compiled_steps(steps, batch_size)
            try:
                return self.session.run(total, {self._data: data, order: window})
            except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError, tf.errors.InternalError) as error:
                # XLA refused the program before running it: keep training, uncompiled, and say so once.
                self._xla_failed = True
                warnings.warn(f"XLA could not compile the training steps of GraphAutoEncoder {self.name!r} "
                              f"({_errors.reason(error)}); training goes on without XLA, as with `jit_compile=False`.",
                              RuntimeWarning, stacklevel=_errors.users_frame())
        return self.session.run(self._steps_loss, {self._data: data, self._order: window, self._batch: batch_size})

    # ------------------------------------------------------------ persistence
    def get_config(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "latent_dim": self.latent_dim,
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "latent_activation": self.latent_activation,
            "loss": self.loss,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "kernel_initializer": self.kernel_initializer,
            "seed": self.seed,
        }

    def get_weights(self) -> list[np.ndarray]:
        """Kernels and biases, encoder first: `[W1, b1, ..., W_out, b_out]`."""
        self._check_open()
        return self.session.run(self.variables)

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        self._check_open()
        weights = list(weights)
        if len(weights) != len(self.variables):
            raise ValueError(f"Expected {len(self.variables)} arrays. Received: {len(weights)} arrays")
        for variable, value in zip(self.variables, weights):
            if tuple(np.shape(value)) != tuple(variable.shape):
                raise ValueError(
                    f"Expected an array of shape {tuple(variable.shape)} for {variable.name}. "
                    f"Received: shape {np.shape(value)}"
                )
        self.session.run(self._assign_weights, dict(zip(self._weight_inputs, weights)))

    def save(self, path: str | os.PathLike) -> Path:
        """Write a tf.compat.v1 checkpoint (weights and optimizer state) and a JSON config to folder `path`.

        Atomic: the files are written in a new folder beside `path`, which then
        takes its place, so a crash leaves the previous save or the new one.
        `path` must be new or hold a GraphAutoEncoder save (nothing else is replaced).
        """
        self._check_open()
        folder = _validation.path(path, "path")

        def write(partial: Path) -> None:
            with self.graph.as_default():
                self._saver.save(self.session, str(partial / _CHECKPOINT_PREFIX), write_meta_graph=False)
            config = {"class_name": "GraphAutoEncoder", "scope": self.name, "config": self.get_config()}
            (partial / _CONFIG_FILE).write_text(json.dumps(config, indent=2))

        _files.write_folder(folder, write, replaceable=_is_save_folder)
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike, *, graph: tf.Graph | None = None,
             session: v1.Session | None = None) -> GraphAutoEncoder:
        """Rebuild a model saved with `save(path)`: same config, weights and optimizer state.

        Every config field is checked (type and range) and every variable's
        shape in the checkpoint against the config before anything is built,
        so an edited, truncated or mismatched save is a `ValueError` naming the
        file and the field or variable, never a model of the wrong size.

        Args:
            path: the folder `save` wrote.
            graph, session: where to build the model, as for the constructor.
        """
        folder = _validation.path(path, "path")
        _files.recover_folder(folder)
        config_file = folder / _CONFIG_FILE
        if not config_file.is_file():
            raise FileNotFoundError(f"No GraphAutoEncoder saved in '{folder}': {_CONFIG_FILE} is missing.")
        config, scope = _read_config(config_file)
        prefix = str(folder / _CHECKPOINT_PREFIX)

        def refuse(why: str) -> ValueError:
            return ValueError(f"Cannot restore the checkpoint in '{folder}' ({_CHECKPOINT_PREFIX}.*): {why}")

        try:
            saved = v1.train.NewCheckpointReader(prefix).get_variable_to_shape_map()
        except _CHECKPOINT_ERRORS as error:
            raise refuse(_errors.reason(error)) from None
        sizes = (config["input_dim"], *config["hidden_units"], config["latent_dim"])
        for half, chain in (("encoder", sizes), ("decoder", sizes[::-1])):
            for i, (fan_in, units) in enumerate(zip(chain, chain[1:])):
                for variable, shape in (("kernel", [fan_in, units]), ("bias", [units])):
                    relative = f"{half}_{i}/{variable}"
                    found = _saved_keys(saved, relative, scope)
                    if len(found) != 1:
                        raise refuse(f"it has no variable {relative!r}, which the config in '{config_file}' needs"
                                     if not found else f"it has {len(found)} variables {relative!r} "
                                     f"({', '.join(sorted(found))}) and none under the config's scope {scope!r}")
                    if list(saved[found[0]]) != shape:
                        raise refuse(
                            f"variable {relative!r} has shape {tuple(saved[found[0]])} but the config in "
                            f"'{config_file}' (input_dim, hidden_units, latent_dim) gives {tuple(shape)}"
                        )
        model = cls(**config, name=scope, graph=graph, session=session)
        try:
            with model.graph.as_default():
                model._restore(prefix, saved, scope)
        except _CHECKPOINT_ERRORS as error:
            model.close()
            raise refuse(_errors.reason(error)) from None
        return model

    def _restore(self, prefix: str, saved: dict[str, list[int]], scope: str) -> None:
        # Variables are matched by their names relative to this model's scope,
        # so a checkpoint loads into a model built under another scope name.
        mapping = {}
        for variable in self._saved_variables:
            relative = _relative_name(variable.op.name)
            match = _saved_keys(saved, relative, scope)
            if len(match) != 1:
                raise ValueError(f"the checkpoint has no variable for {relative!r}")
            if list(saved[match[0]]) != variable.shape.as_list():
                raise ValueError(f"variable {relative!r} has shape {tuple(saved[match[0]])}, "
                                 f"expected {tuple(variable.shape.as_list())}")
            mapping[match[0]] = variable
        v1.train.Saver(var_list=mapping).restore(self.session, prefix)
        # A checkpoint can hold values no training produces; refuse them rather than encode with them.
        for variable, value in zip(self._saved_variables, self.session.run(self._saved_variables)):
            if not np.isfinite(value).all():
                raise ValueError(f"variable {_relative_name(variable.op.name)!r} holds NaN or infinite values")

    # ------------------------------------------------------------- Keras bridge
    def to_keras(self):
        """A `tfae.AutoEncoder` (uncompiled) with this model's architecture and weights."""
        from tfae.models import AutoEncoder

        model = AutoEncoder(
            input_shape=(self.input_dim,),
            latent_dim=self.latent_dim,
            hidden_units=self.hidden_units,
            activation=self.activation,
            latent_activation=self.latent_activation,
            output_activation="sigmoid",
            name=self.name.replace("/", "_"),
        )
        model.set_weights(self.get_weights())
        return model

    @classmethod
    def from_keras(cls, model: Any, **kwargs: Any) -> GraphAutoEncoder:
        """A GraphAutoEncoder with the architecture and weights of a dense `tfae.AutoEncoder`.

        Its encoder and decoder are converted; an `AdversarialAutoEncoder`'s
        discriminator, used in training only, is left out. A
        `VariationalAutoEncoder` is refused (its code is sampled).

        Raises:
            ValueError: if `model` is not a built `tfae.AutoEncoder` made of a
                `tfae.Encoder` and a mirrored `tfae.Decoder` with a sigmoid output
                and activations this class knows.
        """
        from tfae.layers import Decoder, Encoder
        from tfae.models import AutoEncoder

        def refuse(why: str):
            return ValueError(f"`from_keras` converts dense tfae.AutoEncoder models only: {why}")

        given = [name for name in ("input_dim", "latent_dim", "hidden_units", "activation", "latent_activation")
                 if name in kwargs]
        if given:
            raise ValueError("`from_keras` takes the architecture from `model`; pass only the other options. "
                             "Received: " + ", ".join(f"{name}={kwargs[name]!r}" for name in given))

        if not isinstance(model, AutoEncoder):
            raise refuse(f"Received: model of type {type(model).__name__}")
        if type(model)._latent_code is not AutoEncoder._latent_code:
            raise refuse(f"its code is not the encoder's output (the encoder of a {type(model).__name__} gives the "
                         "mean and log-variance; the graph model has no sampling)")
        if not model.built:
            raise refuse("the model is not built; pass `input_shape=` or call it on data first")
        encoder, decoder = model.encoder, model.decoder
        if not isinstance(encoder, Encoder) or not isinstance(decoder, Decoder):
            raise refuse(f"expected a tfae.Encoder and a tfae.Decoder. "
                         f"Received: encoder {type(encoder).__name__}, decoder {type(decoder).__name__}")
        if decoder.hidden_units != tuple(reversed(encoder.hidden_units)):
            raise refuse(
                f"the decoder must mirror the encoder. Received: encoder hidden_units={encoder.hidden_units}, "
                f"decoder hidden_units={decoder.hidden_units}"
            )
        if decoder.activation != encoder.activation or not decoder.output_is_sigmoid:
            raise refuse(
                "both halves must share one hidden activation and the output must be a sigmoid. Received: "
                f"activation={encoder.activation!r}/{decoder.activation!r}, "
                f"output_activation={decoder.output_activation!r}"
            )
        for name, value in (("activation", encoder.activation), ("latent_activation", encoder.latent_activation)):
            if value not in _ACTIVATIONS:
                raise refuse(f"unsupported {name}. Received: {name}={value!r}")
        graph_model = cls(
            int(np.prod(model.sample_shape)),
            encoder.latent_dim,
            hidden_units=encoder.hidden_units,
            activation=encoder.activation,
            latent_activation=encoder.latent_activation,
            **kwargs,
        )
        try:  # the halves' weights only: an adversarial model's discriminator has no counterpart here
            graph_model.set_weights(encoder.get_weights() + decoder.get_weights())
        except BaseException:
            graph_model.close()
            raise
        return graph_model


def _validation_inputs(validation_data: Any) -> Any:
    """The inputs of `validation_data`, given alone or as Keras' `(x_val,)` or `(x_val, x_val)`."""
    if not isinstance(validation_data, tuple):
        return validation_data
    if len(validation_data) in (1, 2):
        x_val = validation_data[0]
        if len(validation_data) == 1 or validation_data[1] is x_val or (
                np.shape(validation_data[1]) == np.shape(x_val) and np.array_equal(validation_data[1], x_val)):
            return x_val
    raise ValueError(
        "Expected `validation_data` to be the validation inputs, or Keras' `(x_val,)` or `(x_val, x_val)`: the "
        "graph model's targets are its inputs. Received: a tuple of "
        f"{len(validation_data)}" + ("" if len(validation_data) != 2 else " whose targets differ from its inputs")
    )


_CONFIG_FIELDS = frozenset(inspect.signature(GraphAutoEncoder.__init__).parameters) - {"self", "graph", "session", "name"}
_OPTION_FIELDS = frozenset(inspect.signature(GraphAutoEncoder._check_options).parameters)
_DEFAULTS = {name: parameter.default for name, parameter in inspect.signature(GraphAutoEncoder.__init__).parameters.items()}
_SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9_.\-]+)*")


def _is_save_folder(folder: Path) -> bool:
    """Whether `folder` holds nothing but the files of a GraphAutoEncoder save (so `save` may replace it)."""
    return all(
        entry.is_file() and (entry.name in (_CONFIG_FILE, "checkpoint") or entry.name.startswith(_CHECKPOINT_PREFIX))
        for entry in folder.iterdir()
    )


def _read_config(config_file: Path) -> tuple[dict[str, Any], str]:
    """`(config, scope)` from a save's JSON file, every field checked as the constructor checks it."""

    def refuse(why: str) -> ValueError:
        return ValueError(f"Cannot load a GraphAutoEncoder from '{config_file}': {why}")

    try:
        saved = json.loads(config_file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise refuse(f"not valid JSON ({error})") from None
    if not isinstance(saved, dict) or saved.get("class_name") != "GraphAutoEncoder":
        raise refuse('expected an object with "class_name": "GraphAutoEncoder"')
    config, scope = saved.get("config"), saved.get("scope", "graph_autoencoder")
    if not isinstance(config, dict):
        raise refuse(f'expected "config" to be an object. Received: {type(config).__name__}')
    if not isinstance(scope, str) or not _SCOPE.fullmatch(scope):
        raise refuse(f'expected "scope" to be a TensorFlow name scope. Received: scope={scope!r}')
    unknown, missing = set(config) - _CONFIG_FIELDS, {"input_dim", "latent_dim"} - set(config)
    if unknown or missing:
        raise refuse(f"unknown field(s) {sorted(unknown)}" if unknown else f"missing field(s) {sorted(missing)}")
    try:  # the fields that size the variables, before any is built; the constructor checks the rest
        config["input_dim"] = _validation.positive_int(config["input_dim"], "input_dim")
        config["latent_dim"] = _validation.positive_int(config["latent_dim"], "latent_dim")
        config["hidden_units"] = _validation.units_tuple(config.get("hidden_units", ()), "hidden_units")
        GraphAutoEncoder._check_options(**{field: config.get(field, _DEFAULTS[field]) for field in _OPTION_FIELDS})
    except (ValueError, TypeError) as error:
        raise refuse(str(error)) from None
    return config, scope


def _saved_keys(saved: dict[str, Any], relative: str, scope: str) -> list[str]:
    """The checkpoint keys of the variable `relative`: the one under `scope` when several models saved theirs."""
    found = [key for key in saved if _relative_name(key) == relative]
    if len(found) > 1 and f"{scope}/{relative}" in found:
        return [f"{scope}/{relative}"]
    return found


def _relative_name(name: str) -> str:
    """A variable's name within its model's scope, which may hold "/" itself: its last two parts
    (`encoder_0/kernel` for `lab/ae_1/encoder_0/kernel`, `optimizer/encoder_0_kernel_m` for a slot)."""
    return "/".join(name.split("/")[-2:])
