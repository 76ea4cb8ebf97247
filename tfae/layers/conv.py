"""`ConvEncoder` and `ConvDecoder`: convolutional halves of an image autoencoder, as Keras layers.

Same contract as the dense `Encoder`/`Decoder` (images -> codes named
`"bottleneck"` -> images, logits on request), so `tfae.AutoEncoder(
encoder=ConvEncoder(...), decoder=ConvDecoder(...))` trains and saves like the
dense model. `keras.ops` and Keras layers only: every Keras 3 backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from tfae import _validation
from tfae.layers._common import Bottleneck, OutputActivation, WeightOptions, build_stack, flatten, run_stack


def _conv_arguments(filters: Any, kernel_size: Any, strides: Any) -> tuple[tuple[int, ...], int, int]:
    filters = _validation.units_tuple(filters, "filters")
    if not filters:
        raise ValueError(f"Expected `filters` to name at least one convolution. Received: filters={filters!r}")
    return (filters, _validation.positive_int(kernel_size, "kernel_size"),
            _validation.positive_int(strides, "strides"))


class _ConvHalf(WeightOptions, keras.layers.Layer):
    """What ConvEncoder and ConvDecoder share: argument checks, sublayer options and config."""

    def __init__(self, *, filters: Any, kernel_size: Any, strides: Any, activation: Any,
                 kernel_initializer: Any, bias_initializer: Any, kernel_regularizer: Any, bias_regularizer: Any,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = _conv_arguments(filters, kernel_size, strides)
        self.activation = activation
        self._activation_fn = _validation.activation(activation, "activation")
        self._set_weight_options(kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer)
        self.supports_masking = False

    def _convolution(self, kind: type, filters: int, name: str, *, strides: int | None = None,
                     activation: Any = None) -> keras.layers.Layer:
        return kind(filters, self.kernel_size, strides=self.strides if strides is None else strides,
                    padding="same", activation=activation, name=name, dtype=self.dtype_policy,
                    **self._weight_kwargs())

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "filters": list(self.filters),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "activation": _validation.serialize_activation(self.activation),
            **self._weight_config(),
        })
        return config


@keras.saving.register_keras_serializable(package="tfae")
class ConvEncoder(Bottleneck, _ConvHalf):
    """Maps images to latent vectors: strided convolutions, then a Dense code layer named `"bottleneck"`.

    Each entry of `filters` is a `Conv2D` (`padding="same"`, `strides`,
    `activation`), named `conv_{i}`; their output is flattened into the
    bottleneck Dense layer of `latent_dim` units.

    Args:
        latent_dim: int > 0. Size of the latent code.
        filters: int or sequence of ints. Filters of each convolution, from the
            image towards the code. Defaults to `(32, 64)`.
        kernel_size: int > 0. Square kernel size of every convolution.
            Defaults to 3.
        strides: int > 0. Stride of every convolution. Defaults to 2 (each
            convolution halves height and width).
        activation: activation of the convolutions. Defaults to `"relu"`.
        latent_activation: activation of the bottleneck. Defaults to `None`.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: passed to every convolution and to the bottleneck.
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, height, width, channels)` (channels last), of sizes known
        when the layer is built. Once built, it also takes inputs whose static
        sizes a `tf.data` pipeline lost.

    Output shape:
        `(batch_size, latent_dim)`.

    Example:

    >>> encoder = tfae.ConvEncoder(16)
    >>> encoder(np.zeros((2, 28, 28, 1))).shape
    (2, 16)
    """

    def __init__(
        self,
        latent_dim: int,
        *,
        filters: int | Sequence[int] = (32, 64),
        kernel_size: int = 3,
        strides: int = 2,
        activation: Any = "relu",
        latent_activation: Any = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        latent_dim = _validation.positive_int(latent_dim, "latent_dim")
        kwargs.setdefault("name", "encoder")
        super().__init__(filters=filters, kernel_size=kernel_size, strides=strides, activation=activation,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer, **kwargs)
        # === Layers ===
        self.conv_layers = [
            self._convolution(keras.layers.Conv2D, units, f"conv_{index}", activation=self._activation_fn)
            for index, units in enumerate(self.filters)
        ]
        self._set_bottleneck(latent_dim, latent_activation)  # and its config

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        if len(input_shape) != 4 or any(dim is None for dim in input_shape[1:]):
            raise ValueError(
                f"Expected the input of layer '{self.name}' to be images of shape "
                f"(batch_size, height, width, channels) with known sizes. Received: input_shape={input_shape}"
            )
        self.input_spec = keras.InputSpec(ndim=4, axes=dict(enumerate(input_shape[1:], 1)))
        self._flat_width = math.prod(build_stack(self.conv_layers, input_shape)[1:])
        self.bottleneck.build((input_shape[0], self._flat_width))

    def call(self, inputs, training=None):
        x = run_stack(self.conv_layers, inputs, training)
        return self.bottleneck(flatten(x, self._flat_width))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._bottleneck_config())
        return config


@keras.saving.register_keras_serializable(package="tfae")
class ConvDecoder(OutputActivation, _ConvHalf):
    """Maps latent vectors to images: a Dense projection, transposed convolutions, a last convolution.

    The code is projected (Dense `"projection"`) to a feature map of
    `filters[0]` channels, `strides ** len(filters)` times smaller than the
    image; each entry of `filters` is then a `Conv2DTranspose` named
    `deconv_{i}` that multiplies height and width by `strides`, and a `Conv2D`
    named `"reconstruction"` gives the image's channels as logits, to which
    `output_activation` is applied. `call(z, return_logits=True)` skips it.

    Args:
        output_shape: `(height, width, channels)` of one image; height and
            width must be multiples of `strides ** len(filters)`.
        filters: int or sequence of ints. Filters of each transposed
            convolution, from the code towards the image. Defaults to `(64, 32)`.
        kernel_size: int > 0. Square kernel size of every convolution.
            Defaults to 3.
        strides: int > 0. Upsampling factor of every transposed convolution.
            Defaults to 2.
        activation: activation of the projection and the transposed
            convolutions. Defaults to `"relu"`.
        output_activation: activation of the output. Defaults to `"sigmoid"`
            (pixels in [0, 1]); `None` gives unbounded outputs.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: passed to every weighted sublayer.
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, latent_dim)`.

    Output shape:
        `(batch_size, height, width, channels)`.

    Example:

    >>> decoder = tfae.ConvDecoder((28, 28, 1))
    >>> decoder(np.zeros((2, 16))).shape
    (2, 28, 28, 1)
    """

    def __init__(
        self,
        output_shape: Sequence[int],
        *,
        filters: int | Sequence[int] = (64, 32),
        kernel_size: int = 3,
        strides: int = 2,
        activation: Any = "relu",
        output_activation: Any = "sigmoid",
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        image_shape = _validation.shape_tuple(output_shape, "output_shape")
        if len(image_shape) != 3:
            raise ValueError(
                "Expected `output_shape` to be (height, width, channels). "
                f"Received: output_shape={output_shape!r}"
            )
        filters_tuple, _, strides_int = _conv_arguments(filters, kernel_size, strides)
        factor = strides_int ** len(filters_tuple)
        if image_shape[0] % factor or image_shape[1] % factor:
            raise ValueError(
                f"Expected the height and width of `output_shape` to be multiples of "
                f"strides ** len(filters) = {factor}. Received: output_shape={output_shape!r}"
            )
        kwargs.setdefault("name", "decoder")
        super().__init__(filters=filters, kernel_size=kernel_size, strides=strides, activation=activation,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer, **kwargs)
        # === Layers ===
        self.seed_shape = (image_shape[0] // factor, image_shape[1] // factor, self.filters[0])
        self.projection = keras.layers.Dense(math.prod(self.seed_shape), activation=self._activation_fn,
                                             name="projection", dtype=self.dtype_policy, **self._weight_kwargs())
        self.deconv_layers = [
            self._convolution(keras.layers.Conv2DTranspose, units, f"deconv_{index}",
                              activation=self._activation_fn)
            for index, units in enumerate(self.filters)
        ]
        self.reconstruction = self._convolution(keras.layers.Conv2D, image_shape[2], "reconstruction", strides=1)
        # === Config ===
        self._set_output(image_shape, output_activation)

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = self._check_codes(input_shape)
        self.projection.build(input_shape)
        build_stack([*self.deconv_layers, self.reconstruction], (input_shape[0],) + self.seed_shape)

    def call(self, inputs, training=None, return_logits=False):
        x = ops.reshape(self.projection(inputs), (-1,) + self.seed_shape)
        x = run_stack(self.deconv_layers, x, training)
        return self._activate(self.reconstruction(x), return_logits)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._output_config())
        return config
