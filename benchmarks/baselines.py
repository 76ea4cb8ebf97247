"""Hand-written baselines the benchmarks compare tfae against: plain Keras, PyTorch, and a whole
epoch compiled as one JAX program (the practical speed limit of this model on a machine).

All are the article's Keras model, 784-256-128-784 (a relu hidden layer, a linear 128-unit code named
`bottleneck`, a sigmoid output), trained with Adam(1e-3) on the per-pixel mean sigmoid cross-entropy;
`hidden=` and `latent=` change the two widths (the scaling curves, `benchmarks/scaling.py`).
"""

from __future__ import annotations

import numpy as np

LAYERS = (784, 256, 128, 784)


def keras_sequential(*, hidden: int = 256, latent: int = 128, steps_per_execution: int = 1):
    import keras

    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(latent, name="bottleneck"),
            keras.layers.Dense(784, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["mse"], steps_per_execution=steps_per_execution)
    return model


class TorchAutoEncoder:
    """PyTorch eager: the usual loop of a hand-written PyTorch autoencoder, written well.

    On a GPU the data set is moved to the device once (and kept while the same
    array comes back), and the epoch's loss is summed on the device, so no step
    waits for the host.
    """

    def __init__(self, seed: int = 0, *, hidden: int = 256, latent: int = 128):
        import torch

        torch.manual_seed(seed)
        self.torch = torch
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        nn = torch.nn
        self.encoder = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, latent)).to(self.device)
        self.decoder = nn.Sequential(nn.Linear(latent, 784)).to(self.device)
        self.model = nn.Sequential(self.encoder, self.decoder)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = nn.BCEWithLogitsLoss()
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self._resident: tuple[np.ndarray, object] | None = None

    def _on_device(self, x: np.ndarray):
        if self._resident is None or self._resident[0] is not x:
            self._resident = (x, self.torch.from_numpy(x).to(self.device))
        return self._resident[1]

    def fit_epoch(self, x: np.ndarray, batch_size: int) -> float:
        torch = self.torch
        data = self._on_device(x)
        order = torch.randperm(len(data), generator=self.generator, device=self.device)
        total = torch.zeros((), device=self.device)
        self.model.train()
        for start in range(0, len(data), batch_size):
            batch = data[order[start : start + batch_size]]
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(self.model(batch), batch)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * len(batch)
        return float(total) / len(data)

    def _batched(self, network, x: np.ndarray, batch_size: int, sigmoid: bool) -> np.ndarray:
        torch = self.torch
        self.model.eval()
        with torch.no_grad():
            data = torch.from_numpy(x).to(self.device)
            outputs = [network(data[i : i + batch_size]) for i in range(0, len(data), batch_size)]
            result = torch.cat(outputs)
            return (torch.sigmoid(result) if sigmoid else result).cpu().numpy()

    def reconstruct(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        return self._batched(self.model, x, batch_size, sigmoid=True)

    def encode(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        return self._batched(self.encoder, x, batch_size, sigmoid=False)

    def decode(self, z: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        return self._batched(self.decoder, z, batch_size, sigmoid=True)


class JaxWholeEpoch:
    """One epoch = one compiled JAX program (`lax.scan` over batches, data on the device).

    No framework overhead at all: the practical limit for this model on the machine.
    """

    def __init__(self, seed: int = 0):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        key = jax.random.PRNGKey(seed)
        params = []
        for fan_in, fan_out in zip(LAYERS, LAYERS[1:]):
            key, sub = jax.random.split(key)
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            params.append((jax.random.uniform(sub, (fan_in, fan_out), minval=-limit, maxval=limit), jnp.zeros(fan_out)))
        self.params = params
        self.state = (jax.tree_util.tree_map(jnp.zeros_like, params), jax.tree_util.tree_map(jnp.zeros_like, params),
                      jnp.zeros(()))
        self.key = key
        self._epochs = {}

    def _logits(self, params, x):
        jnp = self.jnp
        for index, (w, b) in enumerate(params):
            x = x @ w + b
            if index == 0:
                x = jnp.maximum(x, 0)
        return x

    def _make_epoch(self, batch_size: int, steps: int):
        jax, jnp = self.jax, self.jnp

        def loss_fn(params, batch):
            logits = self._logits(params, batch)
            return jnp.mean(jax.nn.softplus(logits) - batch * logits)

        def step(carry, batch):
            params, (m, v, t) = carry
            loss, grads = jax.value_and_grad(loss_fn)(params, batch)
            t = t + 1
            m = jax.tree_util.tree_map(lambda a, g: 0.9 * a + 0.1 * g, m, grads)
            v = jax.tree_util.tree_map(lambda a, g: 0.999 * a + 0.001 * g * g, v, grads)
            lr = 1e-3 * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            params = jax.tree_util.tree_map(lambda p, a, b: p - lr * a / (jnp.sqrt(b) + 1e-7), params, m, v)
            return (params, (m, v, t)), loss

        @jax.jit
        def epoch(params, state, data, key):
            order = jax.random.permutation(key, data.shape[0])[: steps * batch_size]
            batches = data[order].reshape(steps, batch_size, -1)
            (params, state), losses = jax.lax.scan(step, (params, state), batches)
            return params, state, losses.mean()

        return epoch

    def fit_epoch(self, x, batch_size: int) -> float:
        steps = len(x) // batch_size
        if (batch_size, steps) not in self._epochs:
            self._epochs[(batch_size, steps)] = self._make_epoch(batch_size, steps)
        if not hasattr(self, "_data") or self._data.shape[0] != len(x):
            self._data = self.jnp.asarray(x)
        self.key, sub = self.jax.random.split(self.key)
        self.params, self.state, loss = self._epochs[(batch_size, steps)](self.params, self.state, self._data, sub)
        return float(loss)

    def reconstruct(self, x):
        return np.asarray(self.jax.nn.sigmoid(self._logits(self.params, self.jnp.asarray(x))))


def tfae_autoencoder(*, hidden: int = 256, latent: int = 128, steps_per_execution: int = 1,
                     jit_compile: bool | str = "auto"):
    import tfae

    model = tfae.AutoEncoder(tfae.Encoder(latent, hidden_units=(hidden,)), tfae.Decoder(784), input_shape=(784,))
    model.compile(steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    return model
