"""`Encoder` and `Decoder`: the two halves of a dense autoencoder, as Keras layers.

Both use `keras.ops` only, so they run on every Keras 3 backend, and both build
every sublayer in `build()`, which weight loading and keras-tuner's best-model
reload rely on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from tfae import _validation
from tfae.layers._common import Bottleneck, OutputActivation, WeightOptions, build_stack, flatten, run_stack


def _dense_stack(
    layer: keras.layers.Layer,
    hidden_units: tuple[int, ...],
    *,
    activation: Any,
    dropout: float,
    dense_kwargs: dict[str, Any],
) -> list[keras.layers.Layer]:
    """The hidden Dense (+ Dropout) layers both halves share, named `hidden_{i}`."""
    stack: list[keras.layers.Layer] = []
    for index, units in enumerate(hidden_units):
        stack.append(
            keras.layers.Dense(
                units,
                activation=activation,
                name=f"hidden_{index}",
                dtype=layer.dtype_policy,
                **dense_kwargs,
            )
        )
        if dropout > 0:
            stack.append(
                keras.layers.Dropout(dropout, name=f"dropout_{index}", dtype=layer.dtype_policy)
            )
    return stack


class _DenseHalf(WeightOptions, keras.layers.Layer):
    """What Encoder and Decoder share: argument checks, sublayer options and config."""

    def __init__(
        self,
        *,
        hidden_units: int | Sequence[int],
        activation: Any,
        dropout: float,
        kernel_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        bias_regularizer: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.hidden_units = _validation.units_tuple(hidden_units, "hidden_units")
        self.activation = activation
        self._activation_fn = _validation.activation(activation, "activation")
        self.dropout = _validation.unit_interval(dropout, "dropout")
        self._set_weight_options(kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer)
        self.hidden_layers = _dense_stack(
            self,
            self.hidden_units,
            activation=self._activation_fn,
            dropout=self.dropout,
            dense_kwargs=self._weight_kwargs(),
        )
        self.supports_masking = False

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "hidden_units": list(self.hidden_units),
                "activation": _validation.serialize_activation(self.activation),
                "dropout": self.dropout,
                **self._weight_config(),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="tfae")
class Encoder(Bottleneck, _DenseHalf):
    """Maps samples of any shape to latent vectors through a stack of Dense layers.

    The input is flattened, passed through `hidden_units` Dense layers and then
    through a Dense layer of `latent_dim` units named `"bottleneck"`: the
    article's code layer.

    Args:
        latent_dim: int > 0. Size of the latent code.
        hidden_units: int or sequence of ints. Units of the hidden Dense layers,
            from the input towards the code. Defaults to `()` (the article's
            784 -> 128 model).
        activation: activation of the hidden layers. Defaults to `"relu"`.
        latent_activation: activation of the bottleneck. Defaults to `None`
            (a linear code, as in the Keras half of the article; the TF1 half
            uses `"relu"`).
        dropout: float in [0, 1). Dropout after each hidden layer, in training.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: passed to every Dense sublayer.
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, *sample_shape)`, e.g. `(batch_size, 784)`,
        `(batch_size, 28, 28)` or `(batch_size, 28, 28, 1)`; every sample axis
        must be known when the layer is built. Once built, it also takes inputs
        whose static sample axes a `tf.data` pipeline lost, `(None, None)`.

    Output shape:
        `(batch_size, latent_dim)`.

    Example:

    >>> encoder = tfae.Encoder(32, hidden_units=(256,))
    >>> encoder(np.zeros((2, 28, 28, 1))).shape
    (2, 32)
    """

    def __init__(
        self,
        latent_dim: int,
        *,
        hidden_units: int | Sequence[int] = (),
        activation: Any = "relu",
        latent_activation: Any = None,
        dropout: float = 0.0,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        latent_dim = _validation.positive_int(latent_dim, "latent_dim")
        kwargs.setdefault("name", "encoder")
        super().__init__(
            hidden_units=hidden_units,
            activation=activation,
            dropout=dropout,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            **kwargs,
        )
        # === Layers and config ===
        self._set_bottleneck(latent_dim, latent_activation)

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        sample_shape = input_shape[1:]
        if len(input_shape) < 2 or any(dim is None for dim in sample_shape):
            raise ValueError(
                f"Expected the input of layer '{self.name}' to have a batch axis and fully "
                f"known sample axes, e.g. (None, 784). Received: input_shape={input_shape}"
            )
        self.input_spec = keras.InputSpec(ndim=len(input_shape), axes=dict(enumerate(sample_shape, 1)))
        self._flat_width = math.prod(sample_shape)
        self.bottleneck.build(build_stack(self.hidden_layers, (input_shape[0], self._flat_width)))

    def call(self, inputs, training=None):
        x = flatten(inputs, self._flat_width)
        x = run_stack(self.hidden_layers, x, training)
        return self.bottleneck(x)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._bottleneck_config())
        return config


@keras.saving.register_keras_serializable(package="tfae")
class Decoder(OutputActivation, _DenseHalf):
    """Maps latent vectors to samples of `output_shape` through a stack of Dense layers.

    The layer computes logits with a Dense layer of `prod(output_shape)` units
    named `"reconstruction"`, applies `output_activation` and reshapes to
    `output_shape`. `call(z, return_logits=True)` skips the activation, which
    is what a numerically stable cross-entropy needs. On its own it is a
    generator network: noise in, images out.

    Args:
        output_shape: int or tuple of ints. Shape of one generated sample, e.g.
            `784` or `(28, 28, 1)`.
        hidden_units: int or sequence of ints. Units of the hidden Dense layers,
            from the code towards the output. Defaults to `()`.
        activation: activation of the hidden layers. Defaults to `"relu"`.
        output_activation: activation of the output. Defaults to `"sigmoid"`
            (pixels in [0, 1]); `None` gives unbounded outputs.
        dropout: float in [0, 1). Dropout after each hidden layer, in training.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: passed to every Dense sublayer.
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, latent_dim)`.

    Output shape:
        `(batch_size, *output_shape)`.

    Example:

    >>> generator = keras.Sequential([keras.Input((32,)), tfae.Decoder((28, 28, 1))])
    >>> generator(np.random.normal(size=(4, 32))).shape
    (4, 28, 28, 1)
    """

    def __init__(
        self,
        output_shape: int | Sequence[int],
        *,
        hidden_units: int | Sequence[int] = (),
        activation: Any = "relu",
        output_activation: Any = "sigmoid",
        dropout: float = 0.0,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        target_shape = _validation.shape_tuple(output_shape, "output_shape")
        kwargs.setdefault("name", "decoder")
        super().__init__(
            hidden_units=hidden_units,
            activation=activation,
            dropout=dropout,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            **kwargs,
        )
        # === Layers ===
        self.reconstruction = keras.layers.Dense(
            math.prod(target_shape),
            name="reconstruction",
            dtype=self.dtype_policy,
            **self._weight_kwargs(),
        )
        # === Config ===
        self._set_output(target_shape, output_activation)

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = self._check_codes(input_shape)
        self.reconstruction.build(build_stack(self.hidden_layers, input_shape))

    def call(self, inputs, training=None, return_logits=False):
        x = run_stack(self.hidden_layers, inputs, training)
        x = self._activate(self.reconstruction(x), return_logits)
        return ops.reshape(x, (-1,) + self.target_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._output_config())
        return config
