"""`Corruption`: the input noise of a denoising autoencoder, applied in training only."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from tfae import _validation

NOISES = ("gaussian", "masking")


def check_noise(noise: Any, noise_level: Any) -> tuple[str | None, float]:
    """`(noise, noise_level)` checked: a name from `NOISES` or None, and a level in (0, 1)."""
    _validation.one_of(noise, "noise", (*NOISES, None))
    level = _validation.unit_interval(noise_level, "noise_level")
    if noise is not None and level == 0:
        raise ValueError(f"Expected `noise_level` in (0, 1) when `noise` is set. Received: noise_level={noise_level!r}")
    return noise, level


@keras.saving.register_keras_serializable(package="tfae")
class Corruption(keras.layers.Layer):
    """Corrupts inputs in training, leaves them untouched otherwise.

    `"gaussian"` adds `noise_level * N(0, 1)` to every element (Keras'
    `GaussianNoise`); `"masking"` sets each element to 0 with probability
    `noise_level`, without rescaling the others (unlike `Dropout`): the
    masking noise of denoising autoencoders. Draws come from the layer's own
    `keras.random.SeedGenerator`, so a seeded run is reproducible on every
    backend.

    Args:
        noise: `"gaussian"` or `"masking"`.
        noise_level: float in (0, 1): the standard deviation of the Gaussian
            noise, or the probability of masking an element.
        seed: int or None. Seed of the layer's random stream.
        **kwargs: base layer arguments (`name`, `dtype`).

    Input shape:
        Any. Output shape: the same.
    """

    def __init__(self, noise: str = "gaussian", noise_level: float = 0.3, *, seed: int | None = None,
                 **kwargs: Any) -> None:
        noise, noise_level = check_noise(noise, noise_level)
        if noise is None:
            raise ValueError(f"Expected `noise` to be one of {NOISES}. Received: noise=None")
        kwargs.setdefault("name", "corruption")
        super().__init__(**kwargs)
        self.noise = noise
        self.noise_level = noise_level
        self.seed = _validation.seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training:
            return inputs
        if self.noise == "gaussian":
            return inputs + self.noise_level * keras.random.normal(
                ops.shape(inputs), dtype=inputs.dtype, seed=self.seed_generator)
        keep = keras.random.uniform(ops.shape(inputs), dtype=inputs.dtype, seed=self.seed_generator)
        return ops.where(keep >= self.noise_level, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"noise": self.noise, "noise_level": self.noise_level, "seed": self.seed})
        return config
