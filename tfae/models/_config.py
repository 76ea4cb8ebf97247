"""Sublayers in a model's config: serialized when the user passed them, rebuilt on load."""

from __future__ import annotations

from typing import Any

import keras


def serialized(layer: keras.layers.Layer | None, *, owned: bool = False) -> dict[str, Any] | None:
    """`layer`'s config entry: None for a layer the model builds itself from its other arguments."""
    return None if owned or layer is None else keras.saving.serialize_keras_object(layer)


def deserialized(config: dict[str, Any], keys: tuple[str, ...], custom_objects=None) -> dict[str, Any]:
    """A copy of `config` with the serialized layers under `keys` rebuilt."""
    config = dict(config)
    for key in keys:
        if isinstance(config.get(key), dict):
            config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects=custom_objects)
    return config
