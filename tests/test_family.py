"""The autoencoder family: conv halves, denoising, sparse, tied, VAE, AAE, GAN, anomaly detection (tiny models)."""

import importlib.util
import json
import re

import keras
import numpy as np
import pytest

import tfae


@pytest.fixture
def digits(small_digits):
    (x, y), (xt, yt) = small_digits
    return x, y, xt, yt


def test_conv_autoencoder_trains_and_round_trips(tmp_path, digits):
    x, _, xt, _ = digits
    ae = tfae.AutoEncoder(tfae.ConvEncoder(8, filters=(4, 8)), tfae.ConvDecoder((28, 28, 1), filters=(8, 4)))
    ae.compile()
    history = ae.fit(x.reshape(-1, 28, 28, 1), epochs=2, batch_size=64, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    ae.save(tmp_path / "conv.keras")
    loaded = keras.models.load_model(tmp_path / "conv.keras")
    np.testing.assert_allclose(loaded.reconstruct(xt.reshape(-1, 28, 28, 1)),
                               ae.reconstruct(xt.reshape(-1, 28, 28, 1)), atol=1e-6)
    assert ae.bottleneck.name == "bottleneck"


def test_tied_autoencoder_has_about_half_the_parameters_and_keeps_the_tie_on_load(tmp_path, digits):
    x, _, xt, _ = digits
    tied = tfae.AutoEncoder(input_shape=(784,), latent_dim=16, hidden_units=(64,), tied=True)
    untied = tfae.AutoEncoder(input_shape=(784,), latent_dim=16, hidden_units=(64,))
    assert tied.count_params() < 0.55 * untied.count_params()
    tied.compile()
    tied.fit(x, epochs=1, verbose=0)
    tied.save(tmp_path / "tied.keras")
    loaded = keras.models.load_model(tmp_path / "tied.keras")
    assert loaded.decoder.encoder is loaded.encoder
    np.testing.assert_allclose(loaded.reconstruct(xt), tied.reconstruct(xt), atol=1e-6)


def test_tied_takes_numpy_booleans_and_stores_a_python_bool_in_the_config():
    # A tuner's or a config file's numpy bool ties the model; the config stays JSON, as Keras saves it.
    ae = tfae.AutoEncoder(input_shape=(8,), latent_dim=3, tied=np.bool_(True))
    assert isinstance(ae.decoder, tfae.TiedDecoder)
    config = ae.get_config()
    assert config["tied"] is True
    json.dumps(config)
    for value in (1, "yes", None, np.array([True])):
        with pytest.raises(ValueError, match=re.escape(f"Expected `tied` to be True or False. Received: tied={value!r}")):
            tfae.AutoEncoder(input_shape=(8,), latent_dim=3, tied=value)


def test_denoising_reconstruction_of_noisy_digits_is_closer_to_the_clean_ones(digits):
    x, _, xt, _ = digits
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=32, hidden_units=(128,), noise="gaussian", noise_level=0.4)
    ae.compile()
    ae.fit(np.tile(x, (4, 1)), epochs=4, batch_size=32, verbose=0)
    noisy = xt + 0.4 * np.random.default_rng(0).standard_normal(xt.shape).astype("float32")
    assert np.mean((ae.reconstruct(noisy) - xt) ** 2) < np.mean((noisy - xt) ** 2)


def test_sparsity_penalty_lowers_the_mean_code_activation(digits):
    x = digits[0]
    means = []
    for sparsity in (0.0, 0.05):
        keras.utils.set_random_seed(0)
        ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=16, hidden_units=(64,), sparsity=sparsity)
        ae.compile()
        ae.fit(x, epochs=3, verbose=0)
        means.append(np.abs(ae.encode(x)).mean())
    assert means[1] < means[0]


def test_vae_loss_is_reconstruction_plus_beta_kl_and_round_trips(tmp_path, digits):
    x, _, xt, _ = digits
    vae = tfae.VariationalAutoEncoder(input_shape=(784,), latent_dim=2, hidden_units=(32,), beta=0.5)
    vae.compile()
    history = vae.fit(x, epochs=1, verbose=0).history
    result = vae.evaluate(xt, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(result["reconstruction_loss"] + 0.5 * result["kl_loss"], rel=1e-5)
    assert set(history) >= {"loss", "reconstruction_loss", "kl_loss"}
    mean, log_var = vae.encode_distribution(xt)
    np.testing.assert_array_equal(vae.encode(xt), mean)
    assert vae.sample(5, seed=0).shape == (5, 784)
    vae.save(tmp_path / "vae.keras")
    loaded = keras.models.load_model(tmp_path / "vae.keras")
    assert isinstance(loaded, tfae.VariationalAutoEncoder) and loaded.beta == 0.5
    np.testing.assert_allclose(loaded.reconstruct(xt), vae.reconstruct(xt), atol=1e-6)


def test_interpolate_starts_and_ends_at_the_decoded_codes(digits):
    xt = digits[2]
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    line = ae.interpolate(xt[0], xt[1], 5)
    assert line.shape == (5, 784)
    np.testing.assert_allclose(line[0], ae.reconstruct(xt[:1])[0], atol=1e-5)
    np.testing.assert_allclose(line[-1], ae.reconstruct(xt[1:2])[0], atol=1e-5)


def test_reconstruction_error_matches_evaluate_per_example(digits):
    xt = digits[2]
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    ae.compile()
    errors = ae.reconstruction_error(xt[:3])
    for i in range(3):
        assert errors[i] == pytest.approx(ae.evaluate(xt[i:i + 1], verbose=0, return_dict=True)["loss"], rel=1e-4)


def test_anomaly_detector_flags_the_contamination_share_and_saves_without_pickle(tmp_path, digits):
    x, y, xt, yt = digits
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(32,)),
                                    contamination=0.1).fit(x[y == 1], epochs=3, verbose=0)
    assert detector.labels_.mean() == pytest.approx(0.1, abs=0.03)
    scores = detector.decision_function(xt)
    assert scores[yt != 1].mean() > scores[yt == 1].mean()
    detector.save(tmp_path / "det")
    files = {path.name: path for path in (tmp_path / "det").iterdir()}
    assert sorted(files) == ["autoencoder.keras", "decision_scores.npy", "detector.json"]
    np.testing.assert_array_equal(np.load(files["decision_scores.npy"], allow_pickle=False), detector.decision_scores_)
    assert json.loads(files["detector.json"].read_text()) == {"contamination": 0.1, "threshold": detector.threshold_}
    loaded = tfae.AnomalyDetector.load(tmp_path / "det")
    np.testing.assert_array_equal(loaded.predict(xt), detector.predict(xt))


def test_anomaly_detector_save_replaces_its_own_folder_whole_and_never_another(tmp_path, monkeypatch):
    x = np.random.default_rng(0).uniform(size=(40, 6)).astype(np.float32)
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2), contamination=0.1)
    detector.fit(x, epochs=1, verbose=0)
    folder = tmp_path / "det"
    detector.save(folder)
    saved = {path.name: path.read_bytes() for path in folder.iterdir()}

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    detector.contamination, detector.threshold_ = 0.2, 123.0
    kernel = detector.autoencoder.encoder.weights[0]
    kernel.assign(np.zeros(kernel.shape, np.float32))  # a model that differs from the saved one
    monkeypatch.setattr(np, "save", disk_full)  # after the model is written, before the scores
    with pytest.raises(OSError, match="disk full"):
        detector.save(folder)
    monkeypatch.undo()
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == saved  # the earlier save, whole
    assert [path.name for path in tmp_path.iterdir()] == ["det"]  # no partial folder left beside it
    detector.save(folder)
    assert tfae.AnomalyDetector.load(folder).threshold_ == 123.0
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "thesis.tex").write_text("years of work")
    with pytest.raises(ValueError) as caught:
        detector.save(tmp_path / "thesis")
    assert str(caught.value) == ("Expected `path` to be a new folder or one this would replace. Received: "
                                 f"path={str(tmp_path / 'thesis')!r}, which holds other files")
    assert [path.name for path in (tmp_path / "thesis").iterdir()] == ["thesis.tex"]


def _critic(name="critic"):
    return keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)], name=name)


def test_adversarial_autoencoder_reports_both_players_samples_and_round_trips(tmp_path, digits):
    x, _, xt, _ = digits
    aae = tfae.AdversarialAutoEncoder(input_shape=(784,), latent_dim=4, hidden_units=(32,), adversarial_weight=0.5,
                                      seed=0)
    aae.compile()
    history = aae.fit(x, epochs=2, verbose=0).history
    assert set(history) >= {"loss", "reconstruction_loss", "discriminator_loss", "generator_loss"}
    result = aae.evaluate(xt, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(
        result["reconstruction_loss"] + 0.5 * result["generator_loss"] + result["discriminator_loss"], rel=1e-5)
    assert aae.sample(6, seed=0).shape == (6, 784)
    assert aae.discriminator.name == "discriminator" and aae.bottleneck.name == "bottleneck"
    aae.save(tmp_path / "aae.keras")
    loaded = keras.models.load_model(tmp_path / "aae.keras")
    assert isinstance(loaded, tfae.AdversarialAutoEncoder) and loaded.adversarial_weight == 0.5
    np.testing.assert_allclose(loaded.reconstruct(xt), aae.reconstruct(xt), atol=1e-6)
    np.testing.assert_allclose(*(keras.ops.convert_to_numpy(model.discriminator(xt[:4, :4])) for model in (loaded, aae)),
                               atol=1e-6)


def test_adversarial_training_pulls_the_codes_towards_the_prior(digits):
    x = digits[0]
    spreads = []
    for weight in (0.0, 20.0):
        keras.utils.set_random_seed(0)
        aae = tfae.AdversarialAutoEncoder(input_shape=(784,), latent_dim=2, hidden_units=(64,), seed=0,
                                          adversarial_weight=weight, latent_activation=None)
        aae.compile()
        aae.fit(np.tile(x, (4, 1)), epochs=3, batch_size=64, verbose=0)
        codes = aae.encode(x)
        spreads.append(abs(np.log(codes.std(axis=0))).mean() + abs(codes.mean(axis=0)).mean())
    assert spreads[1] < spreads[0]  # closer to zero mean and unit spread


def test_gan_from_a_pretrained_decoder_starts_from_its_weights_and_trains_it(tmp_path, digits):
    x = digits[0]
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(32,))
    ae.compile()
    ae.fit(x, epochs=1, verbose=0)
    pretrained = [w.copy() for w in ae.decoder.get_weights()]
    gan = tfae.GAN(ae.decoder, _critic(), latent_dim=ae.latent_dim, seed=0)
    assert gan.generator is ae.decoder
    for before, now in zip(pretrained, gan.generator.get_weights()):
        np.testing.assert_array_equal(before, now)
    np.testing.assert_allclose(gan.generate(3, seed=1), ae.decode(
        np.random.default_rng(1).standard_normal((3, 8)).astype("float32")), atol=1e-6)
    gan.compile()
    history = gan.fit(x, epochs=2, batch_size=64, verbose=0).history
    assert set(history) == {"loss", "discriminator_loss", "generator_loss"}
    assert any(np.abs(a - b).max() > 0 for a, b in zip(pretrained, gan.generator.get_weights()))
    images = gan.generate(5, seed=0)
    assert images.shape == (5, 784) and 0.0 <= images.min() and images.max() <= 1.0
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded, tfae.GAN) and loaded.latent_dim == 8
    np.testing.assert_allclose(loaded.generate(5, seed=0), images, atol=1e-6)
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 16


def test_gan_losses_give_each_player_only_its_own_gradient():
    """Zeroing one player's loss must leave the other player's weights where they were."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(size=(16, 6)).astype("float32")
    gan = tfae.GAN(tfae.Decoder((6,), hidden_units=(4,)), _critic(), latent_dim=2, seed=0)
    start = [v.copy() for v in gan.get_weights()]
    for zeroed in ("discriminator", "generator"):
        gan.set_weights(start)
        gan.compile(optimizer=keras.optimizers.SGD(0.5), run_eagerly=True)

        def one_player(x=None, y=None, y_pred=None, sample_weight=None, training=True, zeroed=zeroed):
            d_loss, g_loss = tfae.models._adversarial.adversarial_losses(
                gan._cross_entropy, y_pred["real"], y_pred["fake"], y_pred["fooled"])
            return g_loss if zeroed == "discriminator" else d_loss

        gan.compute_loss = one_player
        gan.fit(x, epochs=1, batch_size=16, verbose=0)
        frozen = gan.discriminator if zeroed == "discriminator" else gan.generator
        moved = gan.generator if zeroed == "discriminator" else gan.discriminator
        names = {id(v) for v in frozen.trainable_variables}
        for variable, before in zip(gan.weights, start):
            changed = np.abs(keras.ops.convert_to_numpy(variable) - before).max() > 0
            if id(variable) in names:
                assert not changed, variable.path
        assert any(np.abs(keras.ops.convert_to_numpy(v) - b).max() > 0
                   for v, b in zip(gan.weights, start) if id(v) in {id(w) for w in moved.trainable_variables})


@pytest.mark.parametrize("make, message", [
    (lambda: tfae.AutoEncoder(input_shape=(4,), latent_dim=2, noise="salt"), "noise='salt'"),
    (lambda: tfae.AutoEncoder(input_shape=(4,), latent_dim=2, sparsity=-1.0), "sparsity=-1.0"),
    (lambda: tfae.ConvDecoder((30, 30, 1)), "output_shape=(30, 30, 1)"),
    (lambda: tfae.VariationalAutoEncoder(input_shape=(4,), latent_dim=2, beta=-3), "beta=-3"),
    (lambda: tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(4,), latent_dim=2), contamination=0.9),
     "contamination=0.9"),
    (lambda: tfae.AdversarialAutoEncoder(input_shape=(4,), latent_dim=2, adversarial_weight=-1), "adversarial_weight=-1"),
    (lambda: tfae.AdversarialAutoEncoder(input_shape=(4,), latent_dim=2, discriminator=keras.layers.Dense(3)),
     "discriminator output shape=(None, 3)"),
    (lambda: tfae.GAN(tfae.Decoder((4,)), _critic(), latent_dim=0), "latent_dim=0"),
    (lambda: tfae.GAN("decoder", _critic(), latent_dim=2), "generator of type str"),
    (lambda: tfae.GAN(tfae.Decoder((4,)), keras.layers.Dense(2), latent_dim=2), "discriminator output shape=(None, 2)"),
])
def test_bad_family_arguments_get_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_gan_example_script_writes_sample_grids_and_a_model(tmp_path):
    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("gan_example", REPO / "examples" / "gan_from_autoencoder.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.main(["--out", str(tmp_path), "--ae-epochs", "1", "--gan-epochs", "1", "--samples", "256",
                           "--latent-dim", "8"])
    assert set(result) == {"loss", "discriminator_loss", "generator_loss"}
    for name in ("samples_before.png", "samples_after.png", "gan.keras"):
        assert (tmp_path / name).stat().st_size > 0


def test_return_logits_from_a_decoder_without_tfae_sigmoid_is_refused():
    decoder = keras.Sequential([keras.layers.Dense(4, activation="sigmoid")], name="plain")
    ae = tfae.AutoEncoder(tfae.Encoder(2), decoder, input_shape=(4,))
    with pytest.raises(ValueError) as error:
        ae(np.zeros((1, 4), "float32"), return_logits=True)
    assert (  # inside Keras' note of the call that raised it
        "`return_logits=True` needs a decoder that ends in tfae's sigmoid (a tfae.Decoder, ConvDecoder or "
        "TiedDecoder with output_activation='sigmoid'). Received: decoder='plain'") in str(error.value)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA's CPU convolutions: a TensorFlow choice")
def test_compile_gives_xla_to_dense_halves_but_leaves_conv_halves_to_keras():
    dense = tfae.AutoEncoder(input_shape=(16,), latent_dim=2)
    conv = tfae.AutoEncoder(tfae.ConvEncoder(2, filters=(4,)), tfae.ConvDecoder((4, 4, 1), filters=(4,)))
    dense.compile()
    conv.compile()
    assert dense.jit_compile is True
    assert conv.jit_compile is False  # Keras' "auto" on CPU TensorFlow


class _PlainCritic(keras.layers.Layer):
    """A user's discriminator whose `call` takes no `training` argument."""

    def build(self, input_shape):
        self.dense = keras.layers.Dense(1)
        self.dense.build(input_shape)

    def call(self, x):
        return self.dense(x)


def test_gan_trains_with_layers_whose_call_takes_no_training_argument():
    gan = tfae.GAN(tfae.Decoder((6,)), _PlainCritic(), latent_dim=2, seed=0)
    gan.compile()
    history = gan.fit(np.random.default_rng(0).uniform(size=(16, 6)).astype("float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ---------------------------------------------------------------- blind spots found by mutation testing
_FLAT = np.random.default_rng(1).uniform(size=(24, 6)).astype(np.float32)


def _fitted_detector():
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2), contamination=0.25)
    return detector.fit(_FLAT, epochs=1, batch_size=8, verbose=0)


def test_anomaly_predict_proba_is_the_score_min_max_scaled_by_the_training_scores():
    detector = _fitted_detector()
    probability = detector.predict_proba(_FLAT[:10])
    low, high = detector.decision_scores_.min(), detector.decision_scores_.max()
    expected = np.clip((detector.decision_function(_FLAT[:10]) - low) / (high - low), 0.0, 1.0)
    assert probability.shape == (10, 2)
    np.testing.assert_allclose(probability[:, 1], expected, rtol=1e-6)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-6)


def test_a_loaded_anomaly_detector_has_the_saved_scores_threshold_and_labels_with_their_dtypes(tmp_path):
    detector = _fitted_detector()
    detector.save(tmp_path / "det")
    loaded = tfae.AnomalyDetector.load(tmp_path / "det")
    assert loaded.decision_scores_.dtype == np.float32 and loaded.labels_.dtype == np.int64
    np.testing.assert_array_equal(loaded.decision_scores_, detector.decision_scores_)
    np.testing.assert_array_equal(loaded.labels_, detector.labels_)
    assert loaded.threshold_ == detector.threshold_ and loaded.contamination == 0.25
    np.testing.assert_array_equal(loaded.predict_proba(_FLAT), detector.predict_proba(_FLAT))


@pytest.mark.parametrize("call, message", [
    (lambda d: d.fit(_FLAT, epochs=-1), "Expected `epochs` to be an integer >= 0. Received: epochs=-1"),
    (lambda d: d.fit(_FLAT, batch_size=8), "`fit` arguments are used only with epochs > 0. Received: "
                                           "['batch_size'] with epochs=0"),
    (lambda d: tfae.AnomalyDetector.load(3), "Received: path=3"),
])
def test_anomaly_detector_errors_name_the_argument_and_value(call, message):
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2))
    with pytest.raises((ValueError, TypeError)) as error:
        call(detector)
    assert message in str(error.value)


def test_load_model_names_the_argument_and_the_underlying_error_type(tmp_path):
    with pytest.raises((ValueError, TypeError), match="Received: filepath=3"):
        tfae.load_model(3)
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(tfae.ModelFileError, match=r"garbage.keras': ValueError: "):
        tfae.load_model(garbage)


def test_interpolate_and_reconstruction_error_name_the_argument_they_refuse():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    with pytest.raises(ValueError, match="x_b"):
        ae.interpolate(_FLAT[0], "seven", 3)
    with pytest.raises(ValueError, match=r"Received: y"):
        ae.reconstruction_error(_FLAT[:4], y=np.full((4, 6), np.nan, np.float32))


@pytest.mark.parametrize("loss, elementwise", [
    ("mse", lambda y, p: (y - p) ** 2),
    ("mae", lambda y, p: np.abs(y - p)),
])
def test_reconstruction_error_of_a_loss_of_each_element_is_its_mean_or_sum_over_the_elements(loss, elementwise):
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(loss=loss)
    y = np.random.default_rng(2).uniform(size=(5, 6)).astype(np.float32)
    elements = elementwise(y, ae.reconstruct(_FLAT[:5]))
    np.testing.assert_allclose(ae.reconstruction_error(_FLAT[:5], y), elements.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(ae.reconstruction_error(_FLAT[:5], y, reduction="sum"), elements.sum(axis=1),
                               rtol=1e-5)


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "kl_divergence", "cosine_similarity",
                                  keras.losses.CategoricalHinge(), "mse"])
@pytest.mark.parametrize("input_shape", [(6,), (2, 3)], ids=["flat", "rows"])
def test_reconstruction_error_of_a_loss_of_the_last_axis_is_evaluate_of_each_example(loss, input_shape):
    # Such a loss sees each example whole (the mean of its values on single elements is another number), and on
    # TensorFlow Keras' categorical cross-entropy of a sigmoid's output reads the sigmoid's logits: as in evaluate.
    keras.utils.set_random_seed(0)
    ae = tfae.AutoEncoder(input_shape=input_shape, latent_dim=2)
    ae.compile(loss=loss, metrics=[])
    x = _FLAT[:5].reshape(5, *input_shape)
    one_by_one = [ae.evaluate(x[i:i + 1], verbose=0) for i in range(5)]
    errors = ae.reconstruction_error(x, batch_size=2)
    np.testing.assert_allclose(errors, one_by_one, rtol=1e-5, atol=1e-5)  # evaluate's program is compiled by XLA
    np.testing.assert_allclose(ae.reconstruction_error(x, reduction="sum"), errors * 6, rtol=1e-5, atol=1e-5)


def test_reconstruction_error_refuses_a_loss_that_gives_no_value_per_example():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(loss=lambda y, p: keras.ops.mean(keras.ops.square(y - p)))  # one value for the whole batch
    with pytest.raises(ValueError, match=r"^Expected `loss` to give one value per example or more \(as Keras' "
                                         r"losses give one per example and position but the last axis\), so that "
                                         r"`reconstruction_error\(\)` can tell examples apart\. Received: "
                                         r"loss=<function .*> giving values of shape \(\) for 4 examples$"):
        ae.reconstruction_error(_FLAT[:4])


def test_vae_defaults_to_beta_one_and_takes_the_base_model_arguments():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, name="my_vae")
    assert vae.beta == 1.0 and vae.get_config()["beta"] == 1.0
    assert vae.name == "my_vae"


def test_vae_encoder_of_odd_width_is_refused_with_the_expected_message():
    with pytest.raises(ValueError, match=r"^Expected the encoder of a VariationalAutoEncoder to output 2 \* latent_dim"):
        tfae.VariationalAutoEncoder(tfae.Encoder(3), tfae.Decoder((6,)), input_shape=(6,))


def test_vae_samples_codes_of_tensors_with_the_seed_given_or_the_models_seed_generator():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    x = keras.ops.convert_to_tensor(_FLAT[:8])
    mean = keras.ops.convert_to_numpy(vae.encode(x))
    seeded = [keras.ops.convert_to_numpy(vae.encode(x, sample=True, seed=5)) for _ in range(2)]
    np.testing.assert_array_equal(seeded[0], seeded[1])  # the seed given decides the noise
    assert np.abs(seeded[0] - mean).max() > 1e-3
    drawn = [keras.ops.convert_to_numpy(vae.encode(x, sample=True)) for _ in range(2)]
    assert np.abs(drawn[0] - drawn[1]).max() > 1e-3  # the model's generator moves on


def test_vae_takes_a_numpy_integer_seed_as_its_twins_do_and_keeps_it_as_an_int():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=np.int64(3))
    assert type(vae.seed) is int and vae.get_config()["seed"] == 3


def _train_from(model, weights, global_seed, x):
    """`model` set to `weights`, one epoch on `x` with the global seed `global_seed`: its weights after."""
    model.set_weights(weights)
    keras.utils.set_random_seed(global_seed)
    model.fit(x, epochs=1, batch_size=8, shuffle=False, verbose=0)
    return [np.array(w) for w in model.get_weights()]


@pytest.mark.parametrize("make", [
    lambda: tfae.GAN(tfae.Decoder((6,)), _critic(), latent_dim=2, seed=3),
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=3),
], ids=["gan", "adversarial"])
def test_the_models_seed_alone_decides_its_training_noise(make):
    # Two runs from the same weights under different global seeds: the model's SeedGenerator draws the same
    # noise (the GAN's codes, the AAE's prior samples), so they end with the same weights.
    x = _FLAT[:16]
    first = make()
    first.compile()
    first.build((None, 6))
    start = [np.array(w) for w in first.get_weights()]
    a = _train_from(first, start, 1, x)
    second = make()
    second.compile()
    second.build((None, 6))
    b = _train_from(second, start, 2, x)
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


def _gan(**kwargs):
    return tfae.GAN(tfae.Decoder((6,)), _critic(), latent_dim=2, **kwargs)


def test_gan_defaults_its_name_keeps_its_seed_and_compiles_with_the_dcgan_adam():
    assert [_gan().name, _gan().name] == ["gan", "gan"]  # its own default, not Keras' numbered one
    gan = _gan(seed=3)
    assert gan.seed == 3 and gan.get_config()["seed"] == 3
    gan.compile()
    assert float(gan.optimizer.beta_1) == 0.5
    assert float(keras.ops.convert_to_numpy(gan.optimizer.learning_rate)) == pytest.approx(2e-4)


def test_gan_output_shapes_name_the_outputs_of_its_call():
    gan = _gan()
    outputs = gan(_FLAT[:4])
    assert gan.compute_output_shape((4, 6)) == {key: (4, 1) for key in outputs}


@pytest.mark.parametrize("key", ["loss", "metrics", "loss_weights", "weighted_metrics"])
def test_gan_compile_refuses_losses_and_metrics_of_its_own(key):
    with pytest.raises(ValueError, match=f"A GAN's losses are its own .* Received: {key}="):
        _gan().compile(**{key: ["mse"]})


def test_gan_refuses_real_samples_of_another_shape_with_the_expected_shape():
    with pytest.raises(ValueError, match=r"Expected real samples of the generator's output shape \(batch_size, \*\(6,\)\)"):
        _gan().build((None, 5))


def _built_dense(units, inputs):
    layer = keras.layers.Dense(units)
    layer.build((None, inputs))
    return layer


def _layer_of_spec(shape):
    layer = keras.layers.Dense(6)
    layer.input_spec = keras.InputSpec(shape=shape)  # a whole shape, as some custom layers state it
    return layer


@pytest.mark.parametrize("generator", [
    lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=3, hidden_units=(4,)).decoder,
    lambda: keras.Sequential([keras.Input((3,)), keras.layers.Dense(6)], name="generator"),
    lambda: _built_dense(6, 3),
    lambda: _layer_of_spec((None, 3)),
], ids=["trained_decoder", "sequential", "built_dense", "input_spec_shape"])
def test_gan_refuses_a_latent_dim_other_than_the_generators_code_size_naming_both(generator):
    generator = generator()
    with pytest.raises(ValueError) as caught:
        tfae.GAN(generator, keras.layers.Dense(1), latent_dim=5)
    assert str(caught.value) == (f"Expected `latent_dim` to be the size of the codes generator {generator.name!r} "
                                 "takes (3). Received: latent_dim=5")


def test_gan_refuses_real_samples_its_sigmoid_generator_cannot_produce():
    gan = _gan()
    gan.compile()
    pixels = (_FLAT * 255).astype(np.uint8)
    with pytest.raises(ValueError) as caught:
        gan.fit(pixels, epochs=1, verbose=0)
    low, high = pixels.min(), pixels.max()
    assert str(caught.value) == ("Expected real samples in [0, 1], the range of the sigmoid output of generator "
                                 f"{gan.generator.name!r}. Received: x with values in [{low:g}, {high:g}] (dtype "
                                 "uint8). Scale images to [0, 1] first (for example `x / 255`).")
    with pytest.raises(ValueError, match="finite values only"):  # fit's own message for what is not a number
        gan.fit(np.where(_FLAT > 0.5, np.inf, _FLAT).astype(np.float32), epochs=1, verbose=0)
    for below in (-0.5, 1.5):  # either side of the range
        with pytest.raises(ValueError, match=r"Received: x with values in"):
            gan.fit(_FLAT + below, epochs=1, verbose=0)
    gan.fit(pixels / 255.0, epochs=1, verbose=0)  # scaled: trains
    linear = tfae.GAN(tfae.Decoder((6,), output_activation=None), keras.layers.Dense(1), latent_dim=2)
    linear.compile()
    linear.fit(_FLAT * 2 - 1, epochs=1, verbose=0)  # a generator of any range takes samples of any range


def test_gan_fit_shows_keras_fit_arguments_to_help():
    import inspect

    from tfae.models._training import FastTraining

    assert inspect.signature(tfae.GAN.fit) == inspect.signature(FastTraining.fit)
    assert "validation_freq" in inspect.signature(_gan().fit).parameters  # bound: `self` dropped


def test_gan_names_latent_dim_when_a_generator_without_an_input_spec_fails_on_its_codes():
    class ThreeOnly(keras.layers.Layer):
        def call(self, codes):
            if codes.shape[-1] != 3:
                raise ValueError("three-dimensional codes only")
            return codes

    with pytest.raises(ValueError) as caught:
        tfae.GAN(ThreeOnly(name="three"), keras.layers.Dense(1), latent_dim=5)
    assert str(caught.value) == ("Expected a generator that takes codes of shape (batch_size, latent_dim). Received: "
                                 "latent_dim=5, on which generator 'three' failed (the error above)")
    assert "three-dimensional codes only" in str(caught.value.__cause__)
    assert tfae.GAN(ThreeOnly(), keras.layers.Dense(1), latent_dim=3).sample_shape == (3,)


@pytest.mark.parametrize("call", [
    lambda: _gan().generate(4, batch_size=0),
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2).sample(4, batch_size=0),
    lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2).interpolate(_FLAT[0], _FLAT[1], 3, batch_size=0),
], ids=["gan.generate", "vae.sample", "interpolate"])
def test_generating_methods_pass_their_batch_size_on(call):
    with pytest.raises(ValueError, match="batch_size=0"):
        call()


def test_interpolate_returns_float32_points():
    line = tfae.AutoEncoder(input_shape=(6,), latent_dim=2).interpolate(_FLAT[0], _FLAT[1], 4)
    assert line.dtype == np.float32 and line.shape == (4, 6)


@keras.saving.register_keras_serializable(package="tfae_tests")
class RecordingDecoder(tfae.Decoder):
    """A `tfae.Decoder` that records the `training` flag of each call."""

    def call(self, inputs, training=None, return_logits=False):
        self.seen = [*getattr(self, "seen", []), training]
        return super().call(inputs, training=training, return_logits=return_logits)


def test_adversarial_autoencoder_decodes_in_training_mode_when_training():
    decoder = RecordingDecoder((6,))
    aae = tfae.AdversarialAutoEncoder(tfae.Encoder(2), decoder, input_shape=(6,), seed=0)
    aae(_FLAT[:4], training=True)
    assert decoder.seen[-1] is True
    aae(_FLAT[:4], training=False)
    assert decoder.seen[-1] is False


def test_adversarial_autoencoder_keeps_its_seed_in_its_config():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, seed=3)
    assert aae.seed == 3 and aae.get_config()["seed"] == 3


class UnregisteredCritic(keras.layers.Layer):
    """A discriminator class no registry knows: loading needs it in `custom_objects`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, inputs):
        return self.dense(inputs)


def test_an_adversarial_autoencoder_with_a_custom_discriminator_loads_with_custom_objects(tmp_path):
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, discriminator=UnregisteredCritic(), seed=0)
    aae.save(tmp_path / "aae.keras")
    loaded = keras.models.load_model(tmp_path / "aae.keras", custom_objects={"UnregisteredCritic": UnregisteredCritic})
    assert isinstance(loaded.discriminator, UnregisteredCritic)
    np.testing.assert_allclose(loaded.reconstruct(_FLAT), aae.reconstruct(_FLAT), rtol=1e-6)
    # from_config itself, outside load_model's custom-object scope
    rebuilt = tfae.AdversarialAutoEncoder.from_config(aae.get_config(),
                                                      custom_objects={"UnregisteredCritic": UnregisteredCritic})
    assert isinstance(rebuilt.discriminator, UnregisteredCritic)


@pytest.mark.parametrize("cls, keys", [
    (tfae.AdversarialAutoEncoder, ("loss", "discriminator_loss", "generator_loss", "reconstruction_loss")),
    (tfae.VariationalAutoEncoder, ("loss", "kl_loss", "reconstruction_loss")),
], ids=["aae", "vae"])
def test_zero_weighted_samples_leave_every_loss_term_unchanged(cls, keys):
    # The AAE's discriminator sees the codes of x as fakes: a sample of weight 0 must count in no loss. Both
    # models start alike (weights, seed), so they draw the same prior samples.
    weights = np.array([1, 1, 1, 1, 0, 0, 0, 0], np.float32)
    other = _FLAT[:8].copy()
    other[4:] = 1.0 - other[4:]  # differs only where the weight is 0
    results = []
    for x in (_FLAT[:8], other):
        model = cls(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=0)
        model.compile()
        model.set_weights(results[0][1] if results else model.get_weights())
        results.append((model.evaluate(x, sample_weight=weights, batch_size=8, verbose=0, return_dict=True),
                        model.get_weights()))
    for key in keys:
        assert results[0][0][key] == pytest.approx(results[1][0][key], rel=1e-5), key


# ------------------------------------------------- blind spots found by a second sample (mutants ending in 3)
def test_an_unbuilt_autoencoder_interpolates_between_two_single_samples():
    ae = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((6,)))  # built by the first data it sees
    line = ae.interpolate(_FLAT[0], _FLAT[1], 3)
    assert ae.sample_shape == (6,) and line.shape == (3, 6)
    np.testing.assert_allclose(line[0], ae.reconstruct(_FLAT[:1])[0], rtol=1e-5)


def test_reconstruction_error_of_another_loss_checks_its_batch_size():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(loss="mse")
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        ae.reconstruction_error(_FLAT[:4], batch_size=0)


def test_vae_builds_its_default_halves_from_every_argument_it_takes():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(5,), activation="tanh",
                                      output_activation="linear", dropout=0.25)
    encoder, decoder = vae.encoder.get_config(), vae.decoder.get_config()
    assert encoder["latent_dim"] == 4 and list(encoder["hidden_units"]) == [5]  # mean and log-variance
    assert encoder["activation"] == "tanh" and encoder["dropout"] == 0.25
    assert list(decoder["hidden_units"]) == [5] and decoder["output_activation"] == "linear"
    assert vae.get_config()["output_activation"] == "linear"
    assert vae.decode(np.full((1, 2), 50.0, np.float32)).max() > 1.0  # no sigmoid after the last layer


def test_vae_trains_on_the_reparameterised_code_mean_plus_sigma_times_its_seeded_noise():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=5)
    x = keras.ops.convert_to_tensor(_FLAT[:8])
    mean, log_var = (keras.ops.convert_to_numpy(m) for m in vae.encode_distribution(x))
    noise = keras.ops.convert_to_numpy(keras.random.normal((8, 2), seed=keras.random.SeedGenerator(5)))
    expected = vae.decode(mean + np.exp(0.5 * log_var) * noise)  # the model's generator, from its first draw
    np.testing.assert_allclose(keras.ops.convert_to_numpy(vae(x, training=True)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0),
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, seed=0),
], ids=["vae", "aae"])
def test_return_logits_gives_the_logits_of_the_reconstruction(make):
    model = make()
    x = keras.ops.convert_to_tensor(_FLAT[:4])
    logits = keras.ops.convert_to_numpy(model(x, return_logits=True))
    probabilities = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(1.0 / (1.0 + np.exp(-logits)), probabilities, rtol=1e-5)
    assert np.abs(logits - probabilities).max() > 1e-2


@pytest.mark.parametrize("make", [
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), dropout=0.5, seed=0),
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=0),
], ids=["vae_kl", "aae_discriminator_logits"])
def test_the_loss_takes_what_the_forward_pass_left_for_it_without_encoding_again(make):
    model = make()
    model.compile()
    calls = []
    original = model.encoder.call
    model.encoder.call = lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs)
    x = keras.ops.convert_to_tensor(_FLAT[:8])
    y_pred = model(x, training=True)
    model.compute_loss(x, x, y_pred)
    assert len(calls) == 1


def test_vae_samples_codes_of_arrays_with_the_seed_given_and_the_right_spread():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    x = np.repeat(_FLAT[:1], 4000, axis=0)
    first, second = (vae.encode(x, sample=True, seed=7) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    mean, log_var = vae.encode_distribution(x[:1])
    np.testing.assert_allclose(first.mean(axis=0), mean[0], atol=0.1)
    np.testing.assert_allclose(first.std(axis=0), np.exp(0.5 * log_var[0]), rtol=0.1)


def test_vae_samples_codes_of_tensors_as_mean_plus_sigma_times_the_seeded_normal_noise():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    x = keras.ops.convert_to_tensor(_FLAT[:8])
    mean, log_var = (keras.ops.convert_to_numpy(m) for m in vae.encode_distribution(x))
    noise = keras.ops.convert_to_numpy(keras.random.normal((8, 2), seed=5))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(vae.encode(x, sample=True, seed=5)),
                               mean + np.exp(0.5 * log_var) * noise, rtol=1e-5, atol=1e-6)


def test_a_loaded_gan_keeps_the_optimizer_it_was_compiled_with(tmp_path):
    gan = tfae.GAN(tfae.Decoder((6,)), _critic(), latent_dim=2, seed=0)
    gan.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05))
    gan.fit(_FLAT, epochs=1, batch_size=8, verbose=0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(loaded.optimizer, keras.optimizers.SGD)
    assert float(keras.ops.convert_to_numpy(loaded.optimizer.learning_rate)) == pytest.approx(0.05)


def test_a_gan_with_a_custom_discriminator_rebuilds_from_config_with_custom_objects():
    gan = tfae.GAN(tfae.Decoder((6,)), UnregisteredCritic(), latent_dim=2, seed=0)
    rebuilt = tfae.GAN.from_config(gan.get_config(), custom_objects={"UnregisteredCritic": UnregisteredCritic})
    assert isinstance(rebuilt.discriminator, UnregisteredCritic)


@pytest.mark.parametrize("call, message", [
    (lambda d: d.predict(_FLAT), "`predict()` needs a fitted detector"),
    (lambda d: d.predict_proba(_FLAT), "`predict_proba()` needs a fitted detector"),
    (lambda d: d.save("unused"), "`save()` needs a fitted detector"),
    (lambda d: d.fit(_FLAT, epochs=True), "Expected `epochs` to be an integer >= 0. Received: epochs=True"),
    (lambda d: d.fit(_FLAT, epochs=1.5), "Expected `epochs` to be an integer >= 0. Received: epochs=1.5"),
    (lambda d: tfae.AnomalyDetector("an autoencoder"),
     "Expected `autoencoder` to be a tfae autoencoder (with `reconstruction_error`). Received: autoencoder of type str"),
])
def test_an_unfitted_anomaly_detector_and_bad_arguments_get_errors_naming_the_call(call, message):
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2))
    with pytest.raises(ValueError) as error:
        call(detector)
    assert message in str(error.value)
    assert not detector.autoencoder.compiled  # refused before anything was done


def test_anomaly_detector_load_of_a_folder_without_a_detector_names_the_folder(tmp_path):
    with pytest.raises(ValueError) as error:
        tfae.AnomalyDetector.load(tmp_path)
    assert f"Received: path={str(tmp_path)!r}" in str(error.value)


def test_anomaly_detector_fit_hands_its_fit_arguments_to_the_autoencoder():
    batches = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))
    tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2)).fit(
        _FLAT, epochs=1, batch_size=8, callbacks=[callback], verbose=0)
    assert batches == [0, 1, 2]  # 24 samples in batches of 8


def test_sample_of_an_unbuilt_model_names_the_method():
    vae = tfae.VariationalAutoEncoder(tfae.Encoder(4), tfae.Decoder((6,)))
    with pytest.raises(ValueError, match=r"^`sample\(\)` needs a built model"):
        vae.sample(3)


def test_adversarial_autoencoder_builds_its_discriminator_from_discriminator_units_and_keeps_it_out_of_its_config():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, discriminator_units=(7,), seed=0)
    assert list(aae.discriminator.get_config()["hidden_units"]) == [7]
    config = aae.get_config()
    assert config["discriminator"] is None and config["discriminator_units"] == [7]  # rebuilt from the units


def test_adversarial_autoencoder_refuses_a_discriminator_that_does_not_give_one_logit_per_code():
    with pytest.raises(ValueError, match=r"^Expected the discriminator to output one logit per code, shape "):
        tfae.AdversarialAutoEncoder(input_shape=(4,), latent_dim=2, discriminator=keras.layers.Dense(3))


def test_adversarial_autoencoder_called_on_a_symbolic_input_in_training_mode_gives_a_symbolic_output():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    state = keras.ops.convert_to_numpy(aae.seed_generator.state)
    outputs = aae(keras.Input((6,)), training=True)  # as inside a functional model
    assert isinstance(outputs, keras.KerasTensor) and tuple(outputs.shape) == (None, 6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(aae.seed_generator.state), state)  # nothing drawn


class RecordingCritic(UnregisteredCritic):
    """A discriminator that records the `training` flag of each call."""

    def call(self, inputs, training=None):
        self.seen = [*getattr(self, "seen", []), training]
        return self.dense(inputs)


@pytest.mark.parametrize("training", [True, False])
def test_both_passes_through_the_discriminator_get_the_training_flag_given(training):
    from tfae.models._adversarial import discriminate

    critic = RecordingCritic()
    real, fake = keras.ops.convert_to_tensor(_FLAT[:4]), keras.ops.convert_to_tensor(_FLAT[4:8])
    discriminate(critic, real, fake, training=training)  # the joint pass, then the frozen one
    assert critic.seen[-2:] == [training, training]


def test_evaluate_honours_steps():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    first_batch = ae.evaluate(_FLAT[:8], batch_size=8, verbose=0)
    assert ae.evaluate(_FLAT, batch_size=8, steps=1, verbose=0) == pytest.approx(first_batch, rel=1e-6)
    assert ae.evaluate(_FLAT, batch_size=8, verbose=0) != pytest.approx(first_batch, rel=1e-3)


class UnregisteredEncoder(tfae.Encoder):
    """An encoder class no registry knows: rebuilding needs it in `custom_objects`."""


@pytest.mark.parametrize("make, code_width", [
    (tfae.AutoEncoder, 2), (tfae.VariationalAutoEncoder, 4), (tfae.AdversarialAutoEncoder, 2),
], ids=["autoencoder", "variational", "adversarial"])
def test_a_model_with_a_custom_encoder_rebuilds_from_config_with_custom_objects(make, code_width):
    # Each subclass's from_config must hand custom_objects on to AutoEncoder's, which rebuilds the halves.
    model = make(UnregisteredEncoder(code_width), tfae.Decoder((6,)), input_shape=(6,))
    rebuilt = make.from_config(model.get_config(), custom_objects={"UnregisteredEncoder": UnregisteredEncoder})
    assert isinstance(rebuilt.encoder, UnregisteredEncoder)


@pytest.mark.parametrize("filepath", ["gs://bucket/ae.keras", "s3://bucket/ae.weights.h5", "memory://ae.keras"])
def test_a_remote_filepath_is_left_to_keras_own_writing(filepath):
    from tfae.models import _saving

    assert _saving._local_file(filepath) is None
    assert _saving._local_file(filepath.replace("://", "/")) is not None


def test_decode_of_an_unbuilt_autoencoder_says_how_to_build_it():
    ae = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((6,)))
    with pytest.raises(ValueError) as error:
        ae.decode(np.zeros((1, 2), np.float32))
    assert str(error.value) == ("`decode()` needs a built model: pass `input_shape=` to AutoEncoder, or call "
                                "`fit`, `encode` or the model on data first.")


def test_a_gan_is_built_once_constructed_and_names_a_bad_discriminator():
    assert tfae.GAN(tfae.Decoder((6,)), _critic(), latent_dim=2).built is True
    with pytest.raises(ValueError, match=r"Expected `discriminator` .*Received: discriminator of type str"):
        tfae.GAN(tfae.Decoder((6,)), "critic", latent_dim=2)


def test_a_gan_passes_its_training_flag_to_both_discriminator_passes_and_its_compile_arguments_to_keras():
    critic = RecordingCritic()
    gan = tfae.GAN(tfae.Decoder((6,)), critic, latent_dim=2, seed=0)
    gan(keras.ops.convert_to_tensor(_FLAT[:4]), training=True)
    assert critic.seen[-2:] == [True, True]
    gan.compile(run_eagerly=True, steps_per_execution=2)
    assert gan.run_eagerly is True and gan.steps_per_execution == 2


def test_a_decoder_without_logits_gets_the_loss_plain_keras_gives_it_even_where_its_sigmoid_saturates():
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(6, activation="sigmoid")])
    ae = tfae.AutoEncoder(tfae.Encoder(2), decoder, input_shape=(6,))
    decoder.layers[-1].bias.assign(np.full(6, 40.0, np.float32))  # outputs of 1.0 in float32
    ae.compile()
    inputs = keras.Input((6,))
    plain = keras.Model(inputs, decoder(ae.encoder(inputs)))
    plain.compile(loss="binary_crossentropy")
    expected = plain.evaluate(_FLAT, _FLAT, verbose=0)
    assert ae.evaluate(_FLAT, verbose=0, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_fit_and_evaluate_default_every_argument_as_keras_does(method):
    import inspect

    ours = inspect.signature(getattr(tfae.AutoEncoder, method)).parameters
    keras_own = inspect.signature(getattr(keras.Model, method)).parameters
    shared = [name for name in keras_own if name in ours and keras_own[name].default is not inspect.Parameter.empty]
    assert len(shared) >= 8
    assert {name: ours[name].default for name in shared} == {name: keras_own[name].default for name in shared}


def test_fit_refuses_targets_outside_zero_one_for_the_cross_entropy_and_prints_as_verbose_asks(capsys):
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    with pytest.raises(ValueError, match=r"^Expected targets in \[0, 1\] .* Received: x with values in \[2, 2\]"):
        ae.fit(np.full((4, 6), 2.0, np.float32), verbose=0)
    ae.fit(_FLAT, epochs=1, batch_size=8, verbose=2)
    assert "3/3" in capsys.readouterr().out  # Keras' one line per epoch: steps, time, loss
    ae.fit(_FLAT, epochs=1, batch_size=8)  # Keras' default, "auto": a progress bar
    assert "3/3" in capsys.readouterr().out


def test_a_sparse_autoencoder_called_on_a_symbolic_input_adds_no_penalty():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, sparsity=0.1)
    ae(keras.Input((6,)))
    assert ae.losses == []
    ae(_FLAT[:4])
    assert len(ae.losses) == 1  # an eager call adds it


def test_the_halves_a_model_builds_are_named_encoder_and_decoder_whatever_was_built_before():
    tfae.Encoder(2), tfae.Decoder((6,))  # these take Keras' automatic names "encoder" and "decoder" first

    class Encoder(keras.layers.Layer):  # a user's own, as keras-io's examples write them: Keras names them
        pass                            # from the class, and the next unnamed ones "encoder_1", "decoder_1"

    class Decoder(keras.layers.Layer):
        pass

    Encoder(), Encoder(name=None), Decoder(), Decoder(name=None)
    for tied in (False, True):
        ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, tied=tied)
        assert (ae.encoder.name, ae.decoder.name) == ("encoder", "decoder")


@pytest.mark.parametrize("make, message", [
    (lambda: tfae.AutoEncoder(tfae.Encoder(2)),
     "Expected `input_shape` when no `decoder` is given: the decoder must know what shape to reconstruct. "
     "Received: input_shape=None"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((6,))).build((None, None)),
     "Expected an input shape with a batch axis and known sample axes, e.g. (None, 784). "
     "Received: input_shape=(None, None)"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((5,)), input_shape=(6,)),
     "Expected the decoder to reconstruct samples of the input's shape (6,). "
     "Received: decoder output shape=(None, 5)"),
    (lambda: tfae.AutoEncoder(keras.layers.Reshape((2, 3)), tfae.Decoder((6,)), input_shape=(6,)),
     "Expected the encoder to output latent vectors of shape (batch_size, latent_dim). "
     "Received: encoder output shape=(None, 2, 3)"),
    (lambda: tfae.AutoEncoder(decoder=tfae.Decoder((6,)), input_shape=(6,)),
     "Expected `latent_dim` (an integer > 0) when no `encoder` is given. Received: latent_dim=None"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2, name="enc"), input_shape=(6,), tied=True),
     "Expected no `encoder` or `decoder` with `tied=True`: the model builds a tfae.Encoder and the TiedDecoder "
     "that mirrors it. Received: encoder=<Encoder name=enc, built=False>, decoder=None"),
])
def test_an_autoencoder_that_cannot_be_built_says_why_in_full(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert str(error.value) == message


# ------------------------------------------------- blind spots found by a third sample (mutants ending in 5)
@pytest.mark.parametrize("make", [
    lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,), noise="gaussian",
                             dtype="mixed_float16"),
    lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, tied=True, dtype="mixed_float16"),
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, noise="masking", dtype="mixed_float16"),
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, noise="masking", dtype="mixed_float16"),
], ids=["denoising", "tied", "vae", "aae"])
def test_every_layer_a_model_builds_takes_the_models_dtype_policy(make):
    model = make()
    built = [layer for name in ("encoder", "decoder", "corruption", "discriminator")
             if (layer := getattr(model, name, None)) is not None]
    assert {layer.name: layer.dtype_policy.name for layer in built} == dict.fromkeys(
        (layer.name for layer in built), "mixed_float16")


@pytest.mark.parametrize("cls", [tfae.VariationalAutoEncoder, tfae.AdversarialAutoEncoder])
def test_the_family_models_pass_noise_on_and_corrupt_their_inputs_in_training_only(cls):
    model = cls(input_shape=(6,), latent_dim=2, noise="masking", noise_level=0.5, seed=0)
    assert (model.noise, model.noise_level) == ("masking", 0.5)
    assert model.corruption.get_config()["noise"] == "masking"
    assert model.corruption.get_config()["noise_level"] == 0.5
    assert cls.from_config(model.get_config()).corruption.get_config()["noise"] == "masking"
    x = keras.ops.convert_to_tensor(_FLAT[:4])
    masked = keras.ops.convert_to_numpy(model.corruption(x, training=True))
    assert (masked == 0).mean() > 0.2 and np.all((masked == 0) | np.isclose(masked, _FLAT[:4]))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.corruption(x, training=False)), _FLAT[:4])


@pytest.mark.parametrize("make", [
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=0),
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(8,), seed=0),
], ids=["vae", "aae"])
def test_evaluate_reports_each_loss_term_as_a_mean_over_samples_whatever_the_batches(make):
    # Batches of 2, 2 and 1 must weigh as the one batch of 5: each term's tracker counts samples, not batches.
    model = make()
    model.compile()
    whole = model.evaluate(_FLAT[:5], batch_size=5, verbose=0, return_dict=True)
    parts = model.evaluate(_FLAT[:5], batch_size=2, verbose=0, return_dict=True)
    # The AAE's discriminator loss draws from the prior: its other terms are deterministic in evaluate.
    for key in {"reconstruction_loss", "kl_loss", "generator_loss"} & set(whole):
        assert parts[key] == pytest.approx(whole[key], rel=1e-5), key


def test_adversarial_autoencoder_evaluates_its_discriminator_in_inference_mode():
    critic = RecordingCritic()
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, discriminator=critic, seed=0)
    aae.compile()
    critic.seen = []
    aae.evaluate(_FLAT[:8], batch_size=8, verbose=0)
    assert critic.seen and not any(critic.seen)


def test_the_default_encoder_takes_the_latent_activation():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,), latent_activation="tanh")
    assert ae.encoder.get_config()["latent_activation"] == "tanh"
    assert np.abs(ae.encode(_FLAT * 1e3)).max() <= 1.0  # a linear code would grow with the input


def test_an_unbuilt_autoencoder_builds_from_a_list_of_samples():
    ae = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((6,)))
    codes = ae.encode(_FLAT[:3].tolist())
    assert ae.sample_shape == (6,) and codes.shape == (3, 2)


@pytest.mark.parametrize("make", [
    lambda critic: tfae.GAN(tfae.Decoder((6,)), critic, latent_dim=2, seed=0),
    lambda critic: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, discriminator=critic, seed=0),
], ids=["gan", "aae"])
def test_a_discriminator_with_batch_normalization_trains_and_updates_its_statistics(make):
    # The generator's pass holds the discriminator's weights constant, its moving statistics included.
    critic = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    model = make(critic)
    model.compile()
    before = keras.ops.convert_to_numpy(critic.layers[1].moving_mean)
    history = model.fit(_FLAT, epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert not np.array_equal(keras.ops.convert_to_numpy(critic.layers[1].moving_mean), before)


# ------------------------------------------------- blind spots found by a fourth sample (mutants ending in 1)
def test_interpolate_takes_eight_points_by_default_and_says_why_it_refuses_fewer_than_two():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    assert ae.interpolate(_FLAT[0], _FLAT[1]).shape == (8, 6)
    with pytest.raises(ValueError) as error:
        ae.interpolate(_FLAT[0], _FLAT[1], 1)
    assert str(error.value) == "Expected `steps` to be an integer >= 2 (both ends). Received: steps=1"


def test_an_unbuilt_autoencoder_interpolates_between_two_batches():
    ae = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((6,)))  # built from one sample of the batch
    lines = ae.interpolate(_FLAT[:3], _FLAT[3:6], 4)
    assert ae.sample_shape == (6,) and lines.shape == (3, 4, 6)


def test_reconstruction_error_of_an_uncompiled_model_without_tfae_sigmoid_is_keras_cross_entropy():
    decoder = keras.Sequential([keras.layers.Dense(6, activation="sigmoid")], name="plain")
    ae = tfae.AutoEncoder(tfae.Encoder(2), decoder, input_shape=(6,))
    p = np.clip(ae.reconstruct(_FLAT), keras.config.epsilon(), 1 - keras.config.epsilon())
    expected = -(_FLAT * np.log(p) + (1 - _FLAT) * np.log(1 - p)).mean(axis=1)
    np.testing.assert_allclose(ae.reconstruction_error(_FLAT), expected, rtol=1e-4)


def test_vae_loss_outside_a_step_is_that_of_the_mean_codes_in_inference_mode():
    # Given an output of no call of its own (Keras' symbolic build, a user's y_pred), the KL term is computed
    # from x in inference mode: with dropout in the encoder, the same value every time.
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(16,), dropout=0.5, seed=0)
    vae.compile()
    x = keras.ops.convert_to_tensor(_FLAT[:8])
    y_pred = keras.ops.convert_to_tensor(_FLAT[8:16])
    losses = [float(keras.ops.convert_to_numpy(vae.compute_loss(x, x, y_pred))) for _ in range(3)]
    assert losses[0] == losses[1] == losses[2]
    mean, log_var = vae.encode_distribution(_FLAT[:8])
    kl = (-0.5 * (1 + log_var - mean**2 - np.exp(log_var)).sum(axis=1)).mean()
    assert float(keras.ops.convert_to_numpy(vae.kl_loss_tracker.result())) == pytest.approx(kl, rel=1e-4)


@pytest.mark.parametrize("dtype, expected", [(None, np.float32), ("mixed_float16", np.float16)])
@pytest.mark.parametrize("as_tensor", [False, True], ids=["array", "tensor"])
def test_vae_sampled_codes_come_in_the_dtype_of_its_mean_codes(dtype, expected, as_tensor):
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0, dtype=dtype)
    x = keras.ops.convert_to_tensor(_FLAT[:4]) if as_tensor else _FLAT[:4]
    codes = keras.ops.convert_to_numpy(vae.encode(x, sample=True, seed=1))
    assert codes.dtype == expected == keras.ops.convert_to_numpy(vae.encode(x)).dtype


@pytest.mark.parametrize("contamination, accepted", [(0.0, False), (1e-6, True), (0.5, True), (0.5001, False)])
def test_anomaly_detector_contamination_lies_in_zero_excluded_to_one_half(contamination, accepted):
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    if accepted:
        assert tfae.AnomalyDetector(ae, contamination=contamination).contamination == contamination
    else:
        with pytest.raises(ValueError, match=f"Received: contamination={contamination}"):
            tfae.AnomalyDetector(ae, contamination=contamination)


def test_anomaly_detector_load_refuses_pickled_scores(tmp_path):
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2)).fit(_FLAT, epochs=1, verbose=0)
    detector.save(tmp_path / "det")
    scores = next((tmp_path / "det").glob("*.npy"))
    np.save(scores, np.array([{"runs": "code when unpickled"}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="Expected a folder written by AnomalyDetector.save"):
        tfae.AnomalyDetector.load(tmp_path / "det")


@pytest.mark.parametrize("state, reason", [
    ({"threshold": 1.0}, "detector.json: missing field(s) ['contamination']"),
    ([0.1, 1.0], "detector.json: expected an object, got list"),
    ({"contamination": 0.1, "threshold": "abc"}, "detector.json: expected a finite number as threshold, got 'abc'"),
    ({"contamination": 0.1, "threshold": float("nan")}, "detector.json: expected a finite number as threshold, got nan"),
    ({"contamination": 0.1, "threshold": 10**400},
     "detector.json: expected a finite number as threshold, got 1000000000000000000000000000000000000..."),
    ({"contamination": 0.9, "threshold": 1.0},
     "detector.json: Expected `contamination` to be a number in (0, 0.5]. Received: contamination=0.9"),
])
def test_anomaly_detector_load_checks_each_field_of_its_state_naming_the_folder(tmp_path, state, reason):
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2)).fit(_FLAT, epochs=1, verbose=0)
    detector.save(tmp_path / "det")
    (tmp_path / "det" / "detector.json").write_text(json.dumps(state))
    with pytest.raises(ValueError) as caught:
        tfae.AnomalyDetector.load(tmp_path / "det")
    assert str(caught.value) == ("Expected a folder written by AnomalyDetector.save. "
                                 f"Received: path={str(tmp_path / 'det')!r} ({reason})")


def test_anomaly_detector_follows_scikit_learns_estimator_api():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    detector = tfae.AnomalyDetector(ae, contamination=0.2)
    assert detector.get_params() == {"autoencoder": ae, "contamination": 0.2}
    fresh = type(detector)(**detector.get_params(deep=False))  # what sklearn.base.clone does, without copying
    assert fresh.get_params() == detector.get_params() and not hasattr(fresh, "threshold_")
    assert detector.set_params(contamination=0.3) is detector and detector.contamination == 0.3
    with pytest.raises(ValueError, match=r"Received: contamination=0.7$"):
        detector.set_params(contamination=0.7)
    with pytest.raises(ValueError, match=r"Received: \['threshold'\]$"):
        detector.set_params(threshold=1.0)
    labels = np.arange(len(_FLAT)) % 2
    fitted = detector.fit(_FLAT, labels)  # a Pipeline passes y; detection ignores it
    np.testing.assert_array_equal(fitted.decision_scores_, ae.reconstruction_error(_FLAT))


def test_anomaly_detector_is_cloned_and_fitted_by_scikit_learn():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2), contamination=0.25)
    copy = clone(detector)
    assert copy.contamination == 0.25 and copy.autoencoder is not detector.autoencoder
    make_pipeline(FunctionTransformer(), detector).fit(_FLAT)  # calls fit(x, None)
    np.testing.assert_array_equal(detector.decision_scores_, detector.autoencoder.reconstruction_error(_FLAT))
    assert sklearn.__version__


def test_adversarial_autoencoder_defaults_its_adversarial_weight_to_twenty():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    assert aae.adversarial_weight == 20.0 and aae.get_config()["adversarial_weight"] == 20.0


def test_a_sparse_adversarial_autoencoder_adds_the_penalty_of_its_codes():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, sparsity=0.1, seed=0)
    aae(_FLAT[:4])
    codes = aae.encode(_FLAT[:4])
    assert len(aae.losses) == 1
    assert float(keras.ops.convert_to_numpy(aae.losses[0])) == pytest.approx(0.1 * np.abs(codes).sum() / 4, rel=1e-5)


@pytest.mark.parametrize("shape", [(12,), (5,), (3, 5), ()])
def test_interpolate_refuses_points_of_another_shape_naming_the_shape_given(shape):
    # The points were once concatenated first, and the error named `x` with the shape of both together.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    with pytest.raises(ValueError) as error:
        ae.interpolate(np.zeros(shape), np.zeros(shape), 3)
    assert str(error.value) == ("Expected `x_a` and `x_b` to be one sample of shape (6,) (6 values), or a batch of "
                                f"them of shape (n, *(6,)). Received: x_a.shape={shape}")


def test_interpolate_refuses_a_vector_for_a_model_of_one_value_per_sample():
    # Each value of a 1-D array is one "value", not one sample: no batch axis, so no batch.
    ae = tfae.AutoEncoder(input_shape=(1,), latent_dim=1)
    with pytest.raises(ValueError, match=r"Received: x_a.shape=\(3,\)$"):
        ae.interpolate(np.zeros(3), np.ones(3), 3)


def test_interpolate_takes_an_image_model_s_samples_flat_or_shaped_one_at_a_time_or_in_batches():
    ae = tfae.AutoEncoder(input_shape=(2, 3, 1), latent_dim=2)
    image = _FLAT[:2].reshape(2, 2, 3, 1)
    expected = ae.interpolate(image, image[::-1], 3)
    assert expected.shape == (2, 3, 2, 3, 1)
    np.testing.assert_allclose(ae.interpolate(_FLAT[:2], _FLAT[1::-1], 3), expected, rtol=1e-6)
    np.testing.assert_allclose(ae.interpolate(image[..., 0], image[::-1, ..., 0], 3), expected, rtol=1e-6)  # as encode
    np.testing.assert_allclose(ae.interpolate(image[0], image[1], 3), expected[0], rtol=1e-6)
    np.testing.assert_allclose(ae.interpolate(_FLAT[0], _FLAT[1], 3), expected[0], rtol=1e-6)


def test_evaluate_prints_as_verbose_asks_and_a_progress_bar_by_default(capsys):
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    ae.evaluate(_FLAT, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""
    ae.evaluate(_FLAT, batch_size=8, verbose=2)
    assert "3/3 - " in capsys.readouterr().out  # Keras' one line: steps, time, loss
    ae.evaluate(_FLAT, batch_size=8)  # Keras' default, "auto": a progress bar
    assert "3/3" in capsys.readouterr().out


def test_fit_trains_one_epoch_by_default_and_honours_validation_steps():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    history = ae.fit(_FLAT[:8], batch_size=8, validation_data=(_FLAT,), validation_steps=1, verbose=0).history
    assert len(history["loss"]) == 1
    first_batch = ae.evaluate(_FLAT[:8], batch_size=8, verbose=0, return_dict=True)["loss"]
    assert history["val_loss"][0] == pytest.approx(first_batch, rel=1e-5)
    assert history["val_loss"][0] != pytest.approx(ae.evaluate(_FLAT, batch_size=8, verbose=0), rel=1e-3)


def test_fit_hands_every_argument_to_the_engine_as_given(monkeypatch):
    import tfae._engine

    seen = {}
    monkeypatch.setattr(tfae._engine, "fit", lambda model, keras_fit, x, y, sample_weight, arguments: seen.update(
        arguments, x=x, y=y, sample_weight=sample_weight))
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    callback = keras.callbacks.Callback()
    given = dict(batch_size=4, epochs=3, verbose=2, validation_split=0.25, shuffle=False, class_weight={0: 2.0},
                 initial_epoch=1, steps_per_epoch=2, validation_steps=1, validation_batch_size=2, validation_freq=2)
    ae.fit(_FLAT, callbacks=[callback], **given)
    assert {key: seen[key] for key in given} == given
    assert seen["callbacks"][-1] is callback and seen["validation_data"] is None
    np.testing.assert_array_equal(seen["x"], _FLAT)


def test_the_default_decoder_takes_the_dropout():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,), dropout=0.25)
    assert ae.encoder.get_config()["dropout"] == ae.decoder.get_config()["dropout"] == 0.25


# ---- Blind spots a fifth untouched mutation sample of tfae.models (mutants numbered ...0) found.

def _variable_values(model):
    """`(trainable, non_trainable)`: the values of a model's variables, as `stateless_call` takes them."""
    return [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables]


@pytest.mark.parametrize("output_activation", ["sigmoid", None], ids=["tfae_sigmoid", "no_sigmoid"])
def test_stateless_call_in_training_mode_applies_the_decoders_dropout(output_activation):
    # `stateless_call` (JAX users' functional step) runs `call` outside any layer call, so `call` must hand
    # `training` to the decoder itself: no outer call context carries it there. Only the decoder drops out.
    decoder = tfae.Decoder((6,), hidden_units=(32,), dropout=0.5, output_activation=output_activation)
    ae = tfae.AutoEncoder(tfae.Encoder(2, hidden_units=(32,)), decoder)
    ae.build((None, 6))
    variables = _variable_values(ae)
    trained, _ = ae.stateless_call(*variables, _FLAT, training=True)
    inferred, _ = ae.stateless_call(*variables, _FLAT, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(inferred), ae.reconstruct(_FLAT), rtol=1e-5, atol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(trained), keras.ops.convert_to_numpy(inferred))


def test_interpolate_with_two_steps_gives_the_two_end_points():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    line = ae.interpolate(_FLAT[0], _FLAT[1], 2)
    np.testing.assert_allclose(line, ae.reconstruct(_FLAT[:2]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Received: steps=1"):
        ae.interpolate(_FLAT[0], _FLAT[1], 1)


def test_encode_distribution_passes_its_batch_size_on():
    with pytest.raises(ValueError, match="batch_size=0"):
        tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2).encode_distribution(_FLAT, batch_size=0)


@pytest.mark.parametrize("make", [
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2),
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2),
], ids=["variational", "adversarial"])
def test_sample_with_a_seed_repeats_and_another_seed_differs(make):
    model = make()
    np.testing.assert_array_equal(model.sample(5, seed=3), model.sample(5, seed=3))
    assert not np.allclose(model.sample(5, seed=3), model.sample(5, seed=4))


def test_a_gan_discriminator_of_several_logits_is_refused_naming_one_per_sample():
    critic = keras.Sequential([keras.layers.Dense(2)], name="critic")
    with pytest.raises(ValueError, match=r"^Expected the discriminator to output one logit per sample, shape "):
        tfae.GAN(tfae.Decoder((6,)), critic, latent_dim=2).build((None, 6))


def test_a_gan_knows_its_generators_sample_shape_from_the_start():
    assert _gan().sample_shape == (6,)
    critic = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(1)])
    assert tfae.GAN(tfae.Decoder((4, 3)), critic, latent_dim=2).sample_shape == (4, 3)


def _gan_logits(seed):
    rng = np.random.default_rng(seed)
    return {key: keras.ops.convert_to_tensor(rng.normal(size=(4, 1)).astype(np.float32))
            for key in ("real", "fake", "fooled")}


def test_a_gan_sample_of_weight_zero_does_not_count_in_the_discriminators_loss():
    gan = _gan()  # built in its constructor, from its generator's output shape
    gan.compile()
    logits = _gan_logits(0)
    weights = keras.ops.convert_to_tensor(np.array([1.0, 1.0, 0.0, 0.0], np.float32))
    other_real = dict(logits, real=keras.ops.concatenate([logits["real"][:2], logits["real"][2:] - 100.0]))
    loss = gan.compute_loss(_FLAT[:4], y_pred=logits, sample_weight=weights)
    assert float(gan.compute_loss(_FLAT[:4], y_pred=other_real, sample_weight=weights)) == pytest.approx(float(loss))
    assert float(gan.compute_loss(_FLAT[:4], y_pred=other_real)) != pytest.approx(float(loss), rel=1e-3)


def test_a_gan_loss_adds_its_players_regularizers():
    generator = tfae.Decoder((6,), kernel_regularizer=keras.regularizers.L2(10.0))
    plain, regularized = _gan(), tfae.GAN(generator, _critic(), latent_dim=2)
    for gan in (plain, regularized):
        gan.compile()
    regularized.set_weights(plain.get_weights())
    logits = _gan_logits(1)
    penalty = float(keras.ops.sum(regularized.losses))
    assert penalty > 0
    assert float(regularized.compute_loss(_FLAT[:4], y_pred=logits)) == pytest.approx(
        float(plain.compute_loss(_FLAT[:4], y_pred=logits)) + penalty, rel=1e-5)


def test_an_adversarial_autoencoder_keeps_the_halves_it_is_given():
    encoder, decoder = tfae.Encoder(2, hidden_units=(8,)), tfae.Decoder((6,), hidden_units=(8,))
    aae = tfae.AdversarialAutoEncoder(encoder, decoder)
    assert aae.encoder is encoder and aae.decoder is decoder
    with pytest.raises(ValueError, match="Received: discriminator of type str"):
        tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, discriminator="critic")


@pytest.mark.parametrize("make", [
    lambda: tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, seed=3),
    lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=3),
    lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, noise="gaussian"),
], ids=["adversarial", "variational", "denoising"])
def test_inference_leaves_the_models_training_noise_stream_alone(make):
    # A call, predict or reconstruct outside training draws nothing: the next fit sees the noise a seeded run
    # would have seen without them.
    model = make()
    streams = [v for v in model.non_trainable_variables if "seed_generator" in v.path]
    before = [np.array(v) for v in streams]
    assert streams
    model(_FLAT)
    model.predict(_FLAT, verbose=0)
    model.reconstruct(_FLAT)
    for variable, start in zip(streams, before):
        np.testing.assert_array_equal(np.array(variable), start)


def test_anomaly_labels_count_a_score_equal_to_the_threshold_as_normal(tmp_path):
    # With 21 training samples the 0.75 quantile is the 16th score itself: 5 scores above it, not 6.
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2), contamination=0.25)
    detector.fit(_FLAT[:21], epochs=0)
    assert detector.threshold_ in detector.decision_scores_
    assert detector.labels_.sum() == 5
    detector.save(tmp_path / "det")
    assert tfae.AnomalyDetector.load(tmp_path / "det").labels_.sum() == 5


def test_anomaly_probabilities_stay_within_zero_and_one_far_from_the_training_data():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(loss="mse")  # the squared error of samples of 50s dwarfs every training score
    detector = tfae.AnomalyDetector(ae).fit(_FLAT)
    far = np.full((3, 6), 50.0, np.float32)
    assert (detector.decision_function(far) > detector.decision_scores_.max()).all()
    np.testing.assert_array_equal(detector.predict_proba(far), [[0.0, 1.0]] * 3)


def test_anomaly_detector_save_names_its_path_argument():
    with pytest.raises(ValueError, match="Received: path=3"):
        _fitted_detector().save(3)


@pytest.mark.parametrize("make, name", [
    (tfae.AutoEncoder, "autoencoder"),
    (tfae.VariationalAutoEncoder, "variational_autoencoder"),
    (tfae.AdversarialAutoEncoder, "adversarial_autoencoder"),
])
def test_each_model_defaults_to_its_own_name_never_numbered(make, name):
    assert [make(input_shape=(6,), latent_dim=2).name for _ in range(2)] == [name, name]


# ---- Blind spots a sixth untouched mutation sample of tfae.models (mutants numbered ...2) found.

def test_a_gans_stateless_call_in_training_mode_applies_the_generators_dropout():
    # As for the AutoEncoder above: outside a layer call only `call` can hand `training` to the generator.
    gan = tfae.GAN(tfae.Decoder((6,), hidden_units=(32,), dropout=0.5), _critic(), latent_dim=2)
    variables = _variable_values(gan)
    trained, _ = gan.stateless_call(*variables, _FLAT, training=True)
    inferred, _ = gan.stateless_call(*variables, _FLAT, training=False)  # the same codes: the same seed state
    np.testing.assert_allclose(keras.ops.convert_to_numpy(trained["real"]),
                               keras.ops.convert_to_numpy(inferred["real"]), rtol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(trained["fake"]), keras.ops.convert_to_numpy(inferred["fake"]))


def _half_with_seeded_dropout(units, name):
    # Seeded: an unseeded Dropout on PyTorch draws from torch's own generator and leaves its seed state alone.
    return keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.5, seed=1), keras.layers.Dense(units)],
                            name=name)


@pytest.mark.parametrize("make, code_width", [
    (tfae.AutoEncoder, 2), (tfae.VariationalAutoEncoder, 4), (tfae.AdversarialAutoEncoder, 2),
], ids=["autoencoder", "variational", "adversarial"])
def test_a_stateless_call_in_training_mode_draws_from_every_random_layer_and_inference_from_none(make, code_width):
    # The corruption, both halves' dropout and the model's own draws each move their seed state when, and only
    # when, `stateless_call` says training: `call` must hand `training` to each sublayer (no call context does).
    model = make(_half_with_seeded_dropout(code_width, "encoder"), _half_with_seeded_dropout(6, "decoder"),
                 noise="gaussian")
    model.build((None, 6))
    trainable, states = _variable_values(model)
    assert len(states) >= 3  # the corruption's, the encoder's and the decoder's seed generators, at least

    def moved(training):
        _, new_states = model.stateless_call(trainable, states, _FLAT, training=training)
        return [not np.array_equal(keras.ops.convert_to_numpy(old), keras.ops.convert_to_numpy(new))
                for old, new in zip(states, new_states)]

    assert all(moved(True)) and not any(moved(False))


def test_an_anomaly_detector_trains_its_autoencoder_for_the_epochs_it_is_given():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    tfae.AnomalyDetector(ae).fit(_FLAT, epochs=3, batch_size=8, verbose=0)
    assert len(ae.history.history["loss"]) == 3


def test_interpolate_decodes_the_float32_line_between_the_two_codes():
    # (1 - t) z_a + t z_b in the codes' float32, as a user computing the line would: float64 weights round the
    # inner points differently by an ulp or two.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    z_a, z_b = ae.encode(_FLAT[:2])
    t = np.linspace(0.0, 1.0, 8, dtype=np.float32)[:, None]
    np.testing.assert_array_equal(ae.interpolate(_FLAT[0], _FLAT[1], 8), ae.decode((1.0 - t) * z_a + t * z_b))


def test_the_adversarial_loss_keeps_its_players_dtype_when_floatx_changes_later():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, adversarial_weight=0.1)
    aae.compile()
    x = keras.ops.convert_to_tensor(_FLAT[:4])
    y_pred = aae(x)
    floatx = keras.config.floatx()
    try:
        keras.config.set_floatx("float64")
        loss = aae.compute_loss(x, y_pred=y_pred)
    finally:
        keras.config.set_floatx(floatx)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"


class _DtypeRecordingDecoder(keras.layers.Layer):
    """A decoder that sees its inputs as they come (no autocast) and records their dtype."""

    def __init__(self, **kwargs):
        super().__init__(autocast=False, **kwargs)
        self.dense = keras.layers.Dense(6, dtype=self.dtype_policy)
        self.seen = []

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, inputs):
        self.seen.append(keras.backend.standardize_dtype(inputs.dtype))
        return self.dense(keras.ops.cast(inputs, self.compute_dtype))


def test_a_variational_autoencoder_samples_its_training_code_in_the_compute_dtype():
    # mean + exp(log_var / 2) * noise in float16 under mixed precision, as the mean: a float32 draw would
    # turn the code into float32 (rounded once instead of per operation) before the decoder.
    decoder = _DtypeRecordingDecoder(dtype="mixed_float16")
    vae = tfae.VariationalAutoEncoder(tfae.Encoder(4, dtype="mixed_float16"), decoder, input_shape=(6,),
                                      dtype="mixed_float16")
    vae(_FLAT[:4], training=True)
    assert decoder.seen[-1] == "float16"


# ---- Blind spots a seventh untouched mutation sample of tfae.models (mutants numbered ...4) found.

def test_a_variational_autoencoder_reconstructs_towards_the_targets_it_is_given():
    # A denoising VAE trains on (noisy, clean) pairs: its reconstruction term compares with `y`, not with `x`.
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    vae.compile()
    x, y = _FLAT[:8], _FLAT[8:16]
    result = vae.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    # The VAE's default loss sums over each example's pixels: reconstruction_error's "sum".
    expected = vae.reconstruction_error(x, y, reduction="sum")
    assert result["reconstruction_loss"] == pytest.approx(float(expected.mean()), rel=1e-5)
    assert result["reconstruction_loss"] != pytest.approx(float(vae.reconstruction_error(x, reduction="sum").mean()),
                                                          rel=1e-3)
    np.testing.assert_allclose(vae.reconstruction_error(x, y), expected / 6, rtol=1e-6)


def _sigmoid_decoder():
    return keras.Sequential([keras.layers.Dense(6, activation="sigmoid")], name="decoder")


@pytest.mark.parametrize("loss, decoder", [
    (keras.losses.MeanSquaredError(), None),
    (keras.losses.BinaryCrossentropy(label_smoothing=0.1), None),
    (tfae.losses.SigmoidCrossEntropy(), _sigmoid_decoder),
    (tfae.losses.SigmoidCrossEntropy(feature_reduction="sum"), _sigmoid_decoder),
], ids=["mse-object", "bce-object-smoothed", "sigmoid-ce-of-probabilities", "summed-sigmoid-ce-of-probabilities"])
def test_reconstruction_error_applies_a_compiled_loss_object_per_example_as_evaluate_does(loss, decoder):
    # A Loss object (not only a loss's name) and tfae's cross-entropy on a decoder of probabilities: each
    # example's mean over its elements, as evaluate gives for it alone (for the summed loss: its sum).
    decoder = tfae.Decoder((6,)) if decoder is None else decoder()
    ae = tfae.AutoEncoder(tfae.Encoder(2), decoder, input_shape=(6,))
    ae.compile(loss=loss, metrics=[])
    reduction = "sum" if getattr(loss, "feature_reduction", "mean") == "sum" else "mean"
    errors = ae.reconstruction_error(_FLAT[:4], reduction=reduction)
    one_by_one = [ae.evaluate(_FLAT[i:i + 1], verbose=0) for i in range(4)]
    np.testing.assert_allclose(errors, one_by_one, rtol=1e-5)


def test_vae_samples_codes_of_arrays_as_mean_plus_sigma_times_numpys_seeded_normal_noise():
    # The documented draw for arrays: numpy's generator seeded with `seed`, scaled by exp(log_var / 2).
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    mean, log_var = vae.encode_distribution(_FLAT[:8])
    noise = np.random.default_rng(5).standard_normal((8, 2)).astype(np.float32)
    np.testing.assert_allclose(vae.encode(_FLAT[:8], sample=True, seed=5), mean + np.exp(0.5 * log_var) * noise,
                               rtol=1e-6)


def test_an_adversarial_autoencoders_evaluation_reads_its_encoders_codes_in_inference_mode():
    # evaluate() gets no codes from `call` and encodes x itself: with the encoder's dropout off, as Keras
    # evaluates. The generator's loss reads only those codes (the discriminator's also reads fresh prior
    # draws), so two evaluations of the same weights give the same generator loss.
    aae = tfae.AdversarialAutoEncoder(tfae.Encoder(2, hidden_units=(16,), dropout=0.5), tfae.Decoder((6,)),
                                      input_shape=(6,), seed=0)
    aae.compile()
    first, second = (aae.evaluate(_FLAT, batch_size=8, verbose=0, return_dict=True) for _ in range(2))
    assert first["generator_loss"] == second["generator_loss"]
    assert first["reconstruction_loss"] == second["reconstruction_loss"]


def test_an_anomaly_detectors_labels_are_integers():
    # scikit-learn's detectors label with integers (0 normal, 1 anomaly), not floats.
    labels = _fitted_detector().predict(_FLAT)
    assert labels.dtype == np.int64 and set(np.unique(labels)) <= {0, 1}


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_an_autoencoders_output_activation_reaches_its_decoder_tied_or_not(tied):
    # output_activation=None: unbounded reconstructions, whose sigmoid is the default model's with the same
    # weights.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, tied=tied, output_activation=None)
    with_sigmoid = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, tied=tied)
    with_sigmoid.set_weights(ae.get_weights())
    assert ae.decoder.output_activation is None
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.sigmoid(ae.reconstruct(_FLAT))),
                               with_sigmoid.reconstruct(_FLAT), rtol=1e-6)


# ---- Blind spots an eighth untouched mutation sample of tfae.models (mutants numbered ...6) found.

def test_interpolate_names_x_b_exactly_when_it_refuses_it():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    with pytest.raises(ValueError, match=r"^Expected `x_b` to be an array of numbers\. Received: x_b with dtype=<U5$"):
        ae.interpolate(_FLAT[0], "seven", 3)


def test_a_variational_encode_hands_its_batch_size_on_and_refuses_a_bad_one():
    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2)
    for sample in (False, True):
        with pytest.raises(ValueError, match=r"Received: batch_size=0"):
            vae.encode(_FLAT, batch_size=0, sample=sample)


def test_anomaly_predict_labels_the_training_data_as_fit_did_a_score_equal_to_the_threshold_included():
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2), contamination=0.25)
    detector.fit(_FLAT[:21], epochs=0)
    assert detector.threshold_ in detector.decision_scores_
    np.testing.assert_array_equal(detector.predict(_FLAT[:21]), detector.labels_)
    assert detector.predict(_FLAT[:21]).sum() == 5


@pytest.mark.parametrize("model, reduction", [
    (lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, dtype="mixed_float16"), "mean"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2, dtype="mixed_float16"), _sigmoid_decoder(), input_shape=(6,),
                              dtype="mixed_float16"), "mean"),
    (lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, dtype="mixed_float16"), "sum"),
], ids=["fused-logits", "probabilities", "vae-summed"])
def test_reconstruction_error_under_mixed_precision_is_the_float32_loss_evaluate_computes(model, reduction):
    # Keras computes the loss in float32 (its own dtype) from the float16 outputs; a float16 error would
    # round a VAE's summed error by up to half a nat and tie an anomaly detector's scores.
    model = model()
    model.compile(**({} if reduction == "sum" else {"loss": tfae.losses.SigmoidCrossEntropy()}), metrics=[])
    errors = model.reconstruction_error(_FLAT[:4], reduction=reduction)
    assert errors.dtype == np.float32
    one_by_one = [model.evaluate(_FLAT[i:i + 1], verbose=0, return_dict=True) for i in range(4)]
    key = "reconstruction_loss" if reduction == "sum" else "loss"
    np.testing.assert_allclose(errors, [logs[key] for logs in one_by_one], rtol=1e-6)


def test_reconstruction_error_of_a_model_compiled_without_a_loss_says_it_needs_one():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(loss=None)
    with pytest.raises(ValueError, match=r"^Expected a model compiled with a loss: .*Received: a model compiled with "
                                         r"loss=None$"):
        ae.reconstruction_error(_FLAT)


def test_anomaly_detector_save_through_a_folder_yet_to_be_made_refuses_the_file_it_leads_to(tmp_path):
    # `sub/../notes.txt` is `notes.txt` once `sub` exists: checked there, the user's file stays as it was.
    (tmp_path / "notes.txt").write_text("precious")
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2)).fit(_FLAT, epochs=0)
    given = tmp_path / "sub" / ".." / "notes.txt"
    with pytest.raises(ValueError) as caught:
        detector.save(given)
    assert str(caught.value) == ("Expected `path` to be a new folder or one this would replace. Received: "
                                 f"path={str(given)!r}, which holds other files")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "precious"
    detector.save(tmp_path / "new" / ".." / "det")  # a new folder the same way
    assert tfae.AnomalyDetector.load(tmp_path / "det").threshold_ == detector.threshold_


@pytest.mark.parametrize("dtype", [None, "mixed_float16"])
def test_the_sparsity_penalty_is_keras_l1_activity_regularizer_of_the_code_in_the_losss_dtype(dtype):
    # Keras' activity regularizer: l1 * sum(|code|) / batch, computed in Keras' loss dtype (float32 under mixed
    # precision, where the code is float16: a float16 penalty cannot be added to the compiled loss).
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, sparsity=0.01, dtype=dtype)
    ae(_FLAT[:5], training=True)
    (penalty,) = ae.losses
    code = keras.ops.cast(ae.encoder(_FLAT[:5]), "float32")
    loss = keras.regularizers.L1(0.01)(code)
    expected = keras.ops.divide_no_nan(loss, keras.ops.cast(5, loss.dtype))
    assert keras.backend.standardize_dtype(penalty.dtype) == "float32"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(penalty), keras.ops.convert_to_numpy(expected))


@pytest.mark.parametrize("model", ["autoencoder", "adversarial"])
def test_a_sparse_model_trains_and_evaluates_under_mixed_precision(model):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        cls = tfae.AutoEncoder if model == "autoencoder" else tfae.AdversarialAutoEncoder
        ae = cls(input_shape=(6,), latent_dim=2, sparsity=0.01)
        ae.compile()
        history = ae.fit(_FLAT, epochs=2, batch_size=8, verbose=0)
        assert np.isfinite(history.history["loss"]).all() and np.isfinite(ae.evaluate(_FLAT, verbose=0)).all()
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("loss", ["mse", keras.losses.MeanAbsoluteError(), lambda y, p: keras.ops.abs(y - p)],
                         ids=["name", "object", "function"])
def test_reconstruction_error_of_any_loss_is_in_the_losss_dtype(loss):
    # float32 targets and reconstructions reach the loss, whatever numpy would promote them to.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile(loss=loss)
    assert ae.reconstruction_error(_FLAT[:4]).dtype == np.float32


def test_an_image_model_refuses_a_dataset_of_single_images_asking_for_batches():
    import tensorflow as tf

    ae = tfae.AutoEncoder(input_shape=(2, 3), latent_dim=2)  # a single sample has two axes, as a batch does
    for method in (ae.encode, ae.reconstruct, ae.reconstruction_error):
        with pytest.raises(ValueError, match=r"\. Received: x yielding an element of shape \(2, 3\)$"):
            method(tf.data.Dataset.from_tensor_slices(_FLAT.reshape(-1, 2, 3)))


# ---- Blind spots a ninth untouched mutation sample of tfae.models (mutants numbered ...8) found.


def test_building_with_another_sample_shape_is_refused_with_the_whole_message():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    with pytest.raises(ValueError) as caught:
        ae.build((None, 7))
    assert str(caught.value) == "Expected inputs of shape (batch_size, *(6,)). Received: input_shape=(None, 7)"


def test_the_config_of_a_model_not_built_yet_has_no_input_shape_and_round_trips():
    ae = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((6,)))
    config = ae.get_config()
    assert config["input_shape"] is None and config["latent_dim"] is None
    same = tfae.AutoEncoder.from_config(config)
    assert not same.built and same.get_config() == config


def test_a_gans_loss_is_the_sum_of_its_players_losses():
    gan = _gan(seed=0)
    gan.compile()
    result = gan.evaluate(_FLAT, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(result["discriminator_loss"] + result["generator_loss"], rel=1e-6)
    assert result["generator_loss"] > 0 and result["discriminator_loss"] > 0  # a difference would not match


def test_a_gans_loss_is_the_sum_of_its_players_losses_with_a_short_last_batch():
    # 24 samples in batches of 10: 10, 10, 4. Keras weighs each batch's loss by its size; so must each player's.
    gan = _gan(seed=0)
    gan.compile()
    result = gan.evaluate(_FLAT, batch_size=10, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(result["discriminator_loss"] + result["generator_loss"], rel=1e-6)


def test_a_gan_draws_one_code_per_real_sample():
    outputs = _gan(seed=0)(_FLAT[:5])  # 5 samples of 6 features: the batch axis, not the feature axis
    assert {key: tuple(value.shape) for key, value in outputs.items()} == {
        "real": (5, 1), "fake": (5, 1), "fooled": (5, 1)}


def test_an_adversarial_autoencoders_default_discriminator_is_a_relu_network():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, discriminator_units=(4,))
    assert aae.discriminator.activation == "relu" and aae.discriminator.hidden_units == (4,)


def test_an_anomaly_detectors_labels_are_integers_and_its_probabilities_stay_in_the_unit_interval():
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2)).fit(_FLAT)
    assert detector.labels_.dtype == np.int64 and detector.predict(_FLAT).dtype == np.int64
    detector.decision_scores_ = detector.decision_scores_ + 100.0  # every new score is below the training ones
    np.testing.assert_array_equal(detector.predict_proba(_FLAT)[:, 1], np.zeros(len(_FLAT)))


def test_anomaly_detector_set_params_replaces_the_autoencoder():
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2))
    other = tfae.AutoEncoder(input_shape=(6,), latent_dim=3)
    assert detector.set_params(autoencoder=other, contamination=0.2) is detector
    assert detector.get_params() == {"autoencoder": other, "contamination": 0.2}


def test_a_vaes_log_variance_is_clipped_to_its_range():
    from tfae.models.variational import LOG_VAR_RANGE

    vae = tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2, seed=0)
    moments = vae.encoder.bottleneck
    for bias in (1e3, -1e3):
        moments.bias.assign(np.r_[np.zeros(2), np.full(2, bias)].astype(np.float32))
        _, log_var = vae.encode_distribution(_FLAT)
        np.testing.assert_array_equal(log_var, np.full((len(_FLAT), 2), LOG_VAR_RANGE[bias > 0], np.float32))


def test_an_adversarial_autoencoder_reconstructs_towards_its_targets():
    aae = tfae.AdversarialAutoEncoder(input_shape=(6,), latent_dim=2, adversarial_weight=0.0, seed=0)
    aae.compile()
    targets = 1.0 - _FLAT
    with_targets = aae.evaluate(_FLAT, targets, verbose=0, return_dict=True)["reconstruction_loss"]
    against_inputs = aae.evaluate(_FLAT, verbose=0, return_dict=True)["reconstruction_loss"]
    summed = aae.reconstruction_error(_FLAT, targets, reduction="sum")  # the AAE sums each example's nats
    assert with_targets == pytest.approx(float(summed.mean()), rel=1e-5)
    assert with_targets != pytest.approx(against_inputs, rel=1e-3)


@pytest.mark.parametrize("scores, reason", [
    (np.zeros((3, 2), np.float32), "expected a 1-D float array of the training scores, got shape (3, 2) and dtype float32"),
    (np.zeros(0, np.float32), "expected a 1-D float array of the training scores, got shape (0,) and dtype float32"),
    (np.arange(3), "expected a 1-D float array of the training scores, got shape (3,) and dtype int64"),
])
def test_anomaly_detector_load_refuses_scores_that_save_never_writes(tmp_path, scores, reason):
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2)).fit(_FLAT, epochs=1, verbose=0)
    detector.save(tmp_path / "det")
    np.save(tmp_path / "det" / "decision_scores.npy", scores)
    with pytest.raises(ValueError) as caught:
        tfae.AnomalyDetector.load(tmp_path / "det")
    assert str(caught.value) == ("Expected a folder written by AnomalyDetector.save. "
                                 f"Received: path={str(tmp_path / 'det')!r} (decision_scores.npy: {reason})")


def test_anomaly_detector_load_gives_back_float32_scores_and_the_same_labels(tmp_path):
    detector = tfae.AnomalyDetector(tfae.AutoEncoder(input_shape=(6,), latent_dim=2)).fit(_FLAT, epochs=1, verbose=0)
    detector.save(tmp_path / "det")
    loaded = tfae.AnomalyDetector.load(tmp_path / "det")
    assert loaded.decision_scores_.dtype == np.float32 and loaded.labels_.dtype == np.int64
    np.testing.assert_array_equal(loaded.decision_scores_, detector.decision_scores_)
    np.testing.assert_array_equal(loaded.labels_, detector.labels_)
