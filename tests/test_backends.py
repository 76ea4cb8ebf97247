"""tfae's Keras-side API on the JAX and PyTorch backends (each script in a process of its own)."""

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def run_on_backend(backend: str, script: str) -> str:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(REPO / "tests" / script)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def run_pytest_on_backend(backend: str, *targets: str) -> str:
    """Run every test of `targets`, slow ones included, in a child process with `KERAS_BACKEND=backend`."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TFAE_CONFORMANCE_CHILD": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "", *targets],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_side_api_runs_on_other_backends(backend):
    assert f"OK {backend}" in run_on_backend(backend, "backend_check.py")
