"""Keras layers: the halves of an autoencoder (dense, convolutional, tied), input noise, and splitting."""

from tfae.layers._common import OutputActivation
from tfae.layers.conv import ConvDecoder, ConvEncoder
from tfae.layers.dense import Decoder, Encoder
from tfae.layers.noise import NOISES, Corruption
from tfae.layers.split import get_bottleneck_tensor, get_input_tensor, get_output_tensor, split_autoencoder
from tfae.layers.tied import TiedDecoder

# tfae's dense halves: XLA compiles and fuses them, so `compile()` turns it on. The conv halves keep
# Keras' choice: on CPU TensorFlow, XLA's convolutions are many times slower than oneDNN's (docs/family.md).
XLA_LAYERS = (Encoder, Decoder, TiedDecoder)

__all__ = [
    "NOISES",
    "XLA_LAYERS",
    "ConvDecoder",
    "ConvEncoder",
    "Corruption",
    "Decoder",
    "Encoder",
    "OutputActivation",
    "TiedDecoder",
    "get_bottleneck_tensor",
    "get_input_tensor",
    "get_output_tensor",
    "split_autoencoder",
]
