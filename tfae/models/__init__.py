"""Keras models with first-class `encode` / `decode`; their fast paths live in `tfae._engine`."""

from tfae.models.anomaly import AnomalyDetector
from tfae.models.autoencoder import AutoEncoder
from tfae.models.variational import VariationalAutoEncoder

__all__ = ["AnomalyDetector", "AutoEncoder", "VariationalAutoEncoder"]
