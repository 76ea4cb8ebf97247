"""Keras layers: the halves of an autoencoder, and cutting a trained model into them."""

from tfae.layers.dense import Decoder, Encoder
from tfae.layers.split import get_bottleneck_tensor, get_input_tensor, get_output_tensor, split_autoencoder

__all__ = [
    "Decoder",
    "Encoder",
    "get_bottleneck_tensor",
    "get_input_tensor",
    "get_output_tensor",
    "split_autoencoder",
]
