"""Exercise tfae's Keras-side API on whatever backend KERAS_BACKEND names; prints OK at the end.

Run in a subprocess by tests/test_backends.py, because a process has one Keras backend.
"""

import tempfile
from pathlib import Path

import keras
import numpy as np

import tfae

backend = keras.backend.backend()
rng = np.random.default_rng(0)
x = (rng.random((96, 784)) > 0.7).astype("float32")

ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(16,), dropout=0.1)
ae.compile()
history = ae.fit(x, epochs=3, batch_size=32, validation_data=x[:32], verbose=0)
assert history.history["loss"][-1] < history.history["loss"][0], history.history

# batch_size is honoured: one optimizer step per batch.
steps_before = int(keras.ops.convert_to_numpy(ae.optimizer.iterations))
ae.fit(x, epochs=1, batch_size=48, verbose=0)
assert int(keras.ops.convert_to_numpy(ae.optimizer.iterations)) - steps_before == 2

z = ae.encode(x, batch_size=40)
assert isinstance(z, np.ndarray) and z.shape == (96, 8)
np.testing.assert_allclose(z, keras.ops.convert_to_numpy(ae.encoder(x)), atol=1e-5)
x_hat = ae.decode(z)
assert x_hat.shape == (96, 784) and 0 <= x_hat.min() and x_hat.max() <= 1
np.testing.assert_allclose(ae.reconstruct(x), x_hat, atol=1e-5)

# Backend tensors in, backend tensors out, differentiable.
tensor = keras.ops.convert_to_tensor(x[:4])
code = ae.encode(tensor)
assert keras.ops.is_tensor(code) and not isinstance(code, np.ndarray)
if backend == "jax":
    import jax

    grads = jax.grad(lambda t: ae.decode(t).sum())(keras.ops.convert_to_tensor(z[:4]))
    assert float(abs(grads).sum()) > 0
elif backend == "torch":
    import torch

    codes = torch.tensor(z[:4], requires_grad=True)
    ae.decode(codes).sum().backward()
    assert float(codes.grad.abs().sum()) > 0

# Symbolic tensors compose into functional models.
inputs = keras.Input((784,))
assert tuple(ae.encode(inputs).shape) == (None, 8)

# The default loss is computed from logits on this backend too.
saturated = tfae.AutoEncoder(input_shape=(784,), latent_dim=4)
saturated.decoder.reconstruction.bias.assign(np.full(784, 40.0, "float32"))
saturated.compile()
loss = saturated.evaluate(np.zeros((8, 784), "float32"), verbose=0, return_dict=True)["loss"]
assert 35 < loss < 45, loss

# The largest seed tfae accepts is one this backend's seed state holds; the next is refused by tfae.
from tfae._validation import MAX_SEED  # noqa: E402

vae = tfae.VariationalAutoEncoder(input_shape=(784,), latent_dim=2, seed=MAX_SEED)
assert vae.sample(2, seed=MAX_SEED).shape == (2, 784)
assert keras.ops.convert_to_numpy(tfae.layers.Corruption(seed=MAX_SEED)(x[:2], training=True)).shape == (2, 784)
try:
    tfae.VariationalAutoEncoder(input_shape=(784,), latent_dim=2, seed=MAX_SEED + 1)
    raise AssertionError("a seed above MAX_SEED was accepted")
except ValueError as error:
    assert str(error).endswith(f"Received: seed={MAX_SEED + 1}"), error

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "ae.keras"
    ae.save(path)
    same = keras.models.load_model(path)
    assert type(same) is tfae.AutoEncoder
    np.testing.assert_allclose(same.reconstruct(x), ae.reconstruct(x), atol=1e-6)
    same.fit(x, epochs=1, verbose=0)

# The shipped presets load and reproduce their recorded losses on this backend.
_, (x_sample, _) = tfae.datasets.load_mnist_sample()
for name in tfae.list_presets():
    preset = tfae.AutoEncoder.from_preset(name)
    recorded = tfae.presets.metadata(name)
    measured = tfae.presets.measure(preset, x_sample, noise_level=recorded["noise_level"])
    for key, value in recorded["sample_test"].items():
        assert abs(measured[key] - value) <= 1e-3 * abs(value), (name, key, measured, recorded["sample_test"])

print("OK", backend)
