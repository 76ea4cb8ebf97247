"""`AdversarialAutoEncoder`: an autoencoder whose codes a discriminator pushes towards a Gaussian prior."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from tfae import _validation
from tfae.layers import Encoder
from tfae.models._adversarial import TwoPlayers, check_discriminator, discriminate
from tfae.models._config import deserialized, serialized
from tfae.models._prior import PriorSampling
from tfae.models._training import Handoff, track
from tfae.models.autoencoder import AutoEncoder


@keras.saving.register_keras_serializable(package="tfae")
class AdversarialAutoEncoder(TwoPlayers, PriorSampling, AutoEncoder):
    """An adversarial autoencoder (Makhzani et al., 2015): codes shaped into N(0, I) by a discriminator.

    Besides reconstructing its inputs, the encoder plays the generator of a
    GAN on the codes: a discriminator learns to tell codes drawn from the
    prior N(0, I) (label 1) from the encoder's codes (label 0), and the
    encoder learns to fool it. Both train in the same `fit` step
    (`tfae.models._adversarial`); `sample(n)` decodes codes drawn from the
    prior. The loss is the reconstruction loss plus `adversarial_weight`
    times the encoder's adversarial loss, plus the discriminator's loss
    (`compile()` defaults to the sigmoid cross-entropy summed over each
    sample's pixels, as for `tfae.VariationalAutoEncoder`);
    `fit` and `evaluate` report them as `reconstruction_loss`,
    `generator_loss` and `discriminator_loss`.

    >>> aae = tfae.AdversarialAutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(256,))

    Args:
        encoder, decoder: as for `tfae.AutoEncoder`.
        discriminator: a Keras layer mapping codes `(n, latent_dim)` to one
            logit each, `(n, 1)`; or `None` for a `tfae.Encoder` of one linear
            output with `discriminator_units` hidden ReLU units.
        discriminator_units: hidden units of the default discriminator.
            Defaults to `(64, 64)`.
        adversarial_weight: float >= 0. Weight of the encoder's adversarial
            loss against the reconstruction loss, which `compile()` sums over
            each sample's values (nats). Defaults to 20, which gives MNIST codes
            of about zero mean and unit spread (docs/family.md).
        seed: int or None. Seed of the prior samples drawn in training.
        **kwargs: every other `tfae.AutoEncoder` argument (`input_shape`,
            `latent_dim`, `hidden_units`, `noise`, ...) and the base model's.

    Input shape:
        `(batch_size, *input_shape)`.

    Output shape:
        `(batch_size, *input_shape)`: the reconstruction.

    Example:

    ```python
    aae = tfae.AdversarialAutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(64,), seed=0)
    aae.compile()
    aae.fit(x_train, epochs=1, batch_size=128, verbose=0)
    assert aae.sample(4, seed=0).shape == (4, 784)
    ```
    """

    _default_name = "adversarial_autoencoder"
    _sums_reconstruction = True  # the adversarial term is per sample: weigh it against a sample's nats

    def __init__(
        self,
        encoder: keras.layers.Layer | None = None,
        decoder: keras.layers.Layer | None = None,
        discriminator: keras.layers.Layer | None = None,
        *,
        discriminator_units: int | Sequence[int] = (64, 64),
        adversarial_weight: float = 20.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        discriminator = _validation.layer(discriminator, "discriminator", optional=True)
        discriminator_units = _validation.units_tuple(discriminator_units, "discriminator_units")
        adversarial_weight = _validation.non_negative_float(adversarial_weight, "adversarial_weight")
        seed = _validation.seed(seed)
        super().__init__(encoder, decoder, **kwargs)
        # === Layers ===
        self._owns_discriminator = discriminator is None
        if discriminator is None:
            discriminator = Encoder(1, hidden_units=discriminator_units, activation="relu",
                                    dtype=self.dtype_policy, name="discriminator")
        self.discriminator = discriminator
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self._init_players()
        # === Config ===
        self.discriminator_units = discriminator_units
        self.adversarial_weight = adversarial_weight
        self.seed = seed
        object.__setattr__(self, "_adversarial", Handoff())  # the discriminator's logits, to `compute_loss`

    def build(self, input_shape) -> None:
        super().build(input_shape)
        check_discriminator(self.discriminator(keras.KerasTensor((None, self.latent_dim), dtype=self.compute_dtype)),
                            "code")

    def _sublayers(self) -> tuple[keras.layers.Layer, ...]:
        return (self.encoder, self.decoder, self.discriminator)

    def _discriminate(self, code, training):
        prior = keras.random.normal(ops.shape(code), dtype=code.dtype, seed=self.seed_generator)
        return discriminate(self.discriminator, prior, code, training=training)

    def call(self, inputs, training=None, return_logits=False):
        code = self.encoder(self._corrupt(inputs, training), training=training)
        self._penalize(code)
        outputs = self._reconstruct(code, training, return_logits)
        if training and not return_logits and not _validation.is_symbolic(code):
            self._adversarial.leave(outputs, self._discriminate(code, training))
        return outputs

    # ------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Reconstruction + `adversarial_weight` * the encoder's adversarial loss + the discriminator's loss."""
        logits = self._adversarial.take(y_pred)
        if logits is None:  # not a training call (evaluate), or Keras' symbolic build: the codes of x
            logits = self._discriminate(self.encoder(x, training=False), training=False)
        reconstruction = super().compute_loss(x, y, y_pred, sample_weight, training=training)
        track(self.reconstruction_loss_tracker, reconstruction, ops.shape(logits[0])[0])
        discriminator_loss, generator_loss = self._player_losses(*logits, fake_weight=sample_weight)
        weight = ops.cast(self.adversarial_weight, generator_loss.dtype)
        return reconstruction + weight * generator_loss + discriminator_loss

    # ------------------------------------------------------------- serialization
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "discriminator": serialized(self.discriminator, owned=self._owns_discriminator),
            "discriminator_units": list(self.discriminator_units),
            "adversarial_weight": self.adversarial_weight,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None):
        return super().from_config(deserialized(config, ("discriminator",), custom_objects), custom_objects)
