"""What every tfae layer shares: sublayer weight options, sublayer stacks, the decoder output contract."""

from __future__ import annotations

import inspect
from typing import Any

import keras
from keras import ops

from tfae import _validation


class WeightOptions:
    """Mixin: the initializers and regularizers a layer passes to every weighted sublayer."""

    def _set_weight_options(self, *, kernel_initializer: Any, bias_initializer: Any, kernel_regularizer: Any,
                            bias_regularizer: Any) -> None:
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def _weight_kwargs(self) -> dict[str, Any]:
        return {
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": self.kernel_regularizer,
            "bias_regularizer": self.bias_regularizer,
        }

    def _weight_config(self) -> dict[str, Any]:
        return {
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        }


class Bottleneck:
    """Mixin for encoders: the code comes out of a Dense layer named `bottleneck`, `(batch_size, latent_dim)`."""

    def _set_bottleneck(self, latent_dim: int, latent_activation: Any) -> None:
        """Make `self.bottleneck` (after the base class has set the weight options)."""
        self.bottleneck = keras.layers.Dense(
            latent_dim,
            activation=_validation.activation(latent_activation, "latent_activation"),
            name="bottleneck",
            dtype=self.dtype_policy,
            **self._weight_kwargs(),
        )
        self.latent_dim = latent_dim
        self.latent_activation = latent_activation

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.latent_dim)

    def _bottleneck_config(self) -> dict[str, Any]:
        return {"latent_dim": self.latent_dim,
                "latent_activation": _validation.serialize_activation(self.latent_activation)}


class OutputActivation:
    """Mixin for decoders: codes in, samples of `target_shape` out; `call(z, return_logits=True)` skips the activation.

    A decoder ending in a sigmoid exposes `output_is_sigmoid`, so
    `tfae.AutoEncoder` can hand the logits to a numerically stable
    cross-entropy instead of the saturating probabilities.
    """

    def _set_output(self, target_shape: tuple[int, ...], output_activation: Any) -> None:
        self.target_shape = target_shape
        self.output_activation_fn = _validation.activation(output_activation, "output_activation")
        self.output_activation = output_activation

    def _check_codes(self, input_shape, latent_dim: int | None = None) -> tuple:
        """`input_shape` as a tuple, checked to be `(batch_size, latent_dim)`; sets the input spec."""
        input_shape = tuple(input_shape)
        expected = input_shape[-1] is not None if latent_dim is None else input_shape[-1] == latent_dim
        if len(input_shape) != 2 or not expected:
            raise ValueError(
                f"Expected the input of layer '{self.name}' to be latent vectors of shape "
                f"(batch_size, {'latent_dim' if latent_dim is None else latent_dim}). Received: input_shape={input_shape}"
            )
        self.input_spec = keras.InputSpec(ndim=2, axes={-1: input_shape[-1]})
        return input_shape

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.target_shape

    def _output_config(self) -> dict[str, Any]:
        return {"output_shape": list(self.target_shape),
                "output_activation": _validation.serialize_activation(self.output_activation)}

    @property
    def output_is_sigmoid(self) -> bool:
        """Whether the output is `sigmoid(logits)`, so cross-entropy can use the logits."""
        return self.output_activation_fn is keras.activations.sigmoid

    def _activate(self, logits, return_logits: bool):
        return logits if return_logits else self.output_activation_fn(logits)


def build_stack(stack: list[keras.layers.Layer], shape: tuple) -> tuple:
    """Build each sublayer on the previous one's output shape; returns the last output shape."""
    for sublayer in stack:
        units = getattr(sublayer, "units", None)
        if isinstance(sublayer, keras.layers.Dense) and shape[-1] * units > _validation.MAX_SIZE:
            raise ValueError(
                f"Expected each Dense kernel to hold at most {_validation.MAX_SIZE} weights. Received: an "
                f"input_shape of {shape[-1]} features into layer '{sublayer.name}' of {units} units "
                f"(latent_dim / hidden_units)"
            )
        sublayer.build(shape)
        shape = sublayer.compute_output_shape(shape)
    return shape


def run_stack(stack: list[keras.layers.Layer], x, training):
    """Call each sublayer in turn; Dropout gets `training`."""
    for sublayer in stack:
        if isinstance(sublayer, keras.layers.Dropout):
            x = sublayer(x, training=training)
        else:
            x = sublayer(x)
    return x


def flatten(x, width: int):
    """`x` of shape `(batch_size, *axes)` as `(batch_size, width)`, `width` being the size built for.

    A dataset can lose the static sample axes of its elements (shape `(None, None)`): the batch axis is then
    read when the graph runs, so a sample of another size is refused there rather than folded into the batch.
    """
    if any(dim is None for dim in x.shape[1:]):
        return ops.reshape(x, (ops.shape(x)[0], width))
    return ops.reshape(x, (-1, width))


def training_kwargs(layer: keras.layers.Layer, training) -> dict[str, Any]:
    """`{"training": training}` when `layer.call` takes it, else `{}`.

    `layer(...)` drops an argument its `call` does not take; `stateless_call`
    passes it on, so a call through it must leave it out for such layers.
    """
    parameters = inspect.signature(layer.call).parameters
    takes = "training" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    return {"training": training} if takes else {}
