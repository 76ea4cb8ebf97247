"""The article's low-level model on `tf.compat.v1` graphs and sessions (TensorFlow only)."""

from tfae.graph.autoencoder import GraphAutoEncoder

__all__ = ["GraphAutoEncoder"]
