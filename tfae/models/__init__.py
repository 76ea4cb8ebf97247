"""Keras models with first-class `encode` / `decode`; their fast paths live in `tfae._engine`."""

from tfae.models.autoencoder import AutoEncoder

__all__ = ["AutoEncoder"]
