"""The two-player update shared by `GAN` and `AdversarialAutoEncoder`, as one loss for Keras' own `train_step`.

Both players train in the same step, from one loss and one optimizer
(simultaneous gradient descent): the discriminator's term sees the generated
samples through `stop_gradient`, and the generator's term sees the
discriminator with its weights held constant (`frozen_call`), so each
player's gradient is that of its own loss only. Keras' `train_step`, its
optimizers, sample weights, distribution strategies and the engine's fast
path then work unchanged on every backend. An optimizer keeps its state per
variable, so one Adam over both players is two Adams of the same settings.
"""

from __future__ import annotations

import keras
from keras import ops

from tfae.layers._common import training_kwargs
from tfae.models._training import track


def frozen_call(layer: keras.layers.Layer, inputs, training=None):
    """`layer(inputs)` with the layer's weights held constant: gradients reach `inputs` only.

    State the call would update (a BatchNormalization's moving statistics, a
    dropout seed) is left as it was: the layer's own call in the same step
    updates it.
    """
    trainable = [ops.stop_gradient(ops.convert_to_tensor(v)) for v in layer.trainable_variables]
    non_trainable = [ops.convert_to_tensor(v) for v in layer.non_trainable_variables]
    outputs, _ = layer.stateless_call(trainable, non_trainable, inputs, **training_kwargs(layer, training))
    return outputs


def discriminate(discriminator: keras.layers.Layer, real, fake, training=None):
    """`(real_logits, fake_logits, fooled_logits)`, each `(n, 1)`, for `n` real and `n` generated samples.

    `real_logits` and `fake_logits` train the discriminator (the generated
    samples held constant), `fooled_logits` the generator (the discriminator
    held constant). Real and generated samples go through the discriminator
    as one batch, as in the keras-io GAN examples.
    """
    both = discriminator(ops.concatenate([real, ops.stop_gradient(fake)], axis=0), training=training)
    real_logits, fake_logits = ops.split(both, 2, axis=0)
    return real_logits, fake_logits, frozen_call(discriminator, fake, training=training)


def adversarial_losses(cross_entropy: keras.losses.Loss, real_logits, fake_logits, fooled_logits, *,
                       real_weight=None, fake_weight=None):
    """`(discriminator_loss, generator_loss)`, reduced by `cross_entropy` (a Keras `Loss` on logits).

    The discriminator's loss is the sum of its cross-entropies on real (label
    1) and generated (label 0) samples; the generator's is the non-saturating
    `-log D(G(z))` (label 1 on its own samples). Weights apply per sample of
    the side they belong to.
    """
    ones = ops.ones_like(real_logits)
    zeros = ops.zeros_like(fake_logits)
    discriminator_loss = (cross_entropy(ones, real_logits, sample_weight=real_weight)
                          + cross_entropy(zeros, fake_logits, sample_weight=fake_weight))
    generator_loss = cross_entropy(ops.ones_like(fooled_logits), fooled_logits, sample_weight=fake_weight)
    return discriminator_loss, generator_loss


class TwoPlayers:
    """Mixin for a model with a discriminator: its players' cross-entropy and loss metrics."""

    def _init_players(self) -> None:
        self.discriminator_loss_tracker = keras.metrics.Mean(name="discriminator_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self._cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True, name="adversarial")

    def _player_losses(self, real_logits, fake_logits, fooled_logits, *, real_weight=None, fake_weight=None):
        """`adversarial_losses` of the logits, each also reported as the batch's `*_loss` metric."""
        discriminator_loss, generator_loss = adversarial_losses(
            self._cross_entropy, real_logits, fake_logits, fooled_logits, real_weight=real_weight,
            fake_weight=fake_weight)
        batch = ops.shape(real_logits)[0]
        track(self.discriminator_loss_tracker, discriminator_loss, batch)
        track(self.generator_loss_tracker, generator_loss, batch)
        return discriminator_loss, generator_loss


def check_discriminator(logits, what: str) -> None:
    """The discriminator must give one logit per sample."""
    if len(logits.shape) != 2 or logits.shape[-1] != 1:
        raise ValueError(
            f"Expected the discriminator to output one logit per {what}, shape (batch_size, 1). "
            f"Received: discriminator output shape={tuple(logits.shape)}"
        )
