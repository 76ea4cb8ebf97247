"""Keras layers: the halves of an autoencoder (dense, convolutional, tied), input noise, and splitting."""

from tfae.layers._common import OutputActivation
from tfae.layers.conv import ConvDecoder, ConvEncoder
from tfae.layers.dense import Decoder, Encoder
from tfae.layers.noise import NOISES, Corruption
from tfae.layers.split import get_bottleneck_tensor, get_input_tensor, get_output_tensor, split_autoencoder
from tfae.layers.tied import TiedDecoder

# tfae's own halves: known to compile with XLA (the engine's default `jit_compile`).
OWN_LAYERS = (Encoder, Decoder, ConvEncoder, ConvDecoder, TiedDecoder)

__all__ = [
    "NOISES",
    "OWN_LAYERS",
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
