import inspect
import json
import warnings

import keras
import numpy as np
import pytest

import tfae


def article_model(**kwargs):
    return tfae.AutoEncoder(input_shape=(784,), latent_dim=16, hidden_units=(32,), **kwargs)


def noisy_copy(x):
    """`x` with Gaussian noise of standard deviation 0.3, clipped to [0, 1]: a denoiser's inputs."""
    return np.clip(x + np.random.default_rng(0).normal(0, 0.3, x.shape), 0, 1).astype("float32")


def test_fit_with_inputs_only_reduces_the_loss_and_reports_validation(small_digits):
    (x_train, _), (x_test, _) = small_digits
    ae = article_model()
    ae.compile()
    history = ae.fit(x_train, epochs=3, batch_size=64, validation_data=x_test, verbose=0)
    assert set(history.history) == {"loss", "mse", "val_loss", "val_mse"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.isfinite(history.history["val_loss"]).all()


def test_default_compile_is_adam_sigmoid_cross_entropy_and_mse():
    ae = article_model()
    ae.compile()
    assert isinstance(ae.optimizer, keras.optimizers.Adam)
    assert float(ae.optimizer.learning_rate) == pytest.approx(1e-3)
    assert isinstance(ae.loss, tfae.SigmoidCrossEntropy)
    x = np.random.default_rng(0).uniform(size=(4, 784)).astype(np.float32)
    scores = ae.evaluate(x, verbose=0, return_dict=True)
    assert set(scores) == {"loss", "mse"}
    assert scores["mse"] == pytest.approx(float(np.mean((ae.reconstruct(x) - x) ** 2)), rel=1e-5)


def test_default_loss_equals_keras_binary_crossentropy_on_ordinary_inputs(small_digits):
    (x_train, _), _ = small_digits
    ae = article_model()
    ae.compile()
    ours = ae.evaluate(x_train[:64], verbose=0, return_dict=True)["loss"]
    expected = keras.ops.convert_to_numpy(
        keras.losses.binary_crossentropy(x_train[:64], ae.reconstruct(x_train[:64]))
    ).mean()
    assert ours == pytest.approx(float(expected), rel=1e-4)


def test_default_loss_is_computed_from_logits_so_saturated_units_stay_exact():
    x = np.zeros((8, 784), np.float32)
    ae = article_model()
    ae.decoder.reconstruction.bias.assign(np.full(784, 40.0, np.float32))
    ae.compile()
    # Every pixel is 0 and every logit about 40: the exact loss is ~40 per pixel,
    # far beyond the clipped -log(1e-7) ~ 16 that a probability-based loss gives.
    loss = ae.evaluate(x, verbose=0, return_dict=True)["loss"]
    logits = keras.ops.convert_to_numpy(ae.decoder(ae.encode(x), return_logits=True))
    assert loss == pytest.approx(softplus_loss(x, logits), rel=1e-5)
    assert loss > 35


def test_training_from_saturated_wrong_outputs_still_learns():
    x = np.zeros((64, 784), np.float32)
    ae = article_model()
    ae.decoder.reconstruction.bias.assign(np.full(784, 40.0, np.float32))
    # The loss is a mean over 784 pixels, so each bias sees a gradient of 1/784.
    ae.compile(optimizer=keras.optimizers.SGD(784.0))
    history = ae.fit(x, epochs=3, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] - 0.5


def test_validation_split_holds_out_the_last_samples_as_keras_does(small_digits):
    (x, _), _ = small_digits
    split = article_model()
    split.compile()
    explicit = article_model()
    explicit.compile()
    explicit.set_weights(split.get_weights())

    by_split = split.fit(x, epochs=2, batch_size=64, validation_split=0.25, shuffle=False, verbose=0)
    by_hand = explicit.fit(x[:384], epochs=2, batch_size=64, validation_data=x[384:], shuffle=False, verbose=0)

    assert int(split.optimizer.iterations) == 2 * 6  # 384 training samples
    np.testing.assert_allclose(by_split.history["val_loss"], by_hand.history["val_loss"], rtol=1e-5)


@pytest.mark.parametrize("batch_size, steps", [(None, 16), (64, 8), (100, 6), (512, 1)])
def test_fit_takes_one_optimizer_step_per_batch_of_the_requested_size(small_digits, batch_size, steps):
    (x_train, _), _ = small_digits
    ae = article_model()
    ae.compile()
    ae.fit(x_train, epochs=1, batch_size=batch_size, verbose=0)
    assert int(ae.optimizer.iterations) == steps


def test_mse_loss_and_denoising_pairs_train_towards_clean_targets(small_digits):
    (x_train, _), _ = small_digits
    noisy = noisy_copy(x_train)
    # The same start, trained towards the clean targets and towards the noisy inputs themselves.
    denoiser, copier = article_model(), article_model()
    copier.set_weights(denoiser.get_weights())
    for model, targets in ((denoiser, x_train), (copier, noisy)):
        model.compile(loss="mse")
        history = model.fit(noisy, targets, epochs=2, batch_size=64, shuffle=False, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
    # A `fit` that trained on the inputs, not the targets, would make the two models the same.
    assert denoiser.evaluate(noisy, x_train, verbose=0)[0] < 0.99 * copier.evaluate(noisy, x_train, verbose=0)[0]


def test_metrics_of_denoising_pairs_compare_the_reconstruction_with_the_clean_targets(small_digits):
    (x_train, _), _ = small_digits
    clean = x_train[:128]
    noisy = noisy_copy(clean)
    ae = article_model()
    ae.compile(loss="mse")  # and the default metric, "mse": the same value when both read the targets
    result = ae.evaluate(noisy, clean, batch_size=64, verbose=0, return_dict=True)
    assert result["mse"] == pytest.approx(result["loss"], rel=1e-5)
    against_inputs = ae.evaluate(noisy, noisy, batch_size=64, verbose=0, return_dict=True)["mse"]
    assert result["mse"] != pytest.approx(against_inputs, rel=1e-3)


def test_fit_accepts_a_tf_data_pipeline_of_inputs_only(small_digits):
    import tensorflow as tf

    (x_train, _), (x_test, _) = small_digits
    ae = article_model()
    ae.compile()
    train = tf.data.Dataset.from_tensor_slices(x_train).batch(64)
    history = ae.fit(train, epochs=1, validation_data=tf.data.Dataset.from_tensor_slices(x_test).batch(64),
                     verbose=0)
    assert np.isfinite(history.history["val_loss"][0])


@pytest.mark.parametrize("form", ["pair", "one-tuple"])
def test_validation_data_as_pairs_or_one_tuples_gives_the_same_val_loss(small_digits, form):
    (x_train, _), (x_test, _) = small_digits
    ae = article_model()
    ae.compile()
    validation_data = (x_test, x_test) if form == "pair" else (x_test,)
    history = ae.fit(x_train, epochs=1, validation_data=validation_data, verbose=0)
    expected = ae.evaluate(x_test, verbose=0, return_dict=True)["loss"]
    assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-5)


def test_encode_and_decode_return_numpy_of_the_documented_shapes(small_digits):
    _, (x_test, _) = small_digits
    ae = article_model()
    z = ae.encode(x_test)
    x_hat = ae.decode(z)
    assert isinstance(z, np.ndarray) and z.shape == (len(x_test), 16)
    assert isinstance(x_hat, np.ndarray) and x_hat.shape == x_test.shape
    assert 0.0 <= x_hat.min() and x_hat.max() <= 1.0
    np.testing.assert_allclose(ae.reconstruct(x_test), x_hat, atol=1e-5)
    np.testing.assert_allclose(ae.predict(x_test, verbose=0), x_hat, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 7, 128, 5000])
def test_batched_encode_gives_the_same_codes_for_any_batch_size(small_digits, batch_size):
    _, (x_test, _) = small_digits
    ae = article_model()
    expected = keras.ops.convert_to_numpy(ae.encoder(x_test[:50]))
    np.testing.assert_allclose(ae.encode(x_test[:50], batch_size=batch_size), expected, atol=1e-5)


class CountingDecoder(tfae.Decoder):
    """Counts Python executions of `call`: under a compiled function, those are traces."""

    calls = 0

    def call(self, inputs, **kwargs):
        CountingDecoder.calls += 1
        return super().call(inputs, **kwargs)


@pytest.mark.skipif(keras.backend.backend() not in ("tensorflow", "jax"), reason="compiled backends only")
def test_decode_compiles_once_per_batch_size_whatever_the_number_of_samples(random_unit):
    ae = tfae.AutoEncoder(tfae.Encoder(4), CountingDecoder(6), input_shape=(6,))
    codes = [random_unit(n, 4) for n in (40, 16, 33, 47, 100)]  # a short last batch, whole ones, more
    expected = [keras.ops.convert_to_numpy(ae.decoder(z)) for z in codes]
    ae.decode(codes[0], batch_size=16)
    traced = CountingDecoder.calls
    for z, reference in zip(codes, expected):
        np.testing.assert_allclose(ae.decode(z, batch_size=16), reference, atol=1e-6)
    assert CountingDecoder.calls == traced


def test_encode_returns_a_writeable_array_and_leaves_its_input_alone(mnist_sample):
    (x_train, _), _ = mnist_sample  # aligned float32: shared with TensorFlow, not copied
    x = x_train[:300]
    before = x.copy()
    ae = article_model()
    for batch_size in (64, 300):  # several batches; one
        z = ae.encode(x, batch_size=batch_size)
        expected = z.copy()
        z[:] = 0.0  # the caller owns the result
        np.testing.assert_array_equal(x, before)
        np.testing.assert_array_equal(ae.encode(x, batch_size=batch_size), expected)


def test_writing_to_the_output_of_an_identity_model_leaves_the_input_alone(random_unit):
    from tfae._memory import as_shareable

    x = as_shareable(random_unit(8, 6))  # shared with TensorFlow: where an output could alias the input
    ae = tfae.AutoEncoder(keras.layers.Identity(name="bottleneck"), keras.layers.Identity(), input_shape=(6,))
    for batch_size in (8, 3):
        z = ae.encode(x, batch_size=batch_size)
        np.testing.assert_array_equal(z, x)
        z[:] = -1.0
        assert (x >= 0).all()


def test_mixed_precision_encode_returns_the_compute_dtype(small_digits):
    _, (x_test, _) = small_digits
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, dtype="mixed_float16")
    z = ae.encode(x_test[:20], batch_size=8)
    assert z.dtype == np.float16
    np.testing.assert_allclose(z, keras.ops.convert_to_numpy(ae.encoder(x_test[:20])), atol=1e-2)


def test_encode_from_several_threads_at_once_gives_each_its_own_codes(small_digits):
    from concurrent.futures import ThreadPoolExecutor

    _, (x_test, _) = small_digits
    ae = article_model()
    parts = [x_test[i * 32 : (i + 1) * 32] for i in range(4)]
    expected = [ae.encode(part, batch_size=10) for part in parts]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda part: ae.encode(part, batch_size=10), parts * 3))
    for i, result in enumerate(results):
        np.testing.assert_array_equal(result, expected[i % 4])


@pytest.mark.parametrize("position", [0, (1 << 18) - 1, 1 << 18, -1])  # first, either side of a chunk, last
def test_a_single_nan_anywhere_in_a_large_input_is_refused(position):
    x = np.zeros((400, 784), "float32")  # several chunks of the finiteness check
    x.reshape(-1)[position] = np.nan
    ae = article_model()
    with pytest.raises(ValueError, match="Received: x with 1 NaN or infinite"):
        ae.encode(x)


def test_encode_sees_weights_updated_by_training(small_digits):
    (x_train, _), _ = small_digits
    ae = article_model()
    before = ae.encode(x_train[:4])
    ae.compile()
    ae.fit(x_train, epochs=1, verbose=0)
    np.testing.assert_allclose(ae.encode(x_train[:4]), keras.ops.convert_to_numpy(ae.encoder(x_train[:4])),
                               atol=1e-5)
    assert not np.allclose(before, ae.encode(x_train[:4]))


def test_encode_accepts_lists_and_datasets(small_digits):
    import tensorflow as tf

    _, (x_test, _) = small_digits
    ae = article_model()
    expected = ae.encode(x_test[:10])
    np.testing.assert_allclose(ae.encode(x_test[:10].tolist()), expected, atol=1e-6)
    dataset = tf.data.Dataset.from_tensor_slices(x_test[:10]).batch(3)
    np.testing.assert_allclose(ae.encode(dataset), expected, atol=1e-6)


def test_encode_of_backend_tensors_is_differentiable():
    import tensorflow as tf

    ae = article_model()
    x = tf.random.uniform((4, 784))
    with tf.GradientTape() as tape:
        z = ae.encode(x)
        loss = tf.reduce_sum(z**2)
    assert isinstance(z, tf.Tensor)
    grads = tape.gradient(loss, ae.encoder.trainable_variables)
    assert all(g is not None for g in grads)


def test_decoder_as_gan_generator_gets_gradients_from_a_discriminator():
    import tensorflow as tf

    ae = article_model()
    generator = keras.Sequential([keras.Input((16,)), ae.decoder])
    discriminator = keras.Sequential([keras.Input((784,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.1)
    before = [w.numpy().copy() for w in ae.decoder.weights]
    noise = tf.random.normal((8, 16))
    with tf.GradientTape() as tape:
        fake = ae.decode(noise)
        loss = tf.reduce_mean(tf.nn.softplus(-discriminator(fake)))
    grads = tape.gradient(loss, ae.decoder.trainable_variables)
    optimizer.apply(grads, ae.decoder.trainable_variables)
    assert generator(noise).shape == (8, 784)
    assert any(not np.allclose(b, w.numpy()) for b, w in zip(before, ae.decoder.weights))


def test_encode_on_symbolic_tensors_composes_into_a_functional_model():
    ae = article_model()
    inputs = keras.Input((784,))
    code = ae.encode(inputs)
    assert isinstance(code, keras.KerasTensor) and code.shape == (None, 16)
    classifier = keras.Model(inputs, keras.layers.Dense(10)(code))
    assert classifier(np.zeros((2, 784), "float32")).shape == (2, 10)


def test_image_shaped_autoencoder_accepts_flat_inputs_too(small_digits):
    (x_train, _), _ = small_digits
    ae = tfae.AutoEncoder(input_shape=(28, 28, 1), latent_dim=8)
    images = x_train[:6].reshape(-1, 28, 28, 1)
    np.testing.assert_allclose(ae.encode(x_train[:6]), ae.encode(images), atol=1e-6)
    assert ae.reconstruct(images).shape == (6, 28, 28, 1)


def test_built_from_custom_keras_layers_and_built_lazily():
    encoder = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(3, name="bottleneck")], name="enc")
    decoder = keras.Sequential([keras.layers.Dense(12, activation="sigmoid"), keras.layers.Reshape((3, 4))],
                               name="dec")
    ae = tfae.AutoEncoder(encoder, decoder)
    assert not ae.built
    x = np.random.default_rng(0).random((5, 3, 4), dtype=np.float32)
    ae.compile()
    ae.fit(x, epochs=1, verbose=0)
    assert ae.encode(x).shape == (5, 3)
    assert ae.bottleneck.name == "bottleneck"


def test_encode_of_a_dataset_builds_an_unbuilt_model():
    import tensorflow as tf

    ae = tfae.AutoEncoder(tfae.Encoder(3), tfae.Decoder((4, 2)))
    images = np.random.default_rng(0).random((5, 4, 2), dtype=np.float32)
    codes = ae.encode(tf.data.Dataset.from_tensor_slices(images).batch(2))
    assert ae.built and codes.shape == (5, 3)


def test_bottleneck_is_the_encoders_code_layer():
    ae = article_model()
    assert ae.bottleneck is ae.encoder.bottleneck
    assert ae.bottleneck.name == "bottleneck"


def test_get_config_keeps_every_constructor_argument_and_a_loaded_model_has_them(tmp_path):
    arguments = dict(input_shape=(6, 2), latent_dim=3, hidden_units=(5, 4), activation="tanh",
                     latent_activation="sigmoid", output_activation="linear", dropout=0.25,
                     noise="masking", noise_level=0.2, sparsity=1e-3, tied=True)
    ae = tfae.AutoEncoder(**arguments, name="custom_name")
    config = ae.get_config()
    constructor = set(inspect.signature(tfae.AutoEncoder.__init__).parameters) - {"self", "kwargs"}
    assert constructor <= set(config), constructor - set(config)
    expected = {**arguments, "input_shape": [6, 2], "hidden_units": [5, 4], "encoder": None, "decoder": None}
    assert {key: config[key] for key in constructor} == expected
    ae.save(tmp_path / "ae.keras")
    loaded = keras.models.load_model(tmp_path / "ae.keras")
    assert loaded.name == "custom_name"
    assert {key: loaded.get_config()[key] for key in constructor} == expected
    assert (loaded.sample_shape, loaded.hidden_units, loaded.dropout) == ((6, 2), (5, 4), 0.25)


def test_keras_file_round_trip_keeps_class_outputs_and_optimizer_state(tmp_path, small_digits):
    (x_train, _), (x_test, _) = small_digits
    ae = article_model(dropout=0.1)
    ae.compile()
    ae.fit(x_train, epochs=1, batch_size=64, verbose=0)
    ae.save(tmp_path / "ae.keras")
    same = keras.models.load_model(tmp_path / "ae.keras")
    assert type(same) is tfae.AutoEncoder
    np.testing.assert_array_equal(same.reconstruct(x_test), ae.reconstruct(x_test))
    np.testing.assert_array_equal(same.encode(x_test), ae.encode(x_test))
    assert int(same.optimizer.iterations) == int(ae.optimizer.iterations)
    for ours, theirs in zip(ae.optimizer.variables, same.optimizer.variables, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(theirs))
    assert same.get_config() == ae.get_config()
    history = same.fit(x_train, epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_keras_file_round_trip_with_custom_encoder_and_decoder(tmp_path):
    ae = tfae.AutoEncoder(tfae.Encoder(3, hidden_units=(5,), name="enc"), tfae.Decoder((2, 4), name="dec"),
                          input_shape=(2, 4))
    ae.compile(loss="mse")
    ae.save(tmp_path / "custom.keras")
    same = keras.models.load_model(tmp_path / "custom.keras")
    x = np.random.default_rng(0).random((3, 2, 4), dtype=np.float32)
    np.testing.assert_array_equal(same.reconstruct(x), ae.reconstruct(x))
    assert same.encoder.name == "enc"
    # JSON turns the tuples of a built layer's build_config into lists.
    assert json.loads(json.dumps(same.get_config())) == json.loads(json.dumps(ae.get_config()))


def test_latent_dim_is_the_code_size_of_a_model_from_layers_and_its_config_keeps_none(tmp_path):
    ae = tfae.AutoEncoder(tfae.Encoder(3, name="enc"), tfae.Decoder((6,), name="dec"))
    assert ae.latent_dim is None  # not built: the encoder's size is not known yet
    ae.build((None, 6))
    assert ae.latent_dim == 3 and ae.get_config()["latent_dim"] is None
    ae.save(tmp_path / "layers.keras")
    loaded = keras.models.load_model(tmp_path / "layers.keras")
    assert loaded.latent_dim == 3 and loaded.get_config()["latent_dim"] is None


def test_weights_file_round_trip(tmp_path, small_digits):
    _, (x_test, _) = small_digits
    ae = article_model()
    ae.save_weights(tmp_path / "ae.weights.h5")
    other = article_model()
    other.load_weights(tmp_path / "ae.weights.h5")
    np.testing.assert_array_equal(other.encode(x_test), ae.encode(x_test))


def test_subclass_defined_by_a_user_round_trips(tmp_path):
    @keras.saving.register_keras_serializable(package="user_tests")
    class SparseAutoEncoder(tfae.AutoEncoder):
        def __init__(self, *args, sparsity=0.01, **kwargs):
            super().__init__(*args, **kwargs)
            self.sparsity = sparsity

        def call(self, inputs, training=None):
            self.add_loss(self.sparsity * keras.ops.mean(keras.ops.abs(self.encoder(inputs))))
            return super().call(inputs, training=training)

        def get_config(self):
            return {**super().get_config(), "sparsity": self.sparsity}

    ae = SparseAutoEncoder(input_shape=(6,), latent_dim=2, sparsity=0.5)
    ae.compile()
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    ae.fit(x, epochs=1, verbose=0)
    ae.save(tmp_path / "sparse.keras")
    same = keras.models.load_model(tmp_path / "sparse.keras")
    assert type(same) is SparseAutoEncoder and same.sparsity == 0.5
    np.testing.assert_array_equal(same.reconstruct(x), ae.reconstruct(x))


@keras.saving.register_keras_serializable(package="user_tests")
class _WithHead(tfae.AutoEncoder):
    """A user's subclass that adds a layer, a metric, a seed and a variable after `super().__init__()`."""

    def __init__(self, *, head_units=3, **kwargs):
        super().__init__(**kwargs)
        self.head_units = head_units
        self.head = keras.layers.Dense(head_units, name="head")
        self.head_tracker = keras.metrics.Mean(name="head_penalty")
        self.head_seed = keras.random.SeedGenerator(1)
        self.head_scale = keras.Variable(1e-2, trainable=False, name="head_scale")

    def call(self, inputs, training=None, **kwargs):
        penalty = self.head_scale * keras.ops.mean(keras.ops.square(self.head(self.encoder(inputs))))
        self.add_loss(penalty)
        return super().call(inputs, training=training, **kwargs)

    def get_config(self):
        return {**super().get_config(), "head_units": self.head_units}


@pytest.mark.parametrize("input_shape, first_use", [((6,), None), (None, "fit"), (None, "encode"), (None, "build")],
                         ids=["built_at_once", "built_by_fit", "built_by_encode", "built_by_build"])
def test_a_subclass_adds_layers_and_state_after_super_init_and_its_file_loads_them(tmp_path, input_shape,
                                                                                    first_use):
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    ae = _WithHead(input_shape=input_shape, latent_dim=2, decoder=tfae.Decoder((6,)))
    assert ae.built == (input_shape is not None) and ae.head.built == ae.built  # the head too, by calling
    if first_use == "encode":
        ae.encode(x)
    elif first_use == "build":
        ae.build((None, 6))
    assert ae.head.built or first_use == "fit"
    assert getattr(ae._logits._local, "entry", None) is None  # the symbolic call left no scratch tensor behind
    ae.compile()
    ae.fit(x, epochs=1, batch_size=8, verbose=0)
    ae.save(tmp_path / "head.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when it skips variables it cannot load
        same = keras.models.load_model(tmp_path / "head.keras")
    assert type(same) is _WithHead and same.head.built
    assert len(same.weights) == len(ae.weights) == 7  # encoder, decoder and head kernels and biases, head_scale
    for loaded, saved in zip(same.weights, ae.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(loaded), np.asarray(saved))
    assert len(same.optimizer.variables) == len(ae.optimizer.variables)
    np.testing.assert_array_equal(same.predict(x, verbose=0), ae.predict(x, verbose=0))


def test_a_subclass_whose_call_cannot_run_symbolically_gets_a_warning_naming_its_layers():
    class Failing(tfae.AutoEncoder):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.head = keras.layers.Dense(2, name="head")

        def call(self, inputs, training=None, **kwargs):
            raise RuntimeError("this call needs real data")

    with pytest.warns(UserWarning, match=r"could not build its layers \['head'\] by calling itself on a symbolic "
                      r"batch of shape \(None, 6\) \(RuntimeError: this call needs real data\)\. Build them in an "
                      r"override of `build\(\)` that calls `super\(\)\.build\(input_shape\)`, or their weights will "
                      r"not load from a saved file\.$") as record:
        model = Failing(input_shape=(6,), latent_dim=2)
    assert model.built and not model.head.built
    assert [warning.filename for warning in record] == [__file__]  # the user's line, not tfae's


def test_only_a_subclass_with_layers_of_its_own_is_built_by_a_symbolic_call(monkeypatch):
    from tfae import _keras_private

    calls = []
    build_by_calling = _keras_private.build_by_calling
    monkeypatch.setattr(_keras_private, "build_by_calling",
                        lambda model, shape: calls.append(type(model).__name__) or build_by_calling(model, shape))
    tfae.AutoEncoder(input_shape=(6,), latent_dim=2, noise="gaussian", sparsity=0.1)
    tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2)
    tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2)  # its discriminator is built by its own build
    tfae.GAN(keras.Sequential([keras.layers.Dense(6)]), keras.Sequential([keras.layers.Dense(1)]), latent_dim=2)
    assert calls == []
    _WithHead(input_shape=(6,), latent_dim=2)
    assert calls == ["_WithHead"]


def test_a_subclass_builds_itself_in_its_own_init_to_use_its_weights_there():
    class Pretrained(tfae.AutoEncoder):
        def __init__(self, weights, **kwargs):
            super().__init__(**kwargs)
            self.build((None, *self.sample_shape))
            self.set_weights(weights)

    source = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    copy = Pretrained(source.get_weights(), input_shape=(6,), latent_dim=2)
    x = np.random.default_rng(0).random((4, 6), dtype=np.float32)
    np.testing.assert_array_equal(copy.reconstruct(x), source.reconstruct(x))


def test_a_gan_subclass_adds_state_after_super_init():
    class CountingGAN(tfae.GAN):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.steps_seen = keras.Variable(0, trainable=False, name="steps_seen")

    gan = CountingGAN(keras.Sequential([keras.layers.Dense(6)]), keras.Sequential([keras.layers.Dense(1)]),
                      latent_dim=2)
    assert gan.built and gan.sample_shape == (6,)
    assert any(v.name == "steps_seen" for v in gan.non_trainable_weights)


@pytest.mark.parametrize("copy", ["pickle", "deepcopy"])
@pytest.mark.parametrize("kind", ["AutoEncoder", "subclass"])
def test_a_model_pickles_and_deep_copies_with_its_weights_and_optimizer_state(copy, kind):
    import copy as copying
    import pickle

    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    ae = (tfae.AutoEncoder(input_shape=(6,), latent_dim=2) if kind == "AutoEncoder"
          else _WithHead(input_shape=(6,), latent_dim=2))
    ae.compile()
    ae.fit(x, epochs=1, batch_size=8, verbose=0)
    same = pickle.loads(pickle.dumps(ae)) if copy == "pickle" else copying.deepcopy(ae)
    assert type(same) is type(ae) and same.built and int(same.optimizer.iterations) == 2
    for copied, original in zip(same.weights + same.optimizer.variables, ae.weights + ae.optimizer.variables,
                                strict=True):
        np.testing.assert_array_equal(np.asarray(copied), np.asarray(original))
    np.testing.assert_array_equal(same.predict(x, verbose=0), ae.predict(x, verbose=0))


def test_the_default_halves_take_the_models_activation_and_dropout():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,), activation="tanh", dropout=0.25)
    assert (ae.encoder.activation, ae.decoder.activation) == ("tanh", "tanh")
    assert (ae.encoder.dropout, ae.decoder.dropout) == (0.25, 0.25)


def test_reconstruction_error_refuses_targets_of_another_length_by_name():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    x = np.random.default_rng(0).random((4, 6), dtype=np.float32)
    with pytest.raises(ValueError, match=r"^Expected `y` to have one target per sample of `x` \(4\)\. "
                                         r"Received: y with 3 samples$"):
        ae.reconstruction_error(x, x[:3])


class _SigmoidHead(tfae.AutoEncoder):
    """A user's `call` that puts a layer after the decoder's logits: the model's output is no longer the decoder's."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.head = keras.layers.Dense(6, name="head")

    def call(self, inputs, training=None, **kwargs):
        return keras.ops.sigmoid(self.head(super().call(inputs, training=training, **kwargs)))


class _KerasSignature(tfae.AutoEncoder):
    """A user's `call` with Keras' usual signature (no `return_logits`)."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=training)


class _PassThrough(tfae.AutoEncoder):
    """A user's `call` that returns tfae's output unchanged (its logits reach `compute_loss`)."""

    def call(self, inputs, training=None, **kwargs):
        return super().call(inputs, training=training, **kwargs)


@pytest.mark.parametrize("saturated", [False, True], ids=["moderate_logits", "saturated_logits"])
@pytest.mark.parametrize("kind", [_SigmoidHead, _KerasSignature, _PassThrough],
                         ids=["head_after_decoder", "keras_signature", "pass_through"])
def test_reconstruction_error_of_a_subclass_that_overrides_call_is_what_evaluate_gives(kind, saturated):
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    ae = kind(input_shape=(6,), latent_dim=2)
    ae.compile()
    ae.fit(x, epochs=1, batch_size=8, verbose=0)
    if saturated:  # logits of 30: probabilities round to 1, only the exact logits give the loss
        ae.decoder.reconstruction.bias.assign(np.full(6, 30.0, np.float32))
    loss = ae.evaluate(x, batch_size=16, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(ae.reconstruction_error(x, batch_size=5).mean(), loss, rtol=1e-5)


def test_a_subclass_overriding_compile_saves_a_file_that_loads_with_its_optimizer_state(tmp_path):
    @keras.saving.register_keras_serializable(package="user_tests")
    class OwnCompile(tfae.AutoEncoder):
        def compile(self, learning_rate=1e-3, **kwargs):
            super().compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", **kwargs)

    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    ae = OwnCompile(input_shape=(6,), latent_dim=2)
    ae.compile(learning_rate=1e-2)
    ae.fit(x, epochs=1, batch_size=8, verbose=0)
    ae.save(tmp_path / "own.keras")
    with pytest.warns(UserWarning, match=r"`OwnCompile.compile\(\)` is custom: the model was compiled from its "
                      "saved") as record:
        same = keras.models.load_model(tmp_path / "own.keras")
    assert [warning.filename for warning in record] == [__file__]  # the user's line, not Keras' or tfae's
    assert isinstance(same.loss, keras.losses.MeanSquaredError) or same.loss == "mse"
    assert float(same.optimizer.learning_rate) == pytest.approx(1e-2)
    assert int(same.optimizer.iterations) == 2
    for loaded, saved in zip(same.optimizer.variables, ae.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(loaded), np.asarray(saved))


def test_a_subclass_that_builds_its_layers_in_its_own_build_is_not_built_behind_its_back():
    class OwnBuild(tfae.AutoEncoder):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.head = keras.layers.Dense(6, name="head")

        def build(self, input_shape):
            super().build(input_shape)
            self.head.build((None, 6))  # Keras' way; the layer must still be unbuilt here

        def call(self, inputs, training=None, **kwargs):
            if not isinstance(inputs, np.ndarray) and keras.utils.is_keras_tensor(inputs):
                raise RuntimeError("this call needs real data")  # no symbolic call may be made, nor warned about
            return self.head(super().call(inputs, training=training, **kwargs))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = OwnBuild(input_shape=(6,), latent_dim=2)
    assert model.built and model.head.built


def test_a_users_abc_or_protocol_base_combines_with_a_tfae_model():
    import abc
    import typing

    class Scored(abc.ABC):
        @abc.abstractmethod
        def score(self): ...

    class Shaped(typing.Protocol):
        def shape(self): ...

    class ScoredAutoEncoder(Scored, Shaped, tfae.AutoEncoder):
        def score(self):
            return 1

    ae = ScoredAutoEncoder(input_shape=(6,), latent_dim=2)
    assert ae.built and ae.score() == 1 and isinstance(ae, Scored)
    with pytest.raises(TypeError, match="abstract"):
        type("Unscored", (Scored, tfae.AutoEncoder), {})(input_shape=(6,), latent_dim=2)


def test_a_first_use_of_the_wrong_width_leaves_a_model_of_given_halves_usable():
    ae = tfae.AutoEncoder(encoder=tfae.Encoder(2), decoder=tfae.Decoder((6,)))
    with pytest.raises(ValueError, match=r"reconstruct samples of the input's shape \(10,\). Received: decoder "
                                         r"output shape=\(None, 6\)"):
        ae.encode(np.zeros((4, 10), "float32"))
    assert not ae.encoder.built
    ae.compile()
    ae.fit(np.random.default_rng(0).random((8, 6), dtype=np.float32), epochs=1, verbose=0)
    assert ae.sample_shape == (6,)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="Keras builds a layer inside the first training step on TensorFlow only")
@pytest.mark.parametrize("input_shape", [(6,), None], ids=["built_at_once", "built_by_fit"])
def test_a_layer_only_training_calls_is_trained_as_keras_trains_it(input_shape):
    class Auxiliary(tfae.AutoEncoder):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.aux = keras.layers.Dense(3, name="aux")

        def call(self, inputs, training=None, **kwargs):
            if training:
                self.add_loss(keras.ops.mean(self.aux(self.encoder(inputs)) ** 2))
            return super().call(inputs, training=training, **kwargs)

    ae = Auxiliary(input_shape=input_shape, latent_dim=2, decoder=tfae.Decoder((6,)))
    ae.compile(optimizer="sgd")
    assert not ae.aux.built  # the symbolic call runs in inference: only the first step builds it
    ae.fit(np.random.default_rng(0).random((16, 6), dtype=np.float32), epochs=2, batch_size=8, verbose=0)
    assert ae.aux.built and len(ae.trainable_variables) == 6  # encoder, decoder and aux kernels and biases
    first = ae.aux.kernel.numpy().copy()
    ae.fit(np.random.default_rng(1).random((16, 6), dtype=np.float32), epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(ae.aux.kernel.numpy(), first)  # its loss reaches it


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda ae: ae.encode(np.zeros((2, 100), "float32")), r"Received: x.shape=\(2, 100\)"),
        (lambda ae: ae.encode(np.zeros(784, "float32")), r"Received: x.shape=\(784,\)"),
        (lambda ae: ae.encode(np.full((2, 784), np.nan, "float32")), "finite values only"),
        (lambda ae: ae.encode(np.full((2, 784), np.inf, "float32")), "finite values only"),
        (lambda ae: ae.encode(np.zeros((0, 784), "float32")), "at least one sample"),
        (lambda ae: ae.encode(np.zeros((2, 784)), batch_size=0), "Received: batch_size=0"),
        (lambda ae: ae.encode([["a"] * 784]), "array of numbers"),
        (lambda ae: ae.decode(np.zeros((2, 15), "float32")), r"Received: z.shape=\(2, 15\)"),
        (lambda ae: ae.fit(np.full((4, 784), np.nan, "float32"), verbose=0), "Received: x with 3136 NaN"),
        (lambda ae: ae.fit(np.zeros((4, 10), "float32"), verbose=0), r"Received: x.shape=\(4, 10\)"),
        (lambda ae: ae.fit(np.zeros((4, 784), "float32"), validation_data=np.zeros((2, 3)), verbose=0),
         r"Received: validation_data.shape=\(2, 3\)"),
        (lambda ae: ae.evaluate(np.zeros((4, 783), "float32"), verbose=0), r"Received: x.shape=\(4, 783\)"),
        (lambda ae: ae.fit(np.zeros((4, 784), "float32"), validation_split=1.5, verbose=0),
         "Received: validation_split=1.5"),
        (lambda ae: ae.fit(np.zeros((4, 784), "float32"), validation_split=0.8, verbose=0),
         "Received: validation_split=0.8 for 4 samples"),
        (lambda ae: ae.fit(np.zeros((4, 784), "float32"), batch_size=0, verbose=0), "Received: batch_size=0"),
        (lambda ae: ae.fit(np.zeros((4, 784), "float32"), batch_size=2.5, verbose=0), "Received: batch_size=2.5"),
        (lambda ae: ae.fit(np.zeros((4, 784), "float32"), batch_size=0, steps_per_epoch=1, verbose=0),
         "Received: batch_size=0"),
    ],
)
def test_bad_data_gets_a_clear_error_naming_the_argument(call, message):
    ae = article_model()
    ae.compile()
    with pytest.raises(ValueError, match=message):
        call(ae)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (784,), "latent_dim": -3}, "Received: latent_dim=-3"),
        ({"input_shape": (784,)}, "Received: latent_dim=None"),
        ({"latent_dim": 4}, "Received: input_shape=None"),
        ({"input_shape": (0,), "latent_dim": 4}, r"Received: input_shape=\(0,\)"),
        ({"input_shape": (784,), "latent_dim": 4, "activation": "swishy"}, "Received: activation='swishy'"),
        ({"input_shape": (784,), "latent_dim": 4, "output_activation": 3}, "Received: output_activation=3"),
        ({"encoder": "dense", "input_shape": (4,)}, "Received: encoder of type str"),
    ],
)
def test_bad_constructor_arguments_get_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tfae.AutoEncoder(**kwargs)


def test_decoder_that_does_not_reconstruct_the_input_shape_is_rejected():
    with pytest.raises(ValueError, match=r"decoder output shape=\(None, 5\)"):
        tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder(5), input_shape=(6,))


def test_decode_before_the_model_is_built_explains_what_to_do():
    ae = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder(5))
    with pytest.raises(ValueError, match="input_shape="):
        ae.decode(np.zeros((1, 2), "float32"))


def test_stale_logits_are_never_used_for_another_output():
    ae = article_model()
    ae.compile()
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    first = ae(x)
    ae(x[:2])  # leaves the logits of another output
    loss = float(keras.ops.convert_to_numpy(ae.compute_loss(x, None, first)))
    expected = float(keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(x, first)).mean())
    assert loss == pytest.approx(expected, rel=1e-5)


def softplus_loss(y, logits):
    """The sigmoid cross-entropy in numpy, in float64: softplus(l) - y * l, averaged."""
    logits = logits.astype(np.float64)
    return float(np.mean(np.logaddexp(0.0, logits) - y * logits))


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_the_default_loss_is_tfae_own_logits_computation(run_eagerly):
    ae = article_model()
    bias = np.where(np.arange(784) % 2 == 0, 40.0, -30.0).astype(np.float32)
    ae.decoder.reconstruction.bias.assign(bias)
    ae.compile(run_eagerly=run_eagerly)
    x = np.tile((np.arange(784) % 3 == 0).astype(np.float32), (8, 1))
    logits = keras.ops.convert_to_numpy(ae.decoder(ae.encode(x), return_logits=True))
    got = ae.evaluate(x, verbose=0, return_dict=True)["loss"]
    assert got == pytest.approx(softplus_loss(x, logits), rel=1e-5)
    # From probabilities alone (what Keras' loss sees) the same pixels give a clipped, smaller loss.
    clipped = float(keras.ops.convert_to_numpy(ae.compute_loss(x, None, ae.reconstruct(x))))
    assert clipped < 0.6 * got


def test_images_outside_the_unit_interval_train_with_a_loss_that_allows_them():
    ae = tfae.AutoEncoder(input_shape=(4,), latent_dim=2, output_activation=None)
    ae.compile(loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32) * 10
    assert np.isfinite(ae.fit(x, epochs=1, verbose=0).history["loss"]).all()


def test_evaluate_with_sample_weights_and_no_targets_weighs_the_loss_against_the_inputs():
    x = np.random.default_rng(0).uniform(size=(20, 6)).astype("float32")
    weights = np.linspace(0.0, 1.0, 20).astype("float32")
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    result = ae.evaluate(x, sample_weight=weights, batch_size=32, verbose=0, return_dict=True)
    expected = float((weights * ae.reconstruction_error(x)).sum() / len(x))  # Keras' "sum_over_batch_size"
    assert result["loss"] == pytest.approx(expected, rel=1e-5)
    assert result == pytest.approx(ae.evaluate(x, x, sample_weight=weights, batch_size=32, verbose=0,
                                               return_dict=True), rel=1e-6)


def test_evaluate_runs_the_callbacks_it_is_given():
    x = np.random.default_rng(0).uniform(size=(20, 6)).astype("float32")
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    batches = []
    logger = keras.callbacks.LambdaCallback(on_test_batch_end=lambda batch, logs: batches.append(batch))
    ae.evaluate(x, batch_size=8, verbose=0, callbacks=[logger])
    assert batches == [0, 1, 2]


def test_weighted_metrics_weigh_each_example_by_its_sample_weight():
    # Keras' `weighted_metrics` see the sample weights (its `metrics` do not): Σ w·mae / Σ w.
    x = np.random.default_rng(0).uniform(size=(16, 6)).astype("float32")
    weights = np.linspace(0.0, 1.0, 16).astype("float32")
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(metrics=[], weighted_metrics=["mae"])
    result = ae.evaluate(x, sample_weight=weights, batch_size=8, verbose=0, return_dict=True)
    per_example = np.abs(ae.reconstruct(x) - x).mean(axis=1)
    assert result["mae"] == pytest.approx(float((weights * per_example).sum() / weights.sum()), rel=1e-5)


def test_evaluate_refuses_an_argument_keras_does_not_know_as_keras_does():
    # Keras' evaluate takes private keyword arguments (fit's cached validation data) and refuses the rest.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    with pytest.raises(ValueError, match="Arguments not recognized"):
        ae.evaluate(np.zeros((4, 6), np.float32), verbose=0, bacth_size=2)


def test_an_unbuilt_autoencoder_encodes_a_symbolic_input_and_builds_from_its_shape():
    ae = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((6,)))
    assert not ae.built
    code = ae.encode(keras.Input((6,)))
    assert ae.built and tuple(code.shape) == (None, 2)


def test_fit_weighs_each_sample_by_its_sample_weight():
    x = np.random.default_rng(0).uniform(size=(16, 6)).astype("float32")
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    start = [np.array(w) for w in ae.get_weights()]
    ae.fit(x, sample_weight=np.zeros(16, np.float32), epochs=1, batch_size=8, verbose=0)
    # Zero weights, zero gradients: Adam leaves every weight where it was.
    for before, after in zip(start, ae.get_weights()):
        np.testing.assert_array_equal(before, after)
    ae.fit(x, sample_weight=np.ones(16, np.float32), epochs=1, batch_size=8, verbose=0)
    assert any(np.abs(before - after).max() > 0 for before, after in zip(start, ae.get_weights()))


def test_fit_names_a_bad_initial_epoch():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    with pytest.raises(ValueError, match=r"Received: initial_epoch=-1"):
        ae.fit(np.zeros((4, 6), np.float32), initial_epoch=-1, verbose=0)


def test_make_train_function_with_force_makes_a_new_one():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    first = ae.make_train_function()
    assert ae.make_train_function() is first
    assert ae.make_train_function(force=True) is not first


def test_compile_run_eagerly_leaves_xla_off_without_keras_warning():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when asked for XLA and eager execution at once
        ae.compile(run_eagerly=True)
    assert ae.run_eagerly and not ae.jit_compile


@pytest.mark.parametrize("make, message", [
    (lambda: tfae.AutoEncoder(tfae.Encoder(2), input_shape=(6,), tied=True),
     "Expected no `encoder` or `decoder` with `tied=True`"),
    (lambda: tfae.AutoEncoder(decoder=tfae.Decoder((6,)), input_shape=(6,), latent_dim=2, tied=True),
     "Expected no `encoder` or `decoder` with `tied=True`"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2, name="enc"), input_shape=(6,), latent_dim=3),
     "Pass either `encoder` or `latent_dim`, not both: the encoder fixes the code size. "
     "Received: latent_dim=3 with encoder='enc'"),
])
def test_conflicting_halves_and_sizes_are_refused_with_the_reason(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert message in str(error.value)


@pytest.mark.parametrize("options", [{}, {"tied": True}, {"hidden_units": (4,)}], ids=["dense", "tied", "deep"])
def test_the_halves_a_model_builds_are_named_encoder_and_decoder(options):
    # The names are part of every weight's path in saved files, and what users index the model by.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, **options)
    assert (ae.encoder.name, ae.decoder.name) == ("encoder", "decoder")
    assert ae.get_layer("decoder") is ae.decoder


def test_reconstruction_error_refuses_targets_of_another_shape_naming_them():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    x = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError) as error:
        ae.reconstruction_error(x, y=np.zeros((4, 5), np.float32))
    assert str(error.value) == "Expected `y` to have samples of shape (6,) (6 values each). Received: y.shape=(4, 5)"


def test_interpolate_runs_both_halves_in_the_batch_size_given(monkeypatch):
    # The batch size bounds the memory an interpolation of many pairs takes, in encode and in decode.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    sizes = []
    for method in ("encode", "decode"):
        original = getattr(ae, method)
        monkeypatch.setattr(ae, method, lambda *args, _run=original, **kwargs: (
            sizes.append((_run.__name__, kwargs.get("batch_size"))) or _run(*args, **kwargs)))
    x = np.random.default_rng(0).uniform(size=(6, 6)).astype(np.float32)
    assert ae.interpolate(x[:3], x[3:], 4, batch_size=5).shape == (3, 4, 6)
    assert sizes == [("encode", 5), ("decode", 5)]


def test_compile_keeps_the_jit_compile_the_user_asked_for():
    # XLA is tfae's default for its dense layers only where the user left Keras' "auto".
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(jit_compile=False)
    assert ae.jit_compile is False
    ae.compile()
    assert ae.jit_compile is (keras.backend.backend() != "torch")


def test_the_compile_config_keeps_auto_where_tfae_chose_xla_and_a_loaded_model_chooses_again(tmp_path):
    # tfae's XLA for "auto" holds for this backend and device only: the file keeps "auto", so PyTorch
    # or a distribution strategy makes its own choice on load (tests/mirrored_check.py trains one).
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    assert ae.get_compile_config()["jit_compile"] == "auto"
    ae.save(tmp_path / "auto.keras")
    loaded = keras.models.load_model(tmp_path / "auto.keras")
    assert loaded.get_compile_config()["jit_compile"] == "auto"
    assert loaded.jit_compile is ae.jit_compile is (keras.backend.backend() != "torch")
    for asked in (True, False):  # what the user asked for is saved as Keras saves it
        ae.compile(jit_compile=asked)
        assert ae.get_compile_config()["jit_compile"] is asked
    ae.compile(run_eagerly=True)
    assert ae.get_compile_config()["jit_compile"] is False


def test_fit_shuffles_by_default_as_keras_does():
    # mutmut's wrapper reports the original signature, so the default is pinned by what `fit` does.
    x = np.random.default_rng(0).uniform(size=(16, 6)).astype(np.float32)
    weights = {}
    for shuffle in ("default", True, False):
        keras.utils.set_random_seed(1)
        ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
        ae.compile(optimizer="sgd")
        ae.fit(x, batch_size=4, verbose=0, **({} if shuffle == "default" else {"shuffle": shuffle}))
        weights[shuffle] = ae.get_weights()
    for default, shuffled in zip(weights["default"], weights[True]):
        np.testing.assert_array_equal(default, shuffled)
    assert any(not np.array_equal(a, b) for a, b in zip(weights["default"], weights[False]))
