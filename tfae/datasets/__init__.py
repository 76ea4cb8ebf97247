"""Data sets for tfae: MNIST, full or the real sample shipped with the package.

Depends on numpy alone (Keras only for the last-resort download, TensorFlow's image
decoder only for `load_images`), so data can be loaded without building a model.
"""

from tfae.datasets._idx import IDXError, read_idx
from tfae.datasets._images import load_images
from tfae.datasets._mnist import load_mnist, load_mnist_sample
from tfae.datasets._npy import DataFileError

__all__ = ["DataFileError", "IDXError", "load_images", "load_mnist", "load_mnist_sample", "read_idx"]
