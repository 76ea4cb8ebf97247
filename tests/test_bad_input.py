"""Every public constructor and function, driven with wrong values by hypothesis.

Each call either works or raises a `ValueError`/`TypeError` whose message names
the argument (Keras' "Expected ... Received: name=value"); nothing else may
escape (no backend trace, no KeyError, no crash). One argument is wrong at a
time; the others are valid.
"""

from __future__ import annotations

import functools
import re

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfae


def _generator():
    return (i for i in range(3))


SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5), st.integers(-3, 3), st.integers(2**31, 2**62),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.5, -0.5, 1.5, 1e30, 10**400]),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.lists(st.one_of(st.integers(-2, 4), st.none(), st.text(max_size=2)), max_size=3),
    st.builds(_generator), st.builds(object),
)


@st.composite
def arrays(draw, features=8):
    """Arrays that are wrong (or right) in rank, size, dtype, values or length."""
    kind = draw(st.sampled_from(["good", "rank1", "rank3", "width", "empty", "nan", "inf", "int", "float64",
                                 "huge", "strings", "object", "bool", "complex", "list", "scalar"]))
    rows = draw(st.integers(1, 5))
    good = np.random.default_rng(rows).random((rows, features), dtype=np.float32)
    if kind == "good":
        return good
    if kind == "rank1":
        return good[0]
    if kind == "rank3":
        return good[:, :, None]
    if kind == "width":
        return np.zeros((rows, features + draw(st.sampled_from([-3, 1, 5]))), np.float32)
    if kind == "empty":
        return np.zeros((0, features), np.float32)
    if kind in ("nan", "inf"):
        good[rows // 2, 1] = np.nan if kind == "nan" else -np.inf
        return good
    if kind == "int":
        return (good * 255).astype(np.int64)
    if kind == "float64":
        return good.astype(np.float64)
    if kind == "huge":
        return good * 1e30
    if kind == "strings":
        return good.astype(str)
    if kind == "object":
        return good.astype(object)
    if kind == "bool":
        return good > 0.5
    if kind == "complex":
        return good.astype(np.complex64)
    if kind == "list":
        return good.tolist()
    return 3.0


def values(features=8):
    return st.one_of(SCALARS, arrays(features))


@functools.cache
def models():
    """Small built models, shared by the examples (built once: hypothesis runs many examples)."""
    ae = tfae.AutoEncoder(input_shape=(8,), latent_dim=3, hidden_units=(4,))
    ae.compile()
    vae = tfae.VariationalAutoEncoder(input_shape=(8,), latent_dim=2, hidden_units=(4,))
    vae.compile()
    return {"ae": ae, "vae": vae}


X = np.random.default_rng(0).random((6, 8), dtype=np.float32)
X16 = np.random.default_rng(0).random((3, 16), dtype=np.float32)  # 4x4 images


def _fit_quietly(model, **kwargs):
    # One epoch at most: `epochs=2**62` is valid (Keras' EarlyStopping idiom) and must not run for ever here.
    stop = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", True))
    return model.fit(**{"x": X, "epochs": 1, "batch_size": 4, "verbose": 0, "callbacks": [stop], **kwargs})


# (id, argument name, the call with that argument set to `value`)
TARGETS = [
    ("Encoder.latent_dim", "latent_dim", lambda v: tfae.Encoder(v)),
    ("Encoder.hidden_units", "hidden_units", lambda v: tfae.Encoder(3, hidden_units=v)),
    ("Encoder.dropout", "dropout", lambda v: tfae.Encoder(3, dropout=v)),
    ("Encoder.activation", "activation", lambda v: tfae.Encoder(3, activation=v)),
    ("Decoder.output_shape", "output_shape", lambda v: tfae.Decoder(v)),
    ("Decoder.hidden_units", "hidden_units", lambda v: tfae.Decoder(8, hidden_units=v)),
    ("Decoder.output_activation", "output_activation", lambda v: tfae.Decoder(8, output_activation=v)),
    ("TiedDecoder.encoder", "encoder", lambda v: tfae.TiedDecoder(v, output_shape=8)),
    ("TiedDecoder.output_shape", "output_shape", lambda v: tfae.TiedDecoder(tfae.Encoder(3), output_shape=v)),
    ("ConvEncoder.latent_dim", "latent_dim", lambda v: tfae.ConvEncoder(v)),
    ("ConvEncoder.filters", "filters", lambda v: tfae.ConvEncoder(3, filters=v)),
    ("ConvEncoder.kernel_size", "kernel_size", lambda v: tfae.ConvEncoder(3, kernel_size=v)),
    ("ConvEncoder.strides", "strides", lambda v: tfae.ConvEncoder(3, strides=v)),
    ("ConvDecoder.output_shape", "output_shape", lambda v: tfae.ConvDecoder(v)),
    ("ConvDecoder.filters", "filters", lambda v: tfae.ConvDecoder((8, 8, 1), filters=v)),
    ("AutoEncoder.input_shape", "input_shape", lambda v: tfae.AutoEncoder(input_shape=v, latent_dim=3)),
    ("AutoEncoder.latent_dim", "latent_dim", lambda v: tfae.AutoEncoder(input_shape=(8,), latent_dim=v)),
    ("AutoEncoder.hidden_units", "hidden_units",
     lambda v: tfae.AutoEncoder(input_shape=(8,), latent_dim=3, hidden_units=v)),
    ("AutoEncoder.dropout", "dropout", lambda v: tfae.AutoEncoder(input_shape=(8,), latent_dim=3, dropout=v)),
    ("AutoEncoder.noise", "noise", lambda v: tfae.AutoEncoder(input_shape=(8,), latent_dim=3, noise=v)),
    ("AutoEncoder.noise_level", "noise_level",
     lambda v: tfae.AutoEncoder(input_shape=(8,), latent_dim=3, noise="gaussian", noise_level=v)),
    ("AutoEncoder.sparsity", "sparsity", lambda v: tfae.AutoEncoder(input_shape=(8,), latent_dim=3, sparsity=v)),
    ("AutoEncoder.tied", "tied", lambda v: tfae.AutoEncoder(input_shape=(8,), latent_dim=3, tied=v)),
    ("AutoEncoder.encoder", "encoder", lambda v: tfae.AutoEncoder(v, tfae.Decoder(8), input_shape=(8,))),
    ("AutoEncoder.decoder", "decoder", lambda v: tfae.AutoEncoder(tfae.Encoder(3), v, input_shape=(8,))),
    ("VariationalAutoEncoder.beta", "beta",
     lambda v: tfae.VariationalAutoEncoder(input_shape=(8,), latent_dim=2, beta=v)),
    ("VariationalAutoEncoder.seed", "seed",
     lambda v: tfae.VariationalAutoEncoder(input_shape=(8,), latent_dim=2, seed=v)),
    ("Corruption.seed", "seed", lambda v: tfae.layers.Corruption(seed=v)),
    ("AdversarialAutoEncoder.seed", "seed", lambda v: tfae.AdversarialAutoEncoder(input_shape=(8,), latent_dim=2, seed=v)),
    ("GAN.seed", "seed", lambda v: tfae.GAN(tfae.Decoder(8), keras.layers.Dense(1), latent_dim=3, seed=v)),
    ("AdversarialAutoEncoder.adversarial_weight", "adversarial_weight",
     lambda v: tfae.AdversarialAutoEncoder(input_shape=(8,), latent_dim=2, adversarial_weight=v)),
    ("AdversarialAutoEncoder.discriminator_units", "discriminator_units",
     lambda v: tfae.AdversarialAutoEncoder(input_shape=(8,), latent_dim=2, discriminator_units=v)),
    ("GAN.latent_dim", "latent_dim",
     lambda v: tfae.GAN(tfae.Decoder(8), keras.layers.Dense(1), latent_dim=v)),
    ("GAN.generator", "generator", lambda v: tfae.GAN(v, keras.layers.Dense(1), latent_dim=3)),
    ("AnomalyDetector.contamination", "contamination",
     lambda v: tfae.AnomalyDetector(models()["ae"], contamination=v)),
    ("AnomalyDetector.autoencoder", "autoencoder", lambda v: tfae.AnomalyDetector(v)),
    ("SigmoidCrossEntropy.reduction", "reduction", lambda v: tfae.SigmoidCrossEntropy(reduction=v)),
    ("SigmoidCrossEntropy.feature_reduction", "feature_reduction",
     lambda v: tfae.SigmoidCrossEntropy(feature_reduction=v)),
    ("encode.x", "x", lambda v: models()["ae"].encode(v)),
    ("encode.batch_size", "batch_size", lambda v: models()["ae"].encode(X, batch_size=v)),
    ("decode.z", "z", lambda v: models()["ae"].decode(v)),
    ("reconstruct.x", "x", lambda v: models()["ae"].reconstruct(v)),
    ("interpolate.x_a", "x_a", lambda v: models()["ae"].interpolate(v, X[:1])),
    ("interpolate.steps", "steps", lambda v: models()["ae"].interpolate(X[:1], X[1:2], v)),
    ("reconstruction_error.x", "x", lambda v: models()["ae"].reconstruction_error(v)),
    ("reconstruction_error.reduction", "reduction",
     lambda v: models()["ae"].reconstruction_error(X, reduction=v)),
    ("fit.x", "x", lambda v: _fit_quietly(models()["ae"], x=v)),
    ("fit.y", "y", lambda v: _fit_quietly(models()["ae"], y=v)),
    ("fit.batch_size", "batch_size", lambda v: _fit_quietly(models()["ae"], batch_size=v)),
    ("fit.epochs", "epochs", lambda v: _fit_quietly(models()["ae"], epochs=v)),
    ("fit.sample_weight", "sample_weight", lambda v: _fit_quietly(models()["ae"], sample_weight=v)),
    ("fit.validation_split", "validation_split", lambda v: _fit_quietly(models()["ae"], validation_split=v)),
    ("fit.validation_data", "validation_data", lambda v: _fit_quietly(models()["ae"], validation_data=v)),
    ("evaluate.x", "x", lambda v: models()["ae"].evaluate(v, verbose=0)),
    ("sample.n", "n", lambda v: models()["vae"].sample(v)),
    ("sample.seed", "seed", lambda v: models()["vae"].sample(2, seed=v)),
    ("VariationalAutoEncoder.encode.seed", "seed", lambda v: models()["vae"].encode(X, sample=True, seed=v)),
    ("encode_distribution.x", "x", lambda v: models()["vae"].encode_distribution(v)),
    ("split_autoencoder.model", "model", lambda v: tfae.split_autoencoder(v)),
    ("split_autoencoder.bottleneck", "bottleneck", lambda v: tfae.split_autoencoder(models()["ae"], v)),
    ("load_mnist.path", "path", lambda v: tfae.datasets.load_mnist(v, download=False)),
    ("read_idx.path", "path", lambda v: tfae.datasets.read_idx(v)),
    ("load_images.color_mode", "color_mode", lambda v: tfae.datasets.load_images(".", color_mode=v)),
    ("worker_share.global_batch_size", "global_batch_size",
     lambda v: tfae.distribute.worker_share(X, global_batch_size=v)),
    ("BackupAndRestore.save_freq", "save_freq", lambda v: tfae.callbacks.BackupAndRestore("b", save_freq=v)),
    ("BackupAndRestore.backup_dir", "backup_dir", lambda v: tfae.callbacks.BackupAndRestore(v)),
    ("ReconstructionImages.n", "n", lambda v: tfae.callbacks.ReconstructionImages(X16, log_dir="logs", n=v)),
    ("ReconstructionImages.freq", "freq",
     lambda v: tfae.callbacks.ReconstructionImages(X16, log_dir="logs", freq=v)),
    ("tile_images.images", "images", lambda v: tfae.plotting.tile_images(v)),
    ("tile_images.columns", "columns", lambda v: tfae.plotting.tile_images(X16, columns=v)),
    ("tile_images.scale", "scale", lambda v: tfae.plotting.tile_images(X16, scale=v)),
    ("reconstruction_grid.reconstructions", "reconstructions",
     lambda v: _close(tfae.plotting.reconstruction_grid(X16, v))),
    ("latent_scatter.codes", "codes", lambda v: _close(tfae.plotting.latent_scatter(v))),
    ("latent_scatter.labels", "labels", lambda v: _close(tfae.plotting.latent_scatter(X[:, :2], v))),
    ("AnomalyDetector.fit.x", "x", lambda v: tfae.AnomalyDetector(models()["ae"]).fit(v)),
    ("AnomalyDetector.decision_function.x", "x", lambda v: _detector().decision_function(v)),
    ("load_preset.preset", "preset", lambda v: tfae.presets.load_preset(v)),
    ("AutoEncoderHyperModel.input_shape", "input_shape", lambda v: tfae.tuning.AutoEncoderHyperModel(v)),
    ("AutoEncoderHyperModel.latent_dims", "latent_dims",
     lambda v: tfae.tuning.AutoEncoderHyperModel(8, latent_dims=v)),
    ("AutoEncoderHyperModel.max_dropout", "max_dropout",
     lambda v: tfae.tuning.AutoEncoderHyperModel(8, max_dropout=v)),
    ("evaluate.batch_size", "batch_size", lambda v: models()["ae"].evaluate(X, batch_size=v, verbose=0)),
    ("GraphAutoEncoder.latent_dim", "latent_dim", lambda v: tfae.GraphAutoEncoder(8, v).close()),
    ("GraphAutoEncoder.learning_rate", "learning_rate",
     lambda v: tfae.GraphAutoEncoder(8, 3, learning_rate=v).close()),
    ("GraphAutoEncoder.encode.x", "x", lambda v: _graph().encode(v)),
    ("GraphAutoEncoder.fit.batch_size", "batch_size", lambda v: _graph().fit(X, batch_size=v, verbose=0)),
    ("GraphAutoEncoder.fit.epochs", "epochs", lambda v: _graph().fit(X, epochs=v, verbose=0)),
]


def _close(figure):
    import matplotlib.pyplot as plt

    plt.close(figure)


@functools.cache
def _detector():
    return tfae.AnomalyDetector(models()["ae"]).fit(X)


@functools.cache
def _graph():
    return tfae.GraphAutoEncoder(8, 3, seed=0)


# Keras' own message for a data source it reads, clear about what it received; tfae leaves it to Keras.
KERAS_DATA_MESSAGES = ("When passing a Python generator to a Keras model",)


def check(call, name, value) -> None:
    try:
        call(value)
    except (ValueError, TypeError) as error:
        if str(error).startswith(KERAS_DATA_MESSAGES):
            return
        # `x`, x=..., x.shape, x['a'], "x with ...", "x of type ...": the argument itself, not any letter x.
        named = re.search(rf"`{re.escape(name)}`|\b{re.escape(name)}(=|\.|\[| with | of | has )", str(error))
        assert named, f"the error does not name `{name}`: {type(error).__name__}: {error}"
    except FileNotFoundError as error:  # a path that does not exist: named by the message
        assert name in ("path", "folder", "backup_dir") or "no such" in str(error), error
    except Exception as error:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{type(error).__name__} escaped for {name}={value!r}: {error}")


@pytest.mark.parametrize("target", TARGETS, ids=[t[0] for t in TARGETS])
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(value=values())
def test_any_value_is_accepted_or_refused_by_a_clear_error_naming_the_argument(target, value, tmp_path_factory, monkeypatch):
    _, name, call = target
    monkeypatch.chdir(tmp_path_factory.getbasetemp())
    check(call, name, value)


@pytest.mark.parametrize("target", [t for t in TARGETS if t[1] in ("sparsity", "beta", "adversarial_weight",
                                                                  "learning_rate", "noise_level")],
                         ids=lambda t: t[0])
def test_an_integer_beyond_floats_range_is_refused_by_name_not_by_overflow(target):
    # math.isfinite(10**400) raises OverflowError: a float argument must refuse the value, not crash on it.
    _, name, call = target
    with pytest.raises(ValueError, match=rf"Received: {name}=1000000"):
        call(10**400)


def test_the_check_catches_an_error_that_does_not_name_its_argument():
    def careless(value):
        raise ValueError("invalid literal")

    with pytest.raises(AssertionError, match="does not name"):
        check(careless, "latent_dim", 3)
    with pytest.raises(pytest.fail.Exception, match="KeyError escaped"):
        check(lambda value: {}[value], "latent_dim", 3)
