"""Codes drawn from the N(0, I) prior, for the models that generate (`sample`, `generate`)."""

from __future__ import annotations

import numpy as np

from tfae import _validation


def prior_codes(n: int, latent_dim: int, seed: int | None) -> np.ndarray:
    """`(n, latent_dim)` float32 draws from N(0, I), from numpy's generator seeded with `seed`."""
    n = _validation.positive_int(n, "n")
    return np.random.default_rng(_validation.seed(seed)).standard_normal((n, latent_dim)).astype(np.float32)


class PriorSampling:
    """`sample(n)` for an autoencoder whose codes follow N(0, I): prior draws, decoded."""

    def sample(self, n: int, *, seed: int | None = None, batch_size: int | None = None) -> np.ndarray:
        """`n` new samples, `(n, *input_shape)`: codes drawn from N(0, I) (numpy's generator, `seed`), decoded."""
        self._require_built("sample")
        return self.decode(prior_codes(n, self.latent_dim, seed), batch_size=batch_size)
