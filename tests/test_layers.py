import keras
import numpy as np
import pytest

import tfae
from tests.keras_harness import run_layer_test


@pytest.mark.parametrize(
    "init_kwargs, input_shape, expected_output_shape, trainable, seeds",
    [
        ({"latent_dim": 4}, (3, 12), (3, 4), 2, 0),
        ({"latent_dim": 4, "hidden_units": (8, 6), "dropout": 0.2}, (3, 4, 3), (3, 4), 6, 2),
        ({"latent_dim": 2, "hidden_units": 5, "latent_activation": "tanh"}, (3, 4, 4, 1), (3, 2), 4, 0),
    ],
)
def test_encoder_passes_keras_layer_harness(init_kwargs, input_shape, expected_output_shape, trainable, seeds):
    run_layer_test(
        tfae.Encoder,
        init_kwargs=init_kwargs,
        input_shape=input_shape,
        expected_output_shape=expected_output_shape,
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=seeds,
        supports_masking=False,
    )


@pytest.mark.parametrize(
    "init_kwargs, expected_output_shape, trainable",
    [
        ({"output_shape": 12}, (3, 12), 2),
        ({"output_shape": (4, 3), "hidden_units": (6,), "dropout": 0.1}, (3, 4, 3), 4),
        ({"output_shape": [4, 4, 1], "output_activation": None}, (3, 4, 4, 1), 2),
    ],
)
def test_decoder_passes_keras_layer_harness(init_kwargs, expected_output_shape, trainable):
    run_layer_test(
        tfae.Decoder,
        init_kwargs=init_kwargs,
        input_shape=(3, 5),
        expected_output_shape=expected_output_shape,
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=1 if init_kwargs.get("dropout") else 0,
        supports_masking=False,
    )


def test_encoder_flattens_every_image_layout_to_the_same_code():
    encoder = tfae.Encoder(3, hidden_units=(4,))
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    encoder.build((None, 28, 28, 1))
    flat = tfae.Encoder.from_config(encoder.get_config())
    flat.build((None, 784))
    flat.set_weights(encoder.get_weights())
    np.testing.assert_allclose(encoder(x), flat(x.reshape(2, 784)), atol=1e-6)


def test_encoder_names_its_code_layer_bottleneck():
    encoder = tfae.Encoder(7, hidden_units=(9,))
    encoder.build((None, 10))
    assert encoder.bottleneck.name == "bottleneck"
    assert encoder.bottleneck.units == 7
    assert [layer.name for layer in encoder.hidden_layers] == ["hidden_0"]


def test_decoder_output_is_sigmoid_of_its_logits():
    decoder = tfae.Decoder((2, 3))
    z = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    logits = keras.ops.convert_to_numpy(decoder(z, return_logits=True))
    probabilities = keras.ops.convert_to_numpy(decoder(z))
    np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-logits)), rtol=1e-5)
    assert probabilities.shape == (4, 2, 3)


@pytest.mark.parametrize("layer_cls, first", [(tfae.Encoder, 5), (tfae.Decoder, 5)])
def test_get_config_returns_every_constructor_argument(layer_cls, first):
    import inspect

    layer = layer_cls(first, hidden_units=(3,), activation="tanh", dropout=0.25, kernel_regularizer="l2")
    config = layer.get_config()
    arguments = set(inspect.signature(layer_cls.__init__).parameters) - {"self", "kwargs"}
    assert arguments <= set(config)
    assert (config["hidden_units"], config["activation"], config["dropout"]) == ([3], "tanh", 0.25)
    assert config["kernel_regularizer"]["class_name"] == "L2"
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize(
    "make",
    [
        lambda: tfae.Encoder(3, hidden_units=(4,), activation="tanh", dropout=0.1),
        lambda: tfae.Decoder((4, 4, 1), hidden_units=(6,)),
    ],
)
def test_layers_round_trip_through_a_keras_file(tmp_path, make):
    layer = make()
    in_shape = (6,) if isinstance(layer, tfae.Encoder) else (5,)
    model = keras.Sequential([keras.Input(in_shape), layer])
    x = np.random.default_rng(0).random((3,) + in_shape, dtype=np.float32)
    model.save(tmp_path / "layer.keras")
    restored = keras.models.load_model(tmp_path / "layer.keras")
    assert type(restored.layers[0]) is type(layer)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_layers_are_registered_under_the_tfae_package():
    assert keras.saving.get_registered_name(tfae.Encoder) == "tfae>Encoder"
    assert keras.saving.get_registered_name(tfae.Decoder) == "tfae>Decoder"


def test_mixed_precision_policy_reaches_every_sublayer():
    encoder = tfae.Encoder(4, hidden_units=(8,), dtype="mixed_float16")
    encoder.build((None, 6))
    assert {layer.dtype_policy.name for layer in encoder.hidden_layers + [encoder.bottleneck]} == {
        "mixed_float16"
    }
    assert keras.backend.standardize_dtype(encoder(np.ones((2, 6), "float32")).dtype) == "float16"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: tfae.Encoder(-3), "Received: latent_dim=-3"),
        (lambda: tfae.Encoder(0), "Received: latent_dim=0"),
        (lambda: tfae.Encoder(2.5), "Received: latent_dim=2.5"),
        (lambda: tfae.Encoder(4, activation="nope"), "Received: activation='nope'"),
        (lambda: tfae.Encoder(4, latent_activation="nope"), "Received: latent_activation='nope'"),
        (lambda: tfae.Encoder(4, hidden_units=(8, 0)), "Received: hidden_units=(8, 0)"),
        (lambda: tfae.Encoder(4, dropout=1.0), "Received: dropout=1.0"),
        (lambda: tfae.Decoder(0), "Received: output_shape=0"),
        (lambda: tfae.Decoder((28, -1)), "Received: output_shape=(28, -1)"),
        (lambda: tfae.Decoder(784, output_activation="bogus"), "Received: output_activation='bogus'"),
    ],
)
def test_bad_constructor_arguments_name_the_argument_and_value(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_encoder_rejects_inputs_of_another_feature_size_after_build():
    encoder = tfae.Encoder(4)
    encoder.build((None, 784))
    with pytest.raises(ValueError, match=r"layer 'encoder' is incompatible with the layer: expected axis 1 of input "
                                         r"shape to have value 784, but received input with shape \(2, 100\)"):
        encoder(np.zeros((2, 100), "float32"))


def test_encoder_rejects_unknown_sample_axes():
    with pytest.raises(ValueError, match=r"Received: input_shape=\(None, None\)"):
        tfae.Encoder(4).build((None, None))


def test_decoder_rejects_codes_of_the_wrong_size_after_build():
    decoder = tfae.Decoder(10)
    decoder.build((None, 4))
    with pytest.raises(ValueError, match=r"layer 'decoder' is incompatible with the layer: expected axis -1 of input "
                                         r"shape to have value 4, but received input with shape \(2, 5\)"):
        decoder(np.zeros((2, 5), "float32"))


def test_decoder_passes_its_options_to_every_dense_sublayer_and_names_them():
    decoder = tfae.Decoder(6, hidden_units=(4,), activation="tanh", kernel_initializer="ones",
                           bias_initializer="ones", kernel_regularizer="l2", bias_regularizer="l1")
    decoder.build((None, 3))
    dense = [layer for layer in decoder.hidden_layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.name for layer in dense] == ["hidden_0"] and decoder.reconstruction.name == "reconstruction"
    assert dense[0].activation is keras.activations.tanh
    for layer in [*dense, decoder.reconstruction]:
        assert (keras.ops.convert_to_numpy(layer.kernel) == 1).all() and (keras.ops.convert_to_numpy(layer.bias) == 1).all()
        assert layer.kernel_regularizer is not None and layer.bias_regularizer is not None
    assert tfae.Decoder(6).name == tfae.Decoder(6).name == "decoder"
    assert tfae.Encoder(2).name == tfae.Encoder(2).name == "encoder"


def test_encoder_passes_its_options_to_every_sublayer_and_names_them():
    encoder = tfae.Encoder(2, hidden_units=(5, 4), activation="tanh", dropout=0.3, latent_activation="sigmoid",
                           kernel_initializer="ones", bias_initializer="ones", kernel_regularizer="l2",
                           bias_regularizer="l1", dtype="mixed_float16")
    encoder.build((None, 3, 2))
    dense = [layer for layer in encoder.hidden_layers if isinstance(layer, keras.layers.Dense)]
    dropout = [layer for layer in encoder.hidden_layers if isinstance(layer, keras.layers.Dropout)]
    assert [layer.name for layer in encoder.hidden_layers] == ["hidden_0", "dropout_0", "hidden_1", "dropout_1"]
    assert [layer.rate for layer in dropout] == [0.3, 0.3]
    assert {layer.dtype_policy.name for layer in encoder.hidden_layers} == {"mixed_float16"}
    assert all(layer.activation is keras.activations.tanh for layer in dense)
    assert encoder.bottleneck.activation is keras.activations.sigmoid
    for layer in [*dense, encoder.bottleneck]:
        assert (keras.ops.convert_to_numpy(layer.kernel) == 1).all() and (keras.ops.convert_to_numpy(layer.bias) == 1).all()
        assert layer.kernel_regularizer is not None and layer.bias_regularizer is not None


def test_encoder_checks_its_inputs_against_the_built_shape():
    encoder = tfae.Encoder(2, hidden_units=(4,))
    encoder.build((None, 3, 2))
    with pytest.raises(ValueError, match="expected axis 2 of input shape to have value 2"):
        encoder(np.zeros((1, 3, 3), "float32"))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        encoder(np.zeros((1, 6), "float32"))


def test_kernel_size_limit_is_checked_before_any_weight_is_made(monkeypatch):
    from tfae import _validation

    monkeypatch.setattr(_validation, "MAX_SIZE", 100)  # small, so both sides of the limit are cheap to try
    tfae.Encoder(2, hidden_units=(10,)).build((None, 10))  # 10 x 10 = 100 weights: at the limit, allowed
    with pytest.raises(ValueError) as error:
        tfae.Encoder(2, hidden_units=(20,)).build((None, 10))
    assert str(error.value) == ("Expected each Dense kernel to hold at most 100 weights. Received: an input_shape "
                                "of 10 features into layer 'hidden_0' of 20 units (latent_dim / hidden_units)")


def stateless(layer, x, training):
    return keras.ops.convert_to_numpy(
        layer.stateless_call(layer.trainable_variables, layer.non_trainable_variables, x, training=training)[0])


@pytest.mark.parametrize("make", [
    lambda: tfae.Encoder(64, hidden_units=(64,), dropout=0.5),
    lambda: tfae.Decoder(64, hidden_units=(64,), dropout=0.5),
    lambda: tfae.TiedDecoder(tfae.Encoder(64, hidden_units=(64,), dropout=0.5), output_shape=64),
])
def test_dropout_sees_the_training_flag_of_a_stateless_call(make):
    # The engine trains through stateless_call, which calls `call` directly: no Keras call context carries
    # `training` down, so each layer must hand it to its Dropout sublayers itself.
    layer = make()
    x = np.ones((8, 64), "float32")
    layer(x)
    np.testing.assert_array_equal(stateless(layer, x, False), keras.ops.convert_to_numpy(layer(x)))
    assert not np.allclose(stateless(layer, x, True), stateless(layer, x, False))


def test_decoders_check_their_codes_against_the_built_size():
    decoder = tfae.Decoder(6, name="dec")
    with pytest.raises(ValueError) as error:
        decoder.build((None, 3, 4))
    assert str(error.value) == ("Expected the input of layer 'dec' to be latent vectors of shape "
                                "(batch_size, latent_dim). Received: input_shape=(None, 3, 4)")
    decoder.build((None, 3))
    with pytest.raises(ValueError, match='layer .dec. is incompatible .* expected axis -1 of input shape to have value 3'):
        decoder(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match='layer .dec. is incompatible .* expected ndim=2, found ndim=3'):
        decoder(np.zeros((2, 1, 3), "float32"))


@pytest.mark.parametrize("layer_cls, first", [(tfae.Encoder, 5), (tfae.Decoder, 5)])
def test_get_config_holds_the_weight_options_given(layer_cls, first):
    config = layer_cls(first, kernel_initializer="ones", bias_initializer="random_normal",
                       kernel_regularizer="l2", bias_regularizer="l1").get_config()
    names = {key: config[key]["class_name"] for key in
             ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer")}
    assert names == {"kernel_initializer": "Ones", "bias_initializer": "RandomNormal", "kernel_regularizer": "L2",
                     "bias_regularizer": "L1"}


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="only TensorFlow graphs lose static axes")
@pytest.mark.parametrize(("layer", "sample_shape"), [
    (lambda: tfae.Encoder(3, hidden_units=(5,)), (6,)),
    (lambda: tfae.ConvEncoder(3, filters=(2,)), (4, 4, 1)),
], ids=["Encoder", "ConvEncoder"])
def test_a_built_encoder_takes_inputs_whose_static_sample_axes_were_lost(layer, sample_shape):
    # A `tf.data` pipeline (a reshape, a generator) can leave only `(None, None)`; plain Keras' Flatten and
    # Dense run on such inputs, so the encoder must too, with the width it was built for.
    import tensorflow as tf

    encoder = layer()
    encoder.build((None, *sample_shape))
    x = np.random.default_rng(1).random((5, *sample_shape), dtype=np.float32)
    graph = tf.function(encoder.__call__, input_signature=[tf.TensorSpec((None,) * (1 + len(sample_shape)))])
    np.testing.assert_allclose(graph(x).numpy(), keras.ops.convert_to_numpy(encoder(x)), rtol=1e-6)
    # Ten samples of half the size are refused when the graph runs, not taken as five samples.
    halves = np.ones((10, sample_shape[0] // 2, *sample_shape[1:]), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input to reshape"):
        graph(halves)
