"""The Keras contract: tfae and the equivalent plain Keras model agree on every `fit`/`evaluate` argument.

Runs every case of `tests/conformance.py` on this process' backend, and the
whole module again on JAX in a subprocess (the TensorFlow process cannot
switch backends). Marked slow: `.ci/run` runs it right after the README's test
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
                    reason="runs the JAX pass once, from the TensorFlow process")
def test_conformance_and_engine_hold_on_jax():
    run_pytest_on_backend("jax", "tests/test_conformance.py", "tests/test_engine.py", "tests/test_family_engine.py")
