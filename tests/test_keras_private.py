"""Every private Keras API tfae uses (tfae/_keras_private.py) still exists and still does what tfae needs.

A Keras release that renames or changes one fails here, by name.
"""

import inspect

import keras
import numpy as np
import pytest

import tfae
from tfae import _keras_private


def test_every_private_api_is_listed_and_exists():
    assert _keras_private.PRIVATE_APIS == (
        "keras.Model._symbolic_build", "keras.src.losses.loss.unscale_loss_for_distribution",
        "keras.Model._initial_epoch", "keras.Model._jax_state", "keras.src.backend.compute_output_spec",
        "keras.Layer._flatten_layers", "keras.KerasTensor._keras_history", "keras.Operation._inbound_nodes")
    assert "data_batch" in inspect.signature(keras.Model._symbolic_build).parameters
    from keras.src import backend
    from keras.src.losses import loss

    assert callable(backend.compute_output_spec)

    assert callable(loss.unscale_loss_for_distribution)
    # `_initial_epoch` is an attribute Keras' `fit` reads, not one it defines up front: the test below,
    # test_resume_from_epoch_in_on_train_begin_makes_fit_start_there, fails if `fit` stops reading it.


def test_producing_call_names_the_call_of_a_shared_layer_that_made_a_tensor_not_its_first():
    def same(tensors, expected):  # by identity: `==` on symbolic tensors builds an op
        return len(tensors) == len(expected) and all(a is b for a, b in zip(tensors, expected))

    shared = keras.layers.Dense(3, name="shared")
    first_input, second_input = keras.Input((4,)), keras.Input((4,))
    first, second = shared(first_input), shared(second_input)  # `shared.output` is `first`
    layer, inputs, outputs = _keras_private.producing_call(second)
    assert layer is shared and same(inputs, [second_input]) and same(outputs, [second])
    _, inputs, outputs = _keras_private.producing_call(first)
    assert same(inputs, [first_input]) and same(outputs, [first])
    layer, inputs, outputs = _keras_private.producing_call(second_input)
    assert isinstance(layer, keras.layers.InputLayer) and inputs == [] and same(outputs, [second_input])
    pair = keras.layers.Lambda(lambda x: (x, 2 * x))(first_input)  # a call with two outputs: both listed
    assert same(_keras_private.producing_call(pair[1])[2], list(pair))


def test_nested_layers_lists_every_layer_at_any_depth_once_without_the_layer_itself():
    inner = keras.layers.Dense(2, name="inner")
    shared = keras.layers.Dense(3, name="shared")
    block = keras.Sequential([inner, shared], name="block")
    model = keras.Sequential([block, shared], name="outer")  # `shared` at two depths: listed once
    names = [layer.name for layer in _keras_private.nested_layers(model)]
    assert sorted(names) == ["block", "inner", "shared"]


def test_build_by_calling_builds_every_layer_call_uses_and_changes_no_variable():
    class Two(keras.Model):
        def __init__(self):
            super().__init__()
            self.first, self.second = keras.layers.Dense(3), keras.layers.Dense(2)
            self.calls = keras.Variable(0, trainable=False)

        def build(self, input_shape):  # builds nothing, as a model whose layers a subclass added
            pass

        def call(self, inputs):
            self.calls.assign_add(1)
            return self.second(self.first(inputs))

    model = Two()
    _keras_private.build_by_calling(model, (None, 4))
    assert model.first.built and model.second.built and model.second.kernel.shape == (3, 2)
    assert int(model.calls.numpy()) == 0


def test_unscale_loss_is_the_identity_off_strategy_and_undoes_replica_scaling_on_one():
    value = keras.ops.convert_to_tensor(3.0)
    assert float(_keras_private.unscale_loss_for_distribution(value)) == 3.0
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        from keras.src.losses import loss

        with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
            scaled = loss.scale_loss_for_distribution(value)
            assert float(_keras_private.unscale_loss_for_distribution(scaled)) == 3.0


def test_symbolic_build_builds_the_compiled_loss_metrics_and_optimizer_from_one_batch():
    model = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    model.compile()
    assert not model.optimizer.built
    x = np.random.default_rng(0).random((4, 6), dtype=np.float32)
    _keras_private.symbolic_build(model, (x, x))
    assert model.optimizer.built
    assert all(metric.built for metric in model.metrics if hasattr(metric, "built"))
    # Nothing left for Keras' fit to build by peeking at its input.
    for attribute in ("_compile_loss", "_compile_metrics"):
        assert getattr(model, attribute).built, attribute


def test_resume_from_epoch_in_on_train_begin_makes_fit_start_there():
    class Resume(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            _keras_private.resume_from_epoch(self.model, 3)

    epochs = []
    seen = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((4, 2), np.float32)
    history = model.fit(x, x[:, :1], epochs=5, verbose=0, callbacks=[Resume(), seen])
    assert epochs == [3, 4] and len(history.history["loss"]) == 2


def test_keras_jax_loops_assign_their_step_state_to_model_jax_state_and_sync_from_it():
    pytest.importorskip("jax")
    from keras.src.backend.jax.trainer import JAXTrainer

    for loop in (JAXTrainer.fit, JAXTrainer.evaluate, JAXTrainer.predict):
        assert "self._jax_state = {" in inspect.getsource(loop), loop.__name__
    assert "self._jax_state" in inspect.getsource(JAXTrainer.jax_state_sync)
    assert _keras_private.is_untracked_step_state("_jax_state")


def test_tfae_models_store_the_step_state_untracked_and_track_everything_else():
    state = {"trainable_variables": [np.zeros(2, np.float32)], "optimizer_variables": [np.ones(3, np.float32)]}
    model = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    model._jax_state = state
    assert model._jax_state is state  # as assigned: no tracker wrapped it
    model.extra = [1, 2]
    assert type(model.extra) is not list  # Keras' tracker still wraps every other attribute
    plain = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    plain._jax_state = state
    assert plain._jax_state is not state  # what tfae's models skip: Keras wraps it at every step
