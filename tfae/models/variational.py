"""`VariationalAutoEncoder`: a VAE with the AutoEncoder contract, its KL term inside Keras' `compute_loss`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from tfae import _engine, _validation
from tfae.layers import Encoder
from tfae.models._prior import PriorSampling
from tfae.models._training import Handoff, track
from tfae.models.autoencoder import AutoEncoder

# The log-variance is clipped to this range: exp() of it can neither overflow nor vanish in float32.
LOG_VAR_RANGE = (-30.0, 20.0)


class _PerExample(keras.losses.Loss):
    """Hands back per-example values it is given, so Keras reduces them (sample weights, replicas)."""

    def call(self, y_true, y_pred):
        return y_pred


@keras.saving.register_keras_serializable(package="tfae")
class VariationalAutoEncoder(PriorSampling, AutoEncoder):
    """A variational autoencoder: codes are Gaussians, trained on the evidence lower bound.

    The encoder outputs `2 * latent_dim` values per sample, the mean and the
    log-variance of the code (log-variance clipped to `LOG_VAR_RANGE`, so
    training cannot overflow into NaN). In training the decoder sees a sample
    drawn with the reparameterisation trick (`keras.random` and the model's
    `SeedGenerator`); otherwise it sees the mean, so `reconstruct` and
    `evaluate` are deterministic. The loss is the reconstruction loss plus
    `beta` times the KL divergence from N(0, I), both per example, reduced by
    Keras (`sample_weight`, `loss_weights`, distribution strategies); `fit`
    and `evaluate` also report them as `reconstruction_loss` and `kl_loss`.
    `compile()` defaults to the sigmoid cross-entropy summed over each
    sample's pixels, so `loss` is the negative ELBO in nats (and each
    example's reconstruction term is `reconstruction_error(x, reduction="sum")`).

    >>> vae = tfae.VariationalAutoEncoder(input_shape=(784,), latent_dim=2, hidden_units=(256,))

    Args:
        encoder: a Keras layer mapping samples to `2 * latent_dim` values (mean,
            then log-variance), e.g. `tfae.ConvEncoder(2 * 16)`; or `None` to build
            a `tfae.Encoder` from `latent_dim` and `hidden_units`.
        decoder: a Keras layer mapping codes of `latent_dim` to samples, or
            `None` to build a `tfae.Decoder` mirroring the encoder.
        input_shape: shape of one sample. When given, the model is built at once.
        latent_dim: size of the code, when `encoder` is `None`.
        hidden_units, activation, output_activation, dropout, noise, noise_level: as for `tfae.AutoEncoder`.
        beta: float >= 0. Weight of the KL term (a beta-VAE when not 1).
            Defaults to 1.
        seed: int or None. Seed of the sampling noise.
        **kwargs: base model arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, *input_shape)`.

    Output shape:
        `(batch_size, *input_shape)`: the reconstruction.

    Example:

    ```python
    vae = tfae.VariationalAutoEncoder(input_shape=(784,), latent_dim=2, hidden_units=(64,), seed=0)
    vae.compile()
    vae.fit(x_train, epochs=1, batch_size=128, verbose=0)
    mean, log_var = vae.encode_distribution(x_test)       # (256, 2) each
    assert vae.sample(8, seed=0).shape == (8, 784)
    ```
    """

    _default_name = "variational_autoencoder"
    _sums_reconstruction = True  # `loss` is the negative ELBO in nats

    def __init__(
        self,
        encoder: keras.layers.Layer | None = None,
        decoder: keras.layers.Layer | None = None,
        *,
        input_shape: int | Sequence[int] | None = None,
        latent_dim: int | None = None,
        hidden_units: int | Sequence[int] = (),
        activation: Any = "relu",
        output_activation: Any = "sigmoid",
        dropout: float = 0.0,
        noise: str | None = None,
        noise_level: float = 0.3,
        beta: float = 1.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        beta = _validation.non_negative_float(beta, "beta")
        seed = _validation.seed(seed)
        super().__init__(encoder, decoder, input_shape=input_shape, latent_dim=latent_dim, hidden_units=hidden_units,
                         activation=activation, output_activation=output_activation, dropout=dropout,
                         noise=noise, noise_level=noise_level, **kwargs)
        # === Layers ===
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        self._kl_loss = _PerExample(name="kl_loss")
        # === Config ===
        self.beta = beta
        self.seed = seed
        object.__setattr__(self, "_kl", Handoff())  # the KL term, from `call` to `compute_loss`

    def _default_encoder(self, latent_dim: int, **kwargs: Any) -> keras.layers.Layer:
        return Encoder(2 * latent_dim, **kwargs)

    def _latent_code(self, encoder_output):
        size = encoder_output.shape[-1]
        if size % 2:
            raise ValueError(
                "Expected the encoder of a VariationalAutoEncoder to output 2 * latent_dim values per sample "
                f"(mean, then log-variance). Received: encoder output shape={tuple(encoder_output.shape)}"
            )
        return encoder_output[:, : size // 2]  # the mean

    @staticmethod
    def _moments(encoder_output):
        half = encoder_output.shape[-1] // 2
        return encoder_output[:, :half], ops.clip(encoder_output[:, half:], *LOG_VAR_RANGE)

    @staticmethod
    def _kl_divergence(mean, log_var):
        """KL(N(mean, exp(log_var)) || N(0, I)) per example, in nats."""
        return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)

    # -------------------------------------------------------------- forward pass
    def call(self, inputs, training=None, return_logits=False):
        mean, log_var = self._moments(self.encoder(self._corrupt(inputs, training), training=training))
        code = mean
        if training:
            noise = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
            code = mean + ops.exp(0.5 * log_var) * noise
        outputs = self._reconstruct(code, training, return_logits)
        if not return_logits:
            self._kl.leave(outputs, self._kl_divergence(mean, log_var))
        return outputs

    # ------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The reconstruction loss (`AutoEncoder.compute_loss`) plus `beta` times the mean KL divergence."""
        kl = self._kl.take(y_pred)
        if kl is None:  # an output of another call (Keras' symbolic build): the KL of the mean codes of x
            kl = self._kl_divergence(*self._moments(self.encoder(x, training=False)))
        reconstruction = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        kl_loss = self._kl_loss(kl, kl, sample_weight)
        batch = ops.shape(kl)[0]
        track(self.reconstruction_loss_tracker, reconstruction, batch)
        track(self.kl_loss_tracker, kl_loss, batch)
        return reconstruction + ops.cast(self.beta, kl_loss.dtype) * kl_loss

    # ------------------------------------------------------------ encode/decode
    def encode_distribution(self, x: Any, *, batch_size: int | None = None):
        """The mean and log-variance of each sample's code.

        Args:
            x: samples, of the kinds `encode` takes.
            batch_size: as for `encode`.

        Returns:
            `(mean, log_var)`, each of shape `(n, latent_dim)`: numpy for array
            inputs, otherwise tensors of the same kind as `x`.
        """
        x = self._ensure_built(x)
        moments = _engine.infer(self, "moments", self.encoder, x, name="x", feature_shape=self.sample_shape,
                                batch_size=batch_size)
        if isinstance(moments, np.ndarray):
            half = moments.shape[-1] // 2
            return moments[:, :half].copy(), np.clip(moments[:, half:], *LOG_VAR_RANGE)
        return self._moments(moments)

    def encode(self, x: Any, *, sample: bool = False, seed: int | None = None, batch_size: int | None = None):
        """Maps samples to codes: the mean (deterministic), or a sample of each code's Gaussian.

        Args:
            x: samples, of the kinds `AutoEncoder.encode` takes.
            sample: draw `mean + exp(log_var / 2) * eps` instead of returning the mean.
            seed: with `sample=True` on arrays, the seed of numpy's generator
                (None: fresh entropy); on tensors, of `keras.random.normal`
                (None: the model's seed generator).
            batch_size: as for `AutoEncoder.encode`.

        Returns:
            Codes of shape `(n, latent_dim)`: numpy for array inputs, otherwise
            a tensor of the same kind as `x`.
        """
        seed = _validation.seed(seed)
        mean, log_var = self.encode_distribution(x, batch_size=batch_size)
        if not sample:
            return mean
        if isinstance(mean, np.ndarray):
            noise = np.random.default_rng(seed).standard_normal(mean.shape).astype(mean.dtype)
            return mean + np.exp(0.5 * log_var) * noise
        noise = keras.random.normal(ops.shape(mean), dtype=mean.dtype,
                                    seed=self.seed_generator if seed is None else seed)
        return mean + ops.exp(0.5 * log_var) * noise

    # ------------------------------------------------------------- serialization
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("latent_activation", "sparsity", "tied"):  # not a VAE's: its code is Gaussian, untied
            config.pop(key)
        config.update({"beta": self.beta, "seed": self.seed})
        return config
