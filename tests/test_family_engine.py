"""The engine gives every model of the family Keras' own results: its fast path against Keras' loop.

Each model is built twice from the same seeds; one copy trains through
`fit` as users call it, on arrays and on a `tf.data.Dataset` (the engine's
fast path on TensorFlow and JAX; datasets on TensorFlow), the
other with the engine stepped aside, i.e. Keras' own `fit`. History,
weights (seed states included) and optimizer steps must agree. Runs on JAX too
(`test_conformance.py` runs this module in its JAX child process).
"""

import keras
import numpy as np
import pytest

import tfae
from tfae._engine import training

FEATURES = 12
RTOL = 1e-5
# On CPU TensorFlow, Keras' own loop differs from itself run to run for the two-player models by up to
# ~3e-4 (relative, on the weights): float reductions whose order varies, amplified by the adversarial dynamics.
ADVERSARIAL_RTOL = 2e-3


def _dense(**kwargs):
    return tfae.AutoEncoder(input_shape=(FEATURES,), latent_dim=3, hidden_units=(8,), **kwargs)


def _discriminator(name):
    return keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)], name=name)


MODELS = {
    "denoising_gaussian": lambda: _dense(noise="gaussian", noise_level=0.2),
    "denoising_masking": lambda: _dense(noise="masking", noise_level=0.3),
    "sparse": lambda: _dense(sparsity=1e-2),
    "tied": lambda: _dense(tied=True),
    "dropout": lambda: _dense(dropout=0.2),
    "conv": lambda: tfae.AutoEncoder(tfae.ConvEncoder(3, filters=(4,)), tfae.ConvDecoder((4, 4, 1), filters=(4,)),
                                     input_shape=(4, 4, 1)),
    "variational": lambda: tfae.VariationalAutoEncoder(input_shape=(FEATURES,), latent_dim=2, hidden_units=(8,),
                                                       seed=3),
    "adversarial": lambda: tfae.AdversarialAutoEncoder(input_shape=(FEATURES,), latent_dim=2, hidden_units=(8,),
                                                       discriminator_units=(8,), seed=3),
    "gan": lambda: tfae.GAN(tfae.Decoder((FEATURES,), hidden_units=(8,)), _discriminator("critic"), latent_dim=3,
                            seed=3),
}


def _data(model):
    rng = np.random.default_rng(0)
    shape = model.sample_shape
    return (rng.uniform(size=(40, *shape)).astype("float32"), rng.uniform(0.5, 2.0, size=40).astype("float32"),
            rng.uniform(size=(16, *shape)).astype("float32"))


def _train(make, monkeypatch, *, fast, dataset=False):
    keras.utils.set_random_seed(7)
    model = make()
    model.compile()
    x, w, x_val = _data(model)
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(training, "_trainer", lambda model: None)
        if dataset:  # (x, x, w) batches: the targets hold the place before the weights
            import tensorflow as tf

            data = tf.data.Dataset.from_tensor_slices((x, x, w)).batch(8)
            history = model.fit(data, validation_data=tf.data.Dataset.from_tensor_slices((x_val, x_val)).batch(8),
                                epochs=2, verbose=0)
        else:
            history = model.fit(x, sample_weight=w, validation_data=x_val, epochs=2, batch_size=8, shuffle=False,
                                verbose=0)
        trainer = getattr(model, "_tfae_trainer", None)
        streamed = getattr(trainer, "_stream_program", None)  # TensorFlow's trainer only
        on_fast_path = trainer is not None and (not dataset or streamed is not None
                                                and streamed.experimental_get_tracing_count() > 0)
    return model, history.history, on_fast_path


FAST_BACKENDS = {False: ("tensorflow", "jax"), True: ("tensorflow",)}  # arrays, datasets


# Datasets are marked slow: the README's suite keeps the arrays, `python -m pytest -m slow` adds them.
@pytest.mark.parametrize("dataset", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["arrays", "dataset"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_fast_fit_of_family_model_matches_keras_own_fit(name, dataset, monkeypatch):
    rtol = ADVERSARIAL_RTOL if name in ("gan", "adversarial") and keras.backend.backend() == "tensorflow" else RTOL
    fast, fast_history, took_fast_path = _train(MODELS[name], monkeypatch, fast=True, dataset=dataset)
    keras_loop, keras_history, _ = _train(MODELS[name], monkeypatch, fast=False, dataset=dataset)
    if keras.backend.backend() in FAST_BACKENDS[dataset]:
        assert took_fast_path
    assert sorted(fast_history) == sorted(keras_history)
    for key in fast_history:
        np.testing.assert_allclose(fast_history[key], keras_history[key], rtol=rtol, err_msg=key)
    fast_state = [keras.ops.convert_to_numpy(v) for v in fast.variables]
    keras_state = [keras.ops.convert_to_numpy(v) for v in keras_loop.variables]
    assert len(fast_state) == len(keras_state)
    for a, b in zip(fast_state, keras_state):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol / 10)
    assert int(keras.ops.convert_to_numpy(fast.optimizer.iterations)) == 10
