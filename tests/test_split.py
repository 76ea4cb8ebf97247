import keras
import numpy as np
import pytest

import tfae


def article_sequential():
    """The article's model, exactly as written there (the first layer takes input_shape)."""
    return keras.Sequential(
        [
            keras.layers.Dense(256, input_shape=(784,)),
            keras.layers.Dense(128, name="bottleneck"),
            keras.layers.Dense(784, activation="sigmoid"),
        ]
    )


def functional_autoencoder():
    inputs = keras.Input((784,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    code = keras.layers.Dense(16, name="bottleneck")(hidden)
    hidden = keras.layers.Dense(64, activation="relu")(code)
    outputs = keras.layers.Dense(784, activation="sigmoid")(hidden)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("make", [article_sequential, functional_autoencoder])
def test_split_halves_compose_to_the_original_model(make):
    model = make()
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    encoder, decoder = tfae.split_autoencoder(model, bottleneck="bottleneck")
    code = encoder.predict(x, verbose=0)
    assert code.shape == (5, model.get_layer("bottleneck").units)
    np.testing.assert_allclose(decoder.predict(code, verbose=0), model.predict(x, verbose=0), atol=1e-5)


def test_split_halves_share_weights_with_the_original():
    model = article_sequential()
    x = np.random.default_rng(0).random((8, 784), dtype=np.float32)
    encoder, decoder = tfae.split_autoencoder(model)
    model.compile("adam", "binary_crossentropy")
    model.fit(x, x, epochs=1, verbose=0)
    np.testing.assert_allclose(decoder(encoder(x)), model(x), atol=1e-5)
    assert decoder.layers[-1].kernel is model.layers[-1].kernel


def test_split_of_a_tfae_autoencoder_gives_models_of_its_halves():
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    encoder, decoder = tfae.split_autoencoder(ae)
    np.testing.assert_allclose(decoder(encoder(x)), ae(x), atol=1e-6)


def test_symbolic_tensor_getters_return_the_graphs_tensors():
    model = functional_autoencoder()
    assert tfae.get_input_tensor(model) is model.inputs[0]
    assert tfae.get_output_tensor(model) is model.outputs[0]
    assert tfae.get_bottleneck_tensor(model) is model.get_layer("bottleneck").output
    assert tfae.get_bottleneck_tensor(model, name="bottleneck").shape == (None, 16)


def test_split_without_such_a_layer_lists_the_layer_names():
    model = article_sequential()
    with pytest.raises(ValueError, match=r"Received: bottleneck='code'.*'bottleneck'"):
        tfae.split_autoencoder(model, bottleneck="code")


def test_split_of_an_unbuilt_model_says_to_build_it():
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2, name="bottleneck")])
    with pytest.raises(ValueError, match="never built or called"):
        tfae.split_autoencoder(model)


def test_split_across_a_skip_connection_is_refused():
    inputs = keras.Input((10,))
    code = keras.layers.Dense(3, name="bottleneck")(inputs)
    hidden = keras.layers.Dense(10)(code)
    outputs = keras.layers.Add()([hidden, inputs])
    model = keras.Model(inputs, outputs)
    with pytest.raises(ValueError, match="not a cut point"):
        tfae.split_autoencoder(model)


def test_getters_reject_non_models():
    with pytest.raises(ValueError, match="Received: model of type Dense"):
        tfae.get_input_tensor(keras.layers.Dense(3))


@pytest.mark.parametrize("getter", [tfae.get_input_tensor, tfae.get_output_tensor])
def test_getters_name_themselves_in_their_errors(getter):
    name = getter.__name__
    with pytest.raises(ValueError) as error:
        getter(keras.layers.Dense(3))
    assert str(error.value) == f"`{name}` expects a Keras model. Received: model of type Dense"
    with pytest.raises(ValueError) as error:
        getter(keras.Sequential([keras.layers.Dense(3)], name="unbuilt"))
    assert str(error.value).startswith(f"`{name}` needs a model with a symbolic layer graph, and model 'unbuilt' has none")
