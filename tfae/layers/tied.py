"""`TiedDecoder`: a dense decoder that reuses a `tfae.Encoder`'s kernels, transposed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from tfae import _validation
from tfae.layers._common import OutputActivation
from tfae.layers.dense import Encoder


@keras.saving.register_keras_serializable(package="tfae")
class TiedDecoder(OutputActivation, keras.layers.Layer):
    """The mirror image of a dense `tfae.Encoder`, with its kernels transposed: only biases of its own.

    For an encoder `x -> relu(x W0 + a0) -> h W1 + a1 = z`, the decoder computes
    `z -> relu(z W1^T + b1) -> h W0^T + b0` (logits), then the output
    activation and the sample shape: about half the parameters of an untied
    autoencoder. Training updates the shared kernels from both halves. The
    decoder tracks the encoder, so saving a model that holds both stores
    each kernel once and loading keeps the tie; saved alone, the decoder
    stores a copy of its encoder.

    Args:
        encoder: the `tfae.Encoder` whose kernels are reused; its
            `activation` is the decoder's hidden activation, its `dropout`
            the decoder's dropout.
        output_shape: int or tuple of ints: the shape of one sample, whose
            size is the encoder's input size.
        output_activation: defaults to `"sigmoid"`; `None` gives unbounded outputs.
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, encoder.latent_dim)`.

    Output shape:
        `(batch_size, *output_shape)`.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=32, hidden_units=(64,), tied=True)
    assert isinstance(ae.decoder, tfae.TiedDecoder)       # reuses the encoder's kernels, transposed
    ```
    """

    def __init__(self, encoder: Encoder, *, output_shape: int | Sequence[int], output_activation: Any = "sigmoid",
                 **kwargs: Any) -> None:
        if not isinstance(encoder, Encoder):
            raise ValueError(
                "Expected `encoder` to be a tfae.Encoder (dense): tied weights transpose its kernels. "
                f"Received: encoder of type {type(encoder).__name__}"
            )
        target_shape = _validation.shape_tuple(output_shape, "output_shape")
        kwargs.setdefault("name", "decoder")
        super().__init__(**kwargs)
        # === Layers ===
        self.encoder = encoder
        self.dropout_layers = [
            keras.layers.Dropout(encoder.dropout, name=f"dropout_{index}", dtype=self.dtype_policy)
            for index in range(len(encoder.hidden_units))
        ] if encoder.dropout > 0 else []
        # === Config ===
        self._hidden_activation_fn = _validation.activation(encoder.activation, "activation")  # the encoder's
        self._set_output(target_shape, output_activation)
        self.supports_masking = False

    def _tied_layers(self) -> list[keras.layers.Layer]:
        """The encoder's Dense layers, code side first: the decoder applies their kernels in this order."""
        dense = [layer for layer in self.encoder.hidden_layers if isinstance(layer, keras.layers.Dense)]
        return [self.encoder.bottleneck, *reversed(dense)]

    def build(self, input_shape: Sequence[int | None]) -> None:
        self._check_codes(input_shape, self.encoder.latent_dim)
        features = math.prod(self.target_shape)
        if not self.encoder.built:
            self.encoder.build((None, features))
        encoder_features = self._tied_layers()[-1].kernel.shape[0]  # the input side's kernel
        if encoder_features != features:
            raise ValueError(
                f"Expected `output_shape` to hold as many values as the encoder's input ({encoder_features}). "
                f"Received: output_shape={self.target_shape}"
            )
        self.biases = [
            self.add_weight(shape=(layer.kernel.shape[0],), initializer="zeros", name=f"bias_{index}")
            for index, layer in enumerate(self._tied_layers())
        ]

    def call(self, inputs, training=None, return_logits=False):
        x = inputs
        layers = self._tied_layers()
        for index, (layer, bias) in enumerate(zip(layers, self.biases)):
            x = ops.matmul(x, ops.transpose(ops.cast(layer.kernel, x.dtype))) + ops.cast(bias, x.dtype)
            if index < len(layers) - 1:
                x = self._hidden_activation_fn(x)
                if self.dropout_layers:
                    x = self.dropout_layers[index](x, training=training)
        return ops.reshape(self._activate(x, return_logits), (-1,) + self.target_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            **self._output_config(),
        })
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
