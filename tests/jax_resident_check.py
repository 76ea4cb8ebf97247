"""`AutoEncoder.fit` on arrays, JAX backend: the resident path against Keras' own loop.

Run in a subprocess with KERAS_BACKEND=jax by tests/test_backends.py; prints OK at the end.
"""

import keras
import numpy as np

import tfae
from tfae import _backend

assert keras.backend.backend() == "jax"
x = tfae.datasets.load_mnist_sample()[0][0][:256]


def tiny_model(**compile_kwargs):
    keras.utils.set_random_seed(0)
    model = tfae.AutoEncoder(tfae.Encoder(8, hidden_units=(16,)), tfae.Decoder(784), input_shape=(784,))
    model.compile(**compile_kwargs)
    return model


class CountBatches(keras.callbacks.Callback):
    def __init__(self, stop_after=None):
        super().__init__()
        self.ends, self.stop_after = [], stop_after

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(batch)
        if self.stop_after is not None and len(self.ends) >= self.stop_after:
            self.model.stop_training = True


# Same steps, losses, validation metrics and weights as Keras' own loop over the same batches.
for samples, batch_size, per_execution in [(192, 32, 3), (200, 32, 4), (229, 32, 7), (100, 128, 64)]:
    ours, theirs = tiny_model(steps_per_execution=per_execution), tiny_model(steps_per_execution=per_execution)
    assert _backend.resident_training_kind(ours) is _backend.JaxResidentTraining
    counter = CountBatches()
    kwargs = dict(epochs=2, batch_size=batch_size, shuffle=False, validation_data=(x[:40], x[:40]), verbose=0)
    got = ours.fit(x[:samples], callbacks=[counter], **kwargs).history
    expected = keras.Model.fit(theirs, x[:samples], x[:samples], **kwargs).history
    assert got.keys() == expected.keys(), (got, expected)
    for key in got:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    steps = -(-samples // batch_size)
    assert int(ours.optimizer.iterations) == 2 * steps
    assert len(counter.ends) == 2 * -(-steps // per_execution), counter.ends  # once per execution
    assert ours.train_function is None and ours._resident_training._arrays == ()

# Every epoch is a new permutation of all samples; the same seed gives the same model.
first, second = tiny_model(), tiny_model()
for model in (first, second):
    keras.utils.set_random_seed(1)
    model.fit(x, epochs=2, batch_size=32, verbose=0)
for a, b in zip(first.get_weights(), second.get_weights()):
    np.testing.assert_array_equal(a, b)
np.random.seed(3)
feed, _ = _backend.JaxResidentTraining(tiny_model(steps_per_execution=2)).dataset(
    x[:10], None, batch_size=4, shuffle=True)
epochs = [np.concatenate([np.concatenate([b.ravel(), last]) for b, last in (next(feed), next(feed))])
          for _ in range(2)]
assert all(sorted(e) == list(range(10)) for e in epochs) and not np.array_equal(*epochs), epochs

# A callback can stop training; train_on_batch and dataset-free fits still work afterwards.
model = tiny_model(steps_per_execution=2)
counter = CountBatches(stop_after=3)
model.fit(x, epochs=5, batch_size=16, callbacks=[counter], verbose=0)
assert len(counter.ends) == 3 and int(model.optimizer.iterations) == 6
logs = model.train_on_batch(x[:16], x[:16], return_dict=True)
assert np.isfinite(logs["loss"])

# Denoising pairs take the resident path with their own targets.
noisy = np.clip(x + np.random.default_rng(0).normal(0, 0.2, x.shape), 0, 1).astype("float32")
ours, theirs = tiny_model(), tiny_model()
got = ours.fit(noisy, x, epochs=1, batch_size=32, shuffle=False, verbose=0).history["loss"]
expected = keras.Model.fit(theirs, noisy, x, epochs=1, batch_size=32, shuffle=False, verbose=0).history["loss"]
np.testing.assert_allclose(got, expected, rtol=1e-5)

print("OK jax resident")
