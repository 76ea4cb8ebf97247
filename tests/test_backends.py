"""tfae's Keras-side API on the JAX and PyTorch backends (each in its own process)."""

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_side_api_runs_on_other_backends(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(REPO / "tests" / "backend_check.py")], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"OK {backend}" in result.stdout
