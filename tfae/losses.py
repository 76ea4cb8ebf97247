"""Losses of reconstructions."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def _single_loss(loss: Any) -> Any:
    """The loss a single-output model was compiled with: `loss`, or the one loss of a one-element list."""
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        return loss[0]
    return loss


@keras.saving.register_keras_serializable(package="tfae")
class SigmoidCrossEntropy(keras.losses.Loss):
    """Binary cross-entropy of a reconstruction, computed from the decoder's logits.

    `softplus(logits) - y_true * logits` per element, averaged over the last
    axis like `keras.losses.binary_crossentropy`, then reduced like any Keras
    loss (`reduction`, `sample_weight`, `loss_weights`, per-replica scaling
    under a distribution strategy). It equals Keras' binary cross-entropy of
    `sigmoid(logits)` and stays exact where the sigmoid saturates in float32
    (|logits| > ~17), on every backend; a loss of probabilities alone is
    clipped there (Keras' own on JAX and PyTorch) and its gradient vanishes.

    `tfae.AutoEncoder` hands this loss the decoder's logits; it needs a
    decoder that ends in a sigmoid (`tfae.Decoder` with its default
    `output_activation`).

    Args:
        reduction: as for any `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: defaults to `"sigmoid_cross_entropy"`.
        dtype: the loss computation's dtype; defaults to the Keras float type.

    Example:

    >>> loss = tfae.losses.SigmoidCrossEntropy()
    >>> float(loss(np.zeros((1, 2)), np.array([[40.0, -40.0]])))  # doctest: +ELLIPSIS
    20.0...
    """

    def __init__(self, reduction: str = "sum_over_batch_size", name: str = "sigmoid_cross_entropy",
                 dtype: Any = None) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        logits = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, logits.dtype)
        return ops.mean(ops.softplus(logits) - y_true * logits, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "name": self.name, "dtype": self._dtype_argument}
