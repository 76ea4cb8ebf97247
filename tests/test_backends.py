"""tfae's Keras-side API on the JAX and PyTorch backends (each script in a process of its own)."""

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def every_backend_asked() -> bool:
    """Whether CI asks for every backend (`TFAE_ALL_BACKENDS=1`): then a missing one fails instead of skipping."""
    return os.environ.get("TFAE_ALL_BACKENDS") == "1"


def require(backend: str) -> None:
    """Skip when `backend` is not installed; fail instead where CI asks for every backend (`TFAE_ALL_BACKENDS=1`)."""
    if importlib.util.find_spec(backend) is None:
        if every_backend_asked():
            pytest.fail(f"{backend} is not installed, and TFAE_ALL_BACKENDS=1 asks for every backend")
        pytest.skip(f"{backend} is not installed")


def run_on_backend(backend: str, script: str, *arguments: str) -> str:
    require(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(REPO / "tests" / script), *arguments], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def run_pytest_on_backend(backend: str, *targets: str) -> str:
    """Run every test of `targets`, slow ones included, in a child process with `KERAS_BACKEND=backend`."""
    require(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "TFAE_CONFORMANCE_CHILD": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "", *targets],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result.stdout


# A child process per backend (half a minute each): with the slow suites, which CI runs on every backend.
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_side_api_runs_on_other_backends(backend):
    assert f"OK {backend}" in run_on_backend(backend, "backend_check.py")


BACKENDS = ("tensorflow", "jax", "torch")


# Slow: every backend saves, then loads the others' files (all pairs), each in a process of its own. One test,
# so each backend saves once: pytest-xdist's loadgroup, which kept one test per backend on one worker, stopped
# grouping without a word under pytest 9.2 (pytest-dev/pytest-xdist#1386).
@pytest.mark.slow
def test_a_keras_file_saved_on_any_backend_loads_on_every_other_one_with_the_same_outputs(tmp_path):
    installed = [backend for backend in BACKENDS if importlib.util.find_spec(backend) is not None]
    if every_backend_asked():
        for backend in BACKENDS:
            require(backend)  # fails on a missing one
    if len(installed) < 2:
        pytest.skip(f"loading another backend's files needs two backends; installed: {installed}")
    folders = {backend: tmp_path / f"saved_by_{backend}" for backend in installed}
    for backend, folder in folders.items():
        folder.mkdir()
        run_on_backend(backend, "keras_file_check.py", "save", str(folder))
    for backend in installed:
        others = [str(folder) for saver, folder in folders.items() if saver != backend]
        out = run_on_backend(backend, "keras_file_check.py", "load", *others)
        assert out.count("loaded ") == 5 * len(others) and f"OK {backend} load" in out, out
