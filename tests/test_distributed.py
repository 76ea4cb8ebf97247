"""tfae under TensorFlow's distribution strategies (each check in a process of its own)."""

import os
import subprocess
import sys

import keras
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's")


def test_mirrored_strategy_trains_like_plain_keras_and_like_one_device():
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "tests.mirrored_check"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "OK mirrored" in result.stdout, result.stdout[-3000:] + result.stderr[-5000:]
