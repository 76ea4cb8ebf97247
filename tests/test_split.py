import warnings

import keras
import numpy as np
import pytest

import tfae


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)  # a PyTorch output that requires grad has no plain numpy()


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
    np.testing.assert_allclose(_numpy(decoder(encoder(x))), _numpy(model(x)), atol=1e-5)
    assert decoder.layers[-1].kernel is model.layers[-1].kernel


def test_split_of_a_tfae_autoencoder_gives_models_of_its_halves():
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    encoder, decoder = tfae.split_autoencoder(ae)
    np.testing.assert_allclose(_numpy(decoder(encoder(x))), _numpy(ae(x)), atol=1e-6)


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


def skip_model(skip_first):
    inputs = keras.Input((10,))
    code = keras.layers.Dense(3, name="bottleneck")(inputs)
    hidden = keras.layers.Dense(10)(code)
    outputs = keras.layers.Add()([inputs, hidden] if skip_first else [hidden, inputs])
    return keras.Model(inputs, outputs, name="skippy")


@pytest.mark.parametrize("skip_first", [True, False])
def test_a_skip_connection_is_found_whichever_branch_is_walked_first(skip_first):
    with pytest.raises(ValueError) as error:
        tfae.split_autoencoder(skip_model(skip_first))
    assert str(error.value) == (
        "Layer 'bottleneck' is not a cut point of model 'skippy': a connection from the input reaches the output "
        "without passing through it (a skip connection), so no decoder can be built from the code alone. "
        "Received: bottleneck='bottleneck'")


def test_branches_that_meet_again_after_the_bottleneck_still_split():
    inputs = keras.Input((6,))
    code = keras.layers.Dense(3, name="bottleneck")(inputs)
    outputs = keras.layers.Add()([keras.layers.Dense(6)(code), keras.layers.Dense(6)(code)])
    encoder, decoder = tfae.split_autoencoder(keras.Model(inputs, outputs, name="diamond"))
    assert (encoder.name, decoder.name) == ("diamond_encoder", "diamond_decoder")
    x = np.random.default_rng(0).random((2, 6), dtype=np.float32)
    np.testing.assert_allclose(_numpy(decoder(encoder(x))), _numpy(keras.Model(inputs, outputs)(x)), rtol=1e-6)


def test_split_errors_are_whole_sentences_that_name_the_model():
    with pytest.raises(ValueError) as error:
        tfae.split_autoencoder(keras.Sequential([keras.layers.Dense(2, name="bottleneck")], name="lazy"))
    assert str(error.value) == (
        "`get_bottleneck_tensor` needs a model with a symbolic layer graph, and model 'lazy' has none: it was "
        "never built or called, or it is a subclassed model. Build it first (give the first layer an input "
        "shape, start from `keras.Input`, or call `model.build(input_shape)`).")
    inputs = keras.Input((4,))
    code = keras.layers.Dense(2, name="bottleneck")(inputs)
    two_outputs = keras.Model(inputs, [keras.layers.Dense(4)(code), keras.layers.Dense(4)(code)])
    with pytest.raises(ValueError) as error:
        tfae.split_autoencoder(two_outputs)
    assert str(error.value) == ("`split_autoencoder` expects a model with one input and one output. "
                                "Received: 1 inputs and 2 outputs")
    unbuilt = tfae.AutoEncoder(encoder=tfae.Encoder(2), decoder=tfae.Decoder(6), name="fresh")
    with pytest.raises(ValueError) as error:
        tfae.split_autoencoder(unbuilt)
    assert str(error.value) == ("`split_autoencoder` needs a built AutoEncoder: pass `input_shape=` or call it "
                                "on data first. Received: model='fresh'")


def test_split_of_an_autoencoder_names_its_halves_and_their_inputs():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,), name="ae")
    encoder, decoder = tfae.split_autoencoder(ae)
    assert (encoder.name, decoder.name) == ("ae_encoder", "ae_decoder")
    assert (encoder.inputs[0].name, decoder.inputs[0].name) == ("samples", "code")


@pytest.mark.parametrize("make", [
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=0),
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=0),
    lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, tied=True, noise="gaussian"),
], ids=["vae", "aae", "tied-denoising"])
def test_split_of_every_tfae_autoencoder_gives_halves_that_compose_to_the_model_and_encode_as_it_does(make):
    # A VAE's encoder outputs mean and log-variance; its encoder half ends in the mean, the code `encode` gives.
    model = make()
    x = np.random.default_rng(0).random((5, 6), dtype=np.float32)
    encoder, decoder = tfae.split_autoencoder(model)
    assert encoder.output_shape == decoder.input_shape == (None, 2)
    np.testing.assert_allclose(_numpy(encoder(x)), model.encode(x), atol=1e-6)
    np.testing.assert_allclose(_numpy(decoder(encoder(x))), model.predict(x, verbose=0),
                               atol=1e-6)


def test_split_of_a_tfae_autoencoder_refuses_another_bottleneck_name():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    with pytest.raises(ValueError) as error:
        tfae.split_autoencoder(ae, bottleneck="no_such_layer")
    assert str(error.value) == ("Expected bottleneck='bottleneck' for a tfae AutoEncoder: it splits between its "
                                "`encoder` and `decoder`. Received: bottleneck='no_such_layer'")


def nested_halves():
    """The Keras idiom: an encoder and a decoder model, each called on its own, then nested in a third."""
    encoder_input = keras.Input((12,))
    encoder = keras.Model(encoder_input, keras.layers.Dense(3)(keras.layers.Dense(8, activation="relu")(
        encoder_input)), name="enc")
    decoder_input = keras.Input((3,))
    decoder = keras.Model(decoder_input, keras.layers.Dense(12, activation="sigmoid")(decoder_input), name="dec")
    return encoder, decoder


@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_split_of_a_model_of_nested_encoder_and_decoder_models_cuts_between_them(style):
    encoder, decoder = nested_halves()
    x = np.random.default_rng(0).random((5, 12), dtype=np.float32)
    if style == "sequential":
        model = keras.Sequential([keras.Input((12,)), encoder, decoder], name="ae")
    else:
        inputs = keras.Input((12,))
        model = keras.Model(inputs, decoder(encoder(inputs)), name="ae")
    encoder_half, decoder_half = tfae.split_autoencoder(model, bottleneck="enc")
    np.testing.assert_allclose(_numpy(encoder_half(x)), _numpy(encoder(x)), rtol=1e-6)
    np.testing.assert_allclose(_numpy(decoder_half(encoder_half(x))), _numpy(model(x)), rtol=1e-6)
    assert tfae.get_bottleneck_tensor(model, "enc") is encoder_half.outputs[0]


def test_split_of_a_model_whose_layers_another_model_called_first_uses_this_models_calls():
    layers = [keras.layers.Dense(8), keras.layers.Dense(3, name="bottleneck"), keras.layers.Dense(12)]
    first = keras.Sequential([keras.Input((12,)), *layers], name="first")
    second = keras.Sequential([keras.Input((12,)), *layers], name="second")  # each layer's second call
    x = np.random.default_rng(0).random((4, 12), dtype=np.float32)
    for model in (first, second):
        encoder, decoder = tfae.split_autoencoder(model)
        np.testing.assert_allclose(_numpy(decoder(encoder(x))), _numpy(model(x)), rtol=1e-6)
        assert encoder.inputs[0] is model.inputs[0]


def test_split_at_a_layer_that_cannot_hold_the_code_is_refused_by_name():
    inputs = keras.Input((12,), name="pixels")
    hidden = keras.layers.Dense(3, name="bottleneck")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(12, name="out")(hidden), name="plain")
    for name, why in (("out", "'out' makes its output, which would leave nothing to decode"),
                      ("pixels", "'pixels' is its input layer, which would leave nothing to encode")):
        with pytest.raises(ValueError) as error:
            tfae.split_autoencoder(model, bottleneck=name)
        assert str(error.value) == ("Expected the bottleneck to be a layer between the input and the output of "
                                    f"model 'plain'; {why}. Received: bottleneck={name!r}")
    twice = keras.layers.Dense(12, name="twice")
    with pytest.raises(ValueError) as error:
        tfae.split_autoencoder(keras.Model(inputs, twice(twice(inputs)), name="loop"), bottleneck="twice")
    assert str(error.value) == ("Expected the bottleneck layer to be called once in model 'loop', so that its "
                                "output is the code; 'twice' is called 2 times. Received: bottleneck='twice'")
    pair = keras.layers.Lambda(lambda x: (x[:, :3], x[:, 3:6]), name="pair")(inputs)
    two_codes = keras.Model(inputs, keras.layers.Dense(12)(keras.layers.Concatenate()(list(pair))), name="two")
    with pytest.raises(ValueError) as error:
        tfae.split_autoencoder(two_codes, bottleneck="pair")
    assert str(error.value) == ("Expected the bottleneck layer to return one tensor, the code; 'pair' returns 2. "
                                "Received: bottleneck='pair'")


def test_split_of_an_autoencoder_subclass_that_overrides_call_warns_that_the_halves_do_not_run_it():
    class Halved(tfae.AutoEncoder):
        def call(self, inputs, training=None):
            return super().call(inputs, training=training) * 0.5

    with pytest.warns(UserWarning) as record:
        tfae.split_autoencoder(Halved(input_shape=(6,), latent_dim=2, name="halved"))
    assert [str(w.message) for w in record] == [
        "`split_autoencoder` splits model 'halved' between its `encoder` and `decoder`, but its class Halved "
        "overrides `call`, which the halves do not run: `decoder(encoder(x))` can differ from `model(x)`."]
    assert record[0].filename == __file__  # the warning points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tfae's own classes, whose `call` is encoder then decoder, do not warn
        for model in (tfae.AutoEncoder(input_shape=(6,), latent_dim=2),
                      tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2),
                      tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2)):
            tfae.split_autoencoder(model)
