"""The Keras contract on random combinations of `fit`, `compile` and callback arguments.

`tests/conformance.py` pins one scenario per case; bugs of the engine have
hidden where two arguments meet (a short last batch with several steps per
execution, a stop mid-epoch with validation every other epoch). Each case here
draws a combination from a seed (the test id names it, so a failure reruns
alone with `-k seed_N`) among the arguments both models accept alike, and runs
it through the same harness: same history, weights, optimizer iterations,
callback calls and `evaluate` results as the equivalent plain Keras model.
`TFAE_FUZZ_CASES` sets how many (default 30) and `TFAE_FUZZ_FIRST_SEED` where
they start, for a longer search than CI's. Marked slow.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import keras
import pytest

from tests import conformance

CASES = int(os.environ.get("TFAE_FUZZ_CASES", "30"))
FIRST_SEED = int(os.environ.get("TFAE_FUZZ_FIRST_SEED", "0"))


def draw(seed: int) -> conformance.Case:
    """The case of `seed`: each argument left out or drawn from values both models take alike.

    Left out on purpose: `shuffle=True` (tfae's shuffled orders differ from
    Keras' for the same seed, docs/keras.md) and combinations Keras refuses
    (`validation_split` of a dataset).
    """
    rng = random.Random(seed)
    data = rng.choice(["arrays", "arrays", "arrays", "dataset", "dataset_unknown_length"])
    fit: dict = {"epochs": rng.choice([1, 2, 3, 4]), "batch_size": rng.choice([1, 7, 16, 33, 100, 128])}
    if data != "arrays" and fit["batch_size"] == 1:
        fit["batch_size"] = 5  # a 100-step epoch per dataset pass: slow, and covered by the arrays
    if rng.random() < 0.3:
        fit["initial_epoch"] = rng.randrange(fit["epochs"])
    weighted = rng.random() < 0.4
    targets = rng.random() < 0.3
    validation = rng.choice([None, None, "inputs", "pairs", "weighted", "split"])
    if data != "arrays" and validation == "split":
        validation = "inputs"
    if validation is not None and rng.random() < 0.4:
        fit["validation_freq"] = rng.choice([1, 2])
    if validation not in (None, "split") and rng.random() < 0.3:
        fit["validation_batch_size"] = rng.choice([4, 64])
    if data == "arrays" and rng.random() < 0.1:
        fit["steps_per_epoch"] = rng.choice([2, 5])
    if validation not in (None, "split") and rng.random() < 0.2:
        fit["validation_steps"] = rng.choice([1, 2])
    class_weight = data == "arrays" and rng.random() < 0.1

    compile_kwargs: dict = {}
    if rng.random() < 0.4:
        compile_kwargs["steps_per_execution"] = rng.choice([2, 3, 5])
    if rng.random() < 0.2:
        compile_kwargs["jit_compile"] = False
    loss = rng.choice([None, None, "mse"])
    if loss is not None:
        compile_kwargs["loss"] = loss
    if rng.random() < 0.3:
        compile_kwargs["metrics"] = ["mae", "mse"]

    callback_kinds = [kind for kind in ("steps", "stop", "early_stopping", "plateau", "checkpoint", "csv",
                                        "go_on", "train_on_batch", "freeze") if rng.random() < 0.15]
    stop_at = (rng.randrange(fit["epochs"]), rng.randrange(4))
    evaluate = rng.choice([None, "plain", "weighted"])

    def fit_arguments(d: dict) -> dict:
        arguments = dict(fit)
        if weighted:
            arguments["sample_weight"] = d["w"]
        if validation == "inputs":
            arguments["validation_data"] = d["x_val"]
        elif validation == "pairs":
            arguments["validation_data"] = (d["x_val"], d["x_val"][::-1].copy())
        elif validation == "weighted":
            arguments["validation_data"] = (d["x_val"], d["x_val"], d["w_val"])
        elif validation == "split":
            arguments["validation_split"] = 0.2
        if class_weight:
            arguments["class_weight"] = {i: 1.0 + i % 3 for i in range(conformance.FEATURES)}
        return arguments

    def callbacks(d: dict, folder) -> list:
        made = {
            "steps": lambda: conformance.StepRecorder(),
            "stop": lambda: conformance.StopAt(*stop_at),
            "early_stopping": lambda: keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=0.02),
            "plateau": lambda: keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
                                                                 min_delta=1.0),
            "checkpoint": lambda: conformance._checkpoint(folder, save_freq=3),
            "csv": lambda: keras.callbacks.CSVLogger(str(folder / "log.csv")),
            "go_on": lambda: conformance.GoOnAfterStop(batch=stop_at[1]),
            "train_on_batch": lambda: conformance.TrainOnBatch(d["x"][:8]),
            "freeze": lambda: conformance.FreezeAfterFirstEpoch(),
        }
        return [made[kind]() for kind in callback_kinds]

    def evaluate_arguments(d: dict) -> dict:
        arguments = {"x": d["x_val"], "batch_size": 8}
        if evaluate == "weighted":
            arguments["sample_weight"] = d["w_val"]
        return arguments

    return conformance.Case(
        f"seed_{seed}", compile=lambda: dict(compile_kwargs), fit=fit_arguments, callbacks=callbacks,
        targets=targets, evaluate=None if evaluate is None else evaluate_arguments, data=data,
    )


def describe(case: conformance.Case) -> str:
    """The drawn arguments, for the failure message."""
    d = conformance.data()
    return (f"data={case.data}, targets={case.targets}, compile={case.compile()}, "
            f"fit={sorted(case.fit(d))} {({k: v for k, v in case.fit(d).items() if not hasattr(v, 'shape')})}, "
            f"callbacks={[type(cb).__name__ for cb in case.callbacks(d, Path('.'))]}, "
            f"evaluate={case.evaluate is not None}")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + CASES), ids=lambda seed: f"seed_{seed}")
def test_tfae_fit_matches_plain_keras_on_drawn_arguments(seed, tmp_path):
    case = draw(seed)
    try:
        conformance.run_case(case, tmp_path)
    except AssertionError as error:
        raise AssertionError(f"{describe(case)}\n{error}") from None


def test_draws_are_reproducible_and_vary():
    # The same seed draws the same arguments (a failure reruns alone); seeds differ.
    assert describe(draw(3)) == describe(draw(3))
    assert len({describe(draw(seed)) for seed in range(20)}) == 20
