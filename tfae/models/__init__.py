"""Keras models with first-class `encode` / `decode`; their fast paths live in `tfae._engine`."""

from tfae.models.adversarial import AdversarialAutoEncoder
from tfae.models.anomaly import AnomalyDetector
from tfae.models.autoencoder import AutoEncoder
from tfae.models.gan import GAN
from tfae.models.variational import VariationalAutoEncoder

__all__ = ["GAN", "AdversarialAutoEncoder", "AnomalyDetector", "AutoEncoder", "VariationalAutoEncoder"]
