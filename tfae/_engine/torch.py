"""The engine on the PyTorch backend: a layer's inference pass of one batch (training runs Keras' own loop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import torch


def inference_function(layer: keras.layers.Layer, call_kwargs: dict[str, Any]) -> Callable[[Any], Any]:
    """`layer`'s inference forward pass of one batch, without autograd's bookkeeping."""

    def function(x):
        with torch.no_grad():
            return layer(keras.ops.convert_to_tensor(x), training=False, **call_kwargs)

    return function


def to_numpy(result: Any) -> np.ndarray:
    """A result as numpy: a CPU tensor's own memory, not Keras' copy of it (bfloat16, which numpy lacks, by Keras)."""
    if isinstance(result, torch.Tensor) and result.dtype != torch.bfloat16:
        return result.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(result)
