"""tfae: autoencoders for Keras 3.

The public surface is what this module lists in `__all__`; everything in a
module whose name starts with `_` is private. Heavy or optional parts
(`GraphAutoEncoder`, `tuning`) load on first use, and `plotting` imports
matplotlib on first use, so `import tfae` never imports keras-tuner, matplotlib or
`tf.compat.v1`.
"""

from __future__ import annotations

import importlib
from typing import Any

from tfae._startup import quiet_tensorflow_import
from tfae._version import __version__

with quiet_tensorflow_import():
    import keras  # noqa: F401  (its backend, imported once here)

from tfae import callbacks, datasets, distribute, losses, presets
from tfae.layers import (
    ConvDecoder,
    ConvEncoder,
    Decoder,
    Encoder,
    TiedDecoder,
    get_bottleneck_tensor,
    get_input_tensor,
    get_output_tensor,
    split_autoencoder,
)
from tfae.losses import SigmoidCrossEntropy
from tfae.models import GAN, AdversarialAutoEncoder, AnomalyDetector, AutoEncoder, VariationalAutoEncoder
from tfae.models._saving import ModelFileError, load_model
from tfae.presets import list_presets

_LAZY = {
    "GraphAutoEncoder": ("tfae.graph", "GraphAutoEncoder"),
    "tuning": ("tfae.tuning", None),
    "plotting": ("tfae.plotting", None),
}

__all__ = [
    "GAN",
    "AdversarialAutoEncoder",
    "AnomalyDetector",
    "AutoEncoder",
    "ConvDecoder",
    "ConvEncoder",
    "Decoder",
    "Encoder",
    "GraphAutoEncoder",
    "ModelFileError",
    "SigmoidCrossEntropy",
    "TiedDecoder",
    "VariationalAutoEncoder",
    "__version__",
    "callbacks",
    "datasets",
    "distribute",
    "get_bottleneck_tensor",
    "get_input_tensor",
    "get_output_tensor",
    "list_presets",
    "load_model",
    "losses",
    "plotting",
    "presets",
    "split_autoencoder",
    "tuning",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tfae' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
