"""The engine on the PyTorch backend: a layer's inference pass of one batch (training runs Keras' own loop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import torch


def inference_function(layer: keras.layers.Layer, call_kwargs: dict[str, Any]) -> Callable[[Any], Any]:
    """`layer`'s inference forward pass of one batch, without autograd's bookkeeping."""

    def function(x):
        with torch.no_grad():
            return layer(keras.ops.convert_to_tensor(x), training=False, **call_kwargs)

    return function
