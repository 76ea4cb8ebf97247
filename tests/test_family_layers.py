"""The family's layers on their own: ConvEncoder, ConvDecoder, TiedDecoder and Corruption.

Each is run through Keras' layer harness, compared number for number with the same computation
written in plain Keras or numpy, checked for a complete config, and given bad arguments.
"""

import inspect

import keras
import numpy as np
import pytest

import tfae
from tests.keras_harness import run_layer_test
from tfae.layers.noise import Corruption


def numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize(
    "init_kwargs, input_shape, expected_output_shape, trainable",
    [
        ({"latent_dim": 4}, (2, 8, 8, 1), (2, 4), 6),
        ({"latent_dim": 3, "filters": 5, "kernel_size": 2, "strides": 1, "latent_activation": "tanh"},
         (2, 4, 6, 3), (2, 3), 4),
    ],
)
def test_conv_encoder_passes_keras_layer_harness(init_kwargs, input_shape, expected_output_shape, trainable):
    run_layer_test(tfae.ConvEncoder, init_kwargs=init_kwargs, input_shape=input_shape,
                   expected_output_shape=expected_output_shape, expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=0, expected_num_seed_generators=0, supports_masking=False)


@pytest.mark.parametrize(
    "init_kwargs, expected_output_shape, trainable",
    [
        ({"output_shape": (8, 8, 1)}, (2, 8, 8, 1), 8),
        ({"output_shape": [3, 6, 2], "filters": (4,), "strides": 3, "output_activation": None}, (2, 3, 6, 2), 6),
    ],
)
def test_conv_decoder_passes_keras_layer_harness(init_kwargs, expected_output_shape, trainable):
    run_layer_test(tfae.ConvDecoder, init_kwargs=init_kwargs, input_shape=(2, 5),
                   expected_output_shape=expected_output_shape, expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=0, expected_num_seed_generators=0, supports_masking=False)


def test_corruption_passes_keras_layer_harness():
    run_layer_test(Corruption, init_kwargs={"noise": "masking", "noise_level": 0.5, "seed": 3},
                   input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_seed_generators=1, supports_masking=True)


def conv_encoder_reference(encoder, input_shape):
    """The ConvEncoder's computation as a plain Keras Sequential, with its weights."""
    layers = [keras.Input(input_shape)]
    layers += [keras.layers.Conv2D(f, encoder.kernel_size, strides=encoder.strides, padding="same",
                                   activation=encoder.activation) for f in encoder.filters]
    layers += [keras.layers.Flatten(), keras.layers.Dense(encoder.latent_dim, activation=encoder.latent_activation)]
    reference = keras.Sequential(layers)
    reference.set_weights(encoder.get_weights())
    return reference


@pytest.mark.parametrize("options", [{}, {"filters": (3, 4, 2), "kernel_size": 2, "strides": 1,
                                         "activation": "tanh", "latent_activation": "sigmoid"}])
def test_conv_encoder_computes_strided_convolutions_then_the_bottleneck(options):
    encoder = tfae.ConvEncoder(6, **options, kernel_initializer="random_normal", bias_initializer="random_normal")
    x = np.random.default_rng(0).random((3, 8, 12, 2), dtype=np.float32)
    codes = numpy(encoder(x))
    np.testing.assert_allclose(codes, conv_encoder_reference(encoder, (8, 12, 2))(x), rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in encoder.conv_layers] == [f"conv_{i}" for i in range(len(encoder.filters))]
    assert encoder.bottleneck.name == "bottleneck" and encoder.compute_output_shape((3, 8, 12, 2)) == (3, 6)


@pytest.mark.parametrize("options", [{}, {"filters": (4, 3), "kernel_size": 2, "strides": 1, "activation": "tanh"}])
def test_conv_decoder_projects_then_upsamples_then_reconstructs(options):
    decoder = tfae.ConvDecoder((8, 4, 2), **options, kernel_initializer="random_normal",
                               bias_initializer="random_normal")
    z = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    logits = numpy(decoder(z, return_logits=True))
    strides = decoder.strides
    seed = (8 // strides ** len(decoder.filters), 4 // strides ** len(decoder.filters), decoder.filters[0])
    assert decoder.seed_shape == seed
    reference = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(int(np.prod(seed)), activation=decoder.activation),
         keras.layers.Reshape(seed)]
        + [keras.layers.Conv2DTranspose(f, decoder.kernel_size, strides=strides, padding="same",
                                        activation=decoder.activation) for f in decoder.filters]
        + [keras.layers.Conv2D(2, decoder.kernel_size, padding="same")])
    reference.set_weights(decoder.get_weights())
    np.testing.assert_allclose(logits, reference(z), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(numpy(decoder(z)), 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6)
    assert decoder.output_is_sigmoid and decoder.compute_output_shape((3, 5)) == (3, 8, 4, 2)
    assert [layer.name for layer in decoder.deconv_layers] == [f"deconv_{i}" for i in range(len(decoder.filters))]
    assert decoder.projection.name == "projection" and decoder.reconstruction.name == "reconstruction"


def test_conv_halves_pass_initializers_and_regularizers_to_every_weighted_sublayer():
    options = {"kernel_initializer": "ones", "bias_initializer": "ones", "kernel_regularizer": "l2",
               "bias_regularizer": "l1"}
    encoder, decoder = tfae.ConvEncoder(2, **options), tfae.ConvDecoder((4, 4, 1), **options)
    encoder.build((None, 4, 4, 1))
    decoder.build((None, 2))
    for layer in [*encoder.conv_layers, encoder.bottleneck, decoder.projection, *decoder.deconv_layers,
                  decoder.reconstruction]:
        assert (numpy(layer.kernel) == 1).all() and (numpy(layer.bias) == 1).all(), layer.name
        assert layer.kernel_regularizer is not None and layer.bias_regularizer is not None, layer.name
        assert getattr(layer, "padding", "same") == "same", layer.name


def test_tied_decoder_applies_the_encoder_kernels_transposed():
    encoder = tfae.Encoder(3, hidden_units=(5, 4), activation="tanh", kernel_initializer="random_normal")
    decoder = tfae.TiedDecoder(encoder, output_shape=(2, 3))
    decoder.build((None, 3))
    biases = [np.random.default_rng(i).normal(size=b.shape).astype("float32") for i, b in enumerate(decoder.biases)]
    for variable, value in zip(decoder.biases, biases):
        variable.assign(value)
    w0, w1, w2 = (numpy(layer.kernel) for layer in (*encoder.hidden_layers, encoder.bottleneck))
    z = np.random.default_rng(9).normal(size=(4, 3)).astype("float32")
    h = np.tanh(z @ w2.T + biases[0])
    h = np.tanh(h @ w1.T + biases[1])
    logits = h @ w0.T + biases[2]
    np.testing.assert_allclose(numpy(decoder(z, return_logits=True)), logits.reshape(4, 2, 3), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(numpy(decoder(z)), 1 / (1 + np.exp(-logits.reshape(4, 2, 3))), rtol=1e-5)
    assert [b.shape for b in decoder.biases] == [(4,), (5,), (6,)]
    assert decoder.compute_output_shape((4, 3)) == (4, 2, 3)


def test_tied_decoder_uses_the_encoder_dropout_in_training_only():
    encoder = tfae.Encoder(3, hidden_units=(64,), dropout=0.5)
    decoder = tfae.TiedDecoder(encoder, output_shape=8, output_activation=None)
    assert [layer.rate for layer in decoder.dropout_layers] == [0.5]
    z = np.ones((16, 3), "float32")
    assert not np.allclose(numpy(decoder(z, training=True)), numpy(decoder(z)))
    np.testing.assert_allclose(numpy(decoder(z)), numpy(decoder(z)))
    assert tfae.TiedDecoder(tfae.Encoder(3, hidden_units=(4,)), output_shape=8).dropout_layers == []


def test_tied_decoder_round_trips_its_encoder_through_its_config():
    encoder = tfae.Encoder(3, hidden_units=(4,), activation="tanh")
    decoder = tfae.TiedDecoder(encoder, output_shape=(6,), output_activation="linear", name="tied")
    config = decoder.get_config()
    assert config["output_shape"] == [6] and config["output_activation"] == "linear" and config["name"] == "tied"
    clone = tfae.TiedDecoder.from_config(config)
    assert clone.get_config() == config and clone.encoder.get_config() == encoder.get_config()


@pytest.mark.parametrize("make, arguments", [
    (lambda: tfae.ConvEncoder(3, filters=(2,), kernel_size=2, strides=1, activation="tanh",
                              latent_activation="relu", kernel_regularizer="l2", bias_initializer="ones"), None),
    (lambda: tfae.ConvDecoder((4, 4, 1), filters=(3,), kernel_size=2, strides=2, activation="tanh",
                              output_activation=None, bias_regularizer="l1"), None),
    (lambda: Corruption("masking", 0.25, seed=7), {"noise": "masking", "noise_level": 0.25, "seed": 7}),
])
def test_family_layer_config_holds_every_constructor_argument(make, arguments):
    layer = make()
    config = layer.get_config()
    assert set(inspect.signature(type(layer).__init__).parameters) - {"self", "kwargs"} <= set(config)
    if arguments:
        assert {key: config[key] for key in arguments} == arguments
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_conv_config_values_are_the_arguments_given():
    encoder = tfae.ConvEncoder(3, filters=(2, 5), kernel_size=4, strides=3, activation="tanh", latent_activation="relu")
    config = encoder.get_config()
    assert (config["latent_dim"], config["filters"], config["kernel_size"], config["strides"]) == (3, [2, 5], 4, 3)
    assert (config["activation"], config["latent_activation"]) == ("tanh", "relu")
    decoder = tfae.ConvDecoder((9, 9, 2), filters=7, kernel_size=1, strides=3, output_activation="tanh")
    config = decoder.get_config()
    assert (config["output_shape"], config["filters"], config["strides"]) == ([9, 9, 2], [7], 3)
    assert (config["kernel_size"], config["output_activation"]) == (1, "tanh")


@pytest.mark.parametrize("noise, level", [("gaussian", 0.3), ("masking", 0.4)])
def test_corruption_draws_from_its_own_seeded_stream_in_training_only(noise, level):
    layer = Corruption(noise, level, seed=5)
    x = np.random.default_rng(0).random((64, 16), dtype=np.float32) + 0.5
    np.testing.assert_array_equal(numpy(layer(x)), x)
    got = numpy(layer(x, training=True))
    stream = keras.random.SeedGenerator(5)
    if noise == "gaussian":
        expected = x + level * numpy(keras.random.normal(x.shape, seed=stream))
    else:
        expected = np.where(numpy(keras.random.uniform(x.shape, seed=stream)) >= level, x, 0)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert layer.compute_output_shape((None, 16)) == (None, 16) and layer.name == "corruption"


@pytest.mark.parametrize("make, message", [
    (lambda: tfae.ConvEncoder(2, filters=()), "Expected `filters` to name at least one convolution. Received: filters=()"),
    (lambda: tfae.ConvDecoder((4, 4)), "Expected `output_shape` to be (height, width, channels). "
                                        "Received: output_shape=(4, 4)"),
    (lambda: tfae.ConvDecoder((6, 8, 1)), "Expected the height and width of `output_shape` to be multiples of "
                                           "strides ** len(filters) = 4. Received: output_shape=(6, 8, 1)"),
    (lambda: tfae.ConvDecoder((8, 6, 1), filters=(2,), strides=2), None),
    (lambda: tfae.TiedDecoder(tfae.ConvEncoder(2), output_shape=4),
     "Expected `encoder` to be a tfae.Encoder (dense): tied weights transpose its kernels. "
     "Received: encoder of type ConvEncoder"),
    (lambda: Corruption(None), "Expected `noise` to be one of ('gaussian', 'masking'). Received: noise=None"),
    (lambda: Corruption("gaussian", 0.0), "Expected `noise_level` in (0, 1) when `noise` is set. "
                                          "Received: noise_level=0.0"),
])
def test_family_layers_refuse_bad_arguments_by_name(make, message):
    if message is None:
        make()  # 8 and 6 are both multiples of 2: accepted
        return
    with pytest.raises(ValueError) as error:
        make()
    assert str(error.value) == message


def test_family_layers_refuse_inputs_of_the_wrong_shape():
    with pytest.raises(ValueError) as error:
        tfae.ConvEncoder(2, name="enc").build((None, 784))
    assert str(error.value) == ("Expected the input of layer 'enc' to be images of shape (batch_size, height, width, "
                                "channels) with known sizes. Received: input_shape=(None, 784)")
    with pytest.raises(ValueError, match=r"with known sizes. Received: input_shape=\(None, 28, None, 1\)"):
        tfae.ConvEncoder(2).build((None, 28, None, 1))
    decoder = tfae.TiedDecoder(tfae.Encoder(3, hidden_units=(4,)), output_shape=10)
    with pytest.raises(ValueError) as error:
        decoder.build((None, 2))
    assert str(error.value) == ("Expected the input of layer 'decoder' to be latent vectors of shape (batch_size, 3). "
                                "Received: input_shape=(None, 2)")
    encoder = tfae.Encoder(3, hidden_units=(4,))
    encoder.build((None, 12))
    with pytest.raises(ValueError) as error:
        tfae.TiedDecoder(encoder, output_shape=10).build((None, 3))
    assert str(error.value) == ("Expected `output_shape` to hold as many values as the encoder's input (12). "
                                "Received: output_shape=(10,)")


def test_tied_decoder_names_its_bad_arguments():
    encoder = tfae.Encoder(3, hidden_units=(4,))
    with pytest.raises(ValueError, match=r"Expected `output_shape` to be a positive integer .* Received: output_shape=0$"):
        tfae.TiedDecoder(encoder, output_shape=0)
    with pytest.raises(ValueError, match="Received: output_activation='nope'"):
        tfae.TiedDecoder(encoder, output_shape=4, output_activation="nope")


def test_tied_decoder_biases_start_at_zero_and_are_named_by_position():
    decoder = tfae.TiedDecoder(tfae.Encoder(3, hidden_units=(5,), bias_initializer="ones"), output_shape=8)
    decoder.build((None, 3))
    assert [numpy(b).tolist() for b in decoder.biases] == [[0.0] * 5, [0.0] * 8]
    assert [b.path.split("/")[-1] for b in decoder.biases] == ["bias_0", "bias_1"]


def test_tied_decoder_computes_in_the_policy_dtype():
    encoder = tfae.Encoder(3, hidden_units=(4,), dtype="mixed_float16")
    decoder = tfae.TiedDecoder(encoder, output_shape=6, dtype="mixed_float16")
    out = decoder(np.ones((2, 3), "float32"), return_logits=True)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"


def test_training_kwargs_offers_training_only_to_layers_that_take_it():
    from tfae.layers._common import training_kwargs

    class Plain(keras.layers.Layer):
        def call(self, x):
            return x

    class Trains(keras.layers.Layer):
        def call(self, x, training=None):
            return x

    class Open(keras.layers.Layer):
        def call(self, x, **kwargs):
            return x

    assert training_kwargs(Plain(), True) == {}
    assert training_kwargs(Trains(), True) == {"training": True}
    assert training_kwargs(Open(), False) == {"training": False}


def test_conv_and_noise_defaults_are_the_documented_ones():
    encoder, decoder, corruption = tfae.ConvEncoder(2), tfae.ConvDecoder((8, 8, 1)), Corruption()
    assert (encoder.filters, encoder.kernel_size, encoder.strides, encoder.activation) == ((32, 64), 3, 2, "relu")
    assert (decoder.filters, decoder.kernel_size, decoder.strides, decoder.activation) == ((64, 32), 3, 2, "relu")
    assert encoder.latent_activation is None and decoder.output_activation == "sigmoid"
    assert (corruption.noise, corruption.noise_level, corruption.seed) == ("gaussian", 0.3, None)
    assert corruption.built  # no weights: usable (and restorable) without a build step
    assert Corruption().name == Corruption().name == "corruption"  # the same name each time, not corruption_1
    assert (tfae.ConvEncoder(2).name, tfae.ConvDecoder((4, 4, 1)).name) == ("encoder", "decoder")


@pytest.mark.parametrize("make, message", [
    (lambda: tfae.ConvEncoder(0), "Received: latent_dim=0"),
    (lambda: tfae.ConvDecoder((0, 8, 1)), "Expected `output_shape` to be a positive integer or a tuple of positive "
                                          "integers (the shape of one sample, without the batch axis). "
                                          "Received: output_shape=(0, 8, 1)"),
    (lambda: Corruption("salt"), "Received: noise='salt'"),
    (lambda: Corruption("masking", 1.5), "Received: noise_level=1.5"),
])
def test_family_layer_errors_name_the_argument(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert str(error.value).endswith(message)


def test_conv_encoder_checks_its_inputs_against_the_built_shape():
    encoder = tfae.ConvEncoder(2, filters=(3,))
    encoder.build((None, 8, 8, 1))
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 8"):
        encoder(np.zeros((2, 16, 16, 1), "float32"))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        encoder(np.zeros((2, 8, 8), "float32"))
    with pytest.raises(ValueError) as error:
        tfae.ConvEncoder(2, name="enc").build((None, None, 28, 1))
    assert str(error.value).endswith("Received: input_shape=(None, None, 28, 1)")


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_corruption_draws_in_the_dtype_of_its_inputs(noise):
    layer = Corruption(noise, 0.5, seed=2, dtype="float16")
    x = np.linspace(0.1, 1.0, 256, dtype="float16").reshape(16, 16)
    got = layer(x, training=True)
    assert keras.backend.standardize_dtype(got.dtype) == "float16"
    stream = keras.random.SeedGenerator(2)
    if noise == "gaussian":
        expected = x + np.float16(0.5) * numpy(keras.random.normal(x.shape, dtype="float16", seed=stream))
    else:
        expected = np.where(numpy(keras.random.uniform(x.shape, dtype="float16", seed=stream)) >= 0.5, x, 0)
    np.testing.assert_array_equal(numpy(got), expected)


def test_tied_decoder_dropout_layers_are_named_and_follow_the_dtype_policy():
    encoder = tfae.Encoder(3, hidden_units=(5, 4), dropout=0.2)
    decoder = tfae.TiedDecoder(encoder, output_shape=8, dtype="mixed_float16")
    assert [layer.name for layer in decoder.dropout_layers] == ["dropout_0", "dropout_1"]
    assert {layer.dtype_policy.name for layer in decoder.dropout_layers} == {"mixed_float16"}
    assert decoder.supports_masking is False


def test_conv_encoder_names_a_bad_latent_activation():
    with pytest.raises(ValueError, match="Received: latent_activation='nope'"):
        tfae.ConvEncoder(2, latent_activation="nope")
    with pytest.raises(ValueError, match="Received: output_activation='nope'"):
        tfae.ConvDecoder((4, 4, 1), output_activation="nope")


@pytest.mark.parametrize("arguments, received", [
    ({"filters": (4, 0)}, "filters=(4, 0)"), ({"kernel_size": 0}, "kernel_size=0"), ({"strides": -1}, "strides=-1"),
    ({"activation": "nope"}, "activation='nope'"),
])
def test_conv_arguments_are_named_in_their_errors(arguments, received):
    for make in (lambda: tfae.ConvEncoder(2, **arguments), lambda: tfae.ConvDecoder((4, 4, 1), **arguments)):
        with pytest.raises(ValueError) as error:
            make()
        assert str(error.value).endswith(f"Received: {received}")


def test_conv_halves_give_every_sublayer_their_dtype_policy():
    encoder = tfae.ConvEncoder(2, filters=(3,), dtype="mixed_float16")
    decoder = tfae.ConvDecoder((4, 4, 1), filters=(3,), dtype="mixed_float16")
    sublayers = [*encoder.conv_layers, encoder.bottleneck, decoder.projection, *decoder.deconv_layers,
                 decoder.reconstruction]
    assert {layer.dtype_policy.name for layer in sublayers} == {"mixed_float16"}
