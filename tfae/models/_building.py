"""When a tfae model builds: after the whole `__init__` chain, so subclasses can add state."""

from __future__ import annotations

import warnings
from typing import Any

import keras

from tfae import _keras_private
from tfae.models._training import Handoff


class BuiltAfterInit(type(keras.Model)):
    """Metaclass that builds a model once the most derived `__init__` has returned.

    Keras refuses new layers, metrics or variables on a built model, and a tfae
    model built inside its own `__init__` would refuse the state a subclass adds
    after `super().__init__()` (the usual Keras pattern), at construction and again
    when its `.keras` file loads. The model calls `_build_after_init()` here instead.
    """

    def __call__(cls, *args: Any, **kwargs: Any):
        model = super().__call__(*args, **kwargs)
        model._build_after_init()
        return model


def build_called_layers(model: keras.Model, input_shape: tuple[int | None, ...], *,
                        own: tuple[keras.layers.Layer, ...]) -> None:
    """Build the layers a subclass added and calls in its `call`, by running `call` on a symbolic batch.

    Called at the end of a tfae model's `build()`, which builds the model's `own`
    layers itself; a layer of the user's left unbuilt would have no weights to load
    from a saved file. Keras builds a model without `build()` this way, and warns as
    Keras does when it cannot.
    """
    if all(layer.built for layer in model.layers if not any(layer is part for part in own)):
        return
    try:
        _keras_private.build_by_calling(model, tuple(input_shape))
        for value in vars(model).values():
            if isinstance(value, Handoff):
                value.take(None)  # drop what the symbolic call left (scratch tensors)
    except Exception as error:  # the user's `call`, whatever it raises
        unbuilt = [layer.name for layer in model.layers if not layer.built]
        warnings.warn(
            f"Model {model.name!r} could not build its layers {unbuilt} by calling itself on a symbolic "
            f"batch of shape {input_shape} ({type(error).__name__}: {error}). Build them in an override of "
            "`build()` that calls `super().build(input_shape)`, or their weights will not load from a saved file.",
            stacklevel=2,
        )
