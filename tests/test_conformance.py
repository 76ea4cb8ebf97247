"""The Keras contract: tfae and the equivalent plain Keras model agree on every `fit`/`evaluate` argument.

Runs every case of `tests/conformance.py` on this process' backend, and the
whole module again on JAX and on PyTorch, each in a subprocess (the TensorFlow
process cannot switch backends). Marked slow: `.ci/run` runs it right after the README's test
command (`python -m pytest -m slow tests`).
"""

import os

import keras
import pytest

from tests import conformance
from tests.test_backends import run_pytest_on_backend


@pytest.mark.slow
@pytest.mark.parametrize("case", conformance.selected_cases(os.environ.get("TFAE_CONFORMANCE_CASES")),
                         ids=lambda case: case.name)
def test_tfae_fit_matches_plain_keras(case, tmp_path):
    conformance.run_case(case, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow" or os.environ.get("TFAE_CONFORMANCE_CHILD") == "1",
                    reason="runs each other backend's pass once, from the TensorFlow process")
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_conformance_engine_and_argument_checks_hold_on_the_other_backends(backend):
    # The tests whose outcome depends on the backend: the contract, the engine's paths, and the argument
    # checks (a seed TensorFlow holds overflowed JAX's and PyTorch's seed state).
    run_pytest_on_backend(backend, "tests/test_conformance.py", "tests/test_engine.py",
                          "tests/test_family_engine.py", "tests/test_bad_input.py")
