import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tfae  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FULL_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


@pytest.fixture(scope="session")
def mnist_sample():
    return tfae.datasets.load_mnist_sample()


@pytest.fixture(scope="session")
def small_digits(mnist_sample):
    """512 training and 128 test digits, flat float32 in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = mnist_sample
    return (x_train[:512], y_train[:512]), (x_test[:128], y_test[:128])


@pytest.fixture
def random_unit(request):
    rng = np.random.default_rng(0)
    return lambda *shape: rng.random(shape, dtype=np.float32)
