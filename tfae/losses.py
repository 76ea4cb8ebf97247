"""Losses of reconstructions."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from tfae import _validation


def _single_loss(loss: Any) -> Any:
    """The loss a single-output model was compiled with: `loss`, or the one loss of a one-element list."""
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        return loss[0]
    return loss


def _sigmoid_cross_entropy_elements(y_true: Any, logits: Any) -> Any:
    """`softplus(logits) - y_true * logits`, element by element, in the logits' dtype (same shape)."""
    logits = ops.convert_to_tensor(logits)
    return ops.softplus(logits) - ops.cast(y_true, logits.dtype) * logits


@keras.saving.register_keras_serializable(package="tfae")
class SigmoidCrossEntropy(keras.losses.Loss):
    """Binary cross-entropy of a reconstruction, computed from the decoder's logits.

    `softplus(logits) - y_true * logits` per element, averaged over each
    sample's values (or summed with `feature_reduction="sum"`: the negative
    log-likelihood in nats a VAE's evidence lower bound uses), one value per
    sample, then reduced like any Keras
    loss (`reduction`, `sample_weight`, `loss_weights`, per-replica scaling
    under a distribution strategy). It equals Keras' binary cross-entropy of
    `sigmoid(logits)` and stays exact where the sigmoid saturates in float32
    (|logits| > ~17), on every backend; a loss of probabilities alone is
    clipped there (Keras' own on JAX and PyTorch) and its gradient vanishes.

    `tfae.AutoEncoder` hands this loss the decoder's logits; it needs a
    decoder that ends in a sigmoid (`tfae.Decoder` with its default
    `output_activation`).

    Args:
        feature_reduction: `"mean"` or `"sum"` over all of a sample's axes.
            Defaults to `"mean"`. For flat samples the mean is Keras' binary
            cross-entropy; for images Keras averages over the last axis only,
            which gives the same `"sum_over_batch_size"` value but no
            per-sample value (so no `sample_weight`: Keras' own fails).
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
                 dtype: Any = None, *, feature_reduction: str = "mean") -> None:
        _validation.one_of(feature_reduction, "feature_reduction", ("mean", "sum"))
        if reduction is not None and not isinstance(reduction, str):  # Keras checks the name itself
            raise ValueError(f"Expected `reduction` to be a Keras reduction name or None. Received: reduction={reduction!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_argument = dtype
        self.feature_reduction = feature_reduction

    def call(self, y_true, y_pred):
        elements = _sigmoid_cross_entropy_elements(y_true, y_pred)
        per_sample = ops.reshape(elements, (ops.shape(elements)[0], -1))
        if self.feature_reduction == "sum":
            return ops.sum(per_sample, axis=-1)
        return ops.mean(per_sample, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "name": self.name, "dtype": self._dtype_argument,
                "feature_reduction": self.feature_reduction}
