"""keras-tuner integration: a HyperModel that searches `tfae.AutoEncoder` architectures.

Imported on first use of `tfae.tuning`, so `import tfae` never imports keras-tuner.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from tfae import _validation
from tfae.models import AutoEncoder

__all__ = ["AutoEncoderHyperModel", "trials_table", "write_search_results"]

_LOSSES = ("sigmoid_cross_entropy", "mse")


def _choices(values: Any, name: str, *, kind: type | tuple = numbers.Number) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"Expected `{name}` to be a non-empty sequence. Received: {name}={values!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ValueError(f"Expected `{name}` to hold values of type {kind}. Received: {name}={values!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"Expected `{name}` without repeated values. Received: {name}={values!r}")
    return tuple(values)


class AutoEncoderHyperModel(kt.HyperModel):
    """Searches dense `tfae.AutoEncoder` architectures and training settings.

    The search space (each hyperparameter's name, and its default, which is
    the article's model trained the tfae way):

    | name | values | default |
    | --- | --- | --- |
    | `latent_dim` | `latent_dims` | 128 if offered, else the middle choice |
    | `num_hidden_layers` | 0 to `max_hidden_layers` | 1 (0 if `max_hidden_layers` is 0) |
    | `units_{i}` (i < num_hidden_layers) | `hidden_units` | 256 if offered, else the largest |
    | `activation` | `activations` | the first (`"relu"`) |
    | `dropout` | 0 to `max_dropout`, step 0.1 | 0.0 |
    | `learning_rate` | log-uniform in `learning_rates` | 1e-3 |
    | `loss` | `losses` | the first (`"sigmoid_cross_entropy"`) |

    `units_i` is the width of the i-th encoder layer from the input; the
    decoder mirrors it. It is conditional on `num_hidden_layers`
    (`hp.conditional_scope`), so a tuner's trials hold only the widths they
    use. `build(hp)` returns a compiled model (Adam, MSE metric)
    whose optimizer is already built, so the best model reloads with its
    optimizer state.

    Args:
        input_shape: shape of one sample, e.g. `(784,)` or `(28, 28, 1)`.
        latent_dims: code sizes to try.
        max_hidden_layers: the most hidden layers on each side.
        hidden_units: widths to try for each hidden layer.
        activations: hidden activations to try.
        max_dropout: the largest dropout rate to try, 0 (dropout off) or in
            [0.1, 1): the rates tried are 0, 0.1, ... up to it.
        learning_rates: `(low, high)` bounds of Adam's learning rate.
        losses: losses to try, among `"sigmoid_cross_entropy"` (the default,
            alone) and `"mse"`. Losses of different kinds are not comparable:
            when you search over both, use `objective="val_mse"` (every model
            reports MSE) instead of `"val_loss"`.
        output_activation: the reconstruction's activation (fixed).
        dtype: the models' dtype policy (fixed), e.g. `"mixed_float16"`;
            None for Keras' global policy. keras-tuner clears Keras' session
            before each trial, which resets a global policy set with
            `keras.mixed_precision.set_global_policy`: give it here instead.
        name, tunable: as for `keras_tuner.HyperModel`.

    Example:

    ```python
    import keras_tuner as kt

    hypermodel = tfae.tuning.AutoEncoderHyperModel(input_shape=(784,))
    model = hypermodel.build(kt.HyperParameters())        # every hyperparameter at its default
    assert isinstance(model, tfae.AutoEncoder)
    ```
    """

    def __init__(
        self,
        input_shape: int | Sequence[int],
        *,
        latent_dims: Sequence[int] = (16, 32, 64, 128),
        max_hidden_layers: int = 2,
        hidden_units: Sequence[int] = (64, 128, 256, 512),
        activations: Sequence[str] = ("relu", "elu", "tanh"),
        max_dropout: float = 0.3,
        learning_rates: tuple[float, float] = (1e-4, 1e-2),
        losses: Sequence[str] = ("sigmoid_cross_entropy",),
        output_activation: str | None = "sigmoid",
        dtype: str | keras.DTypePolicy | None = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        self.input_shape = _validation.shape_tuple(input_shape, "input_shape")
        self.latent_dims = _validation.units_tuple(_choices(latent_dims, "latent_dims", kind=numbers.Integral), "latent_dims")
        if (isinstance(max_hidden_layers, bool) or not isinstance(max_hidden_layers, numbers.Integral)
                or max_hidden_layers < 0):
            raise ValueError(
                f"Expected `max_hidden_layers` to be an integer >= 0. Received: max_hidden_layers={max_hidden_layers!r}"
            )
        self.max_hidden_layers = int(max_hidden_layers)
        self.hidden_units = _validation.units_tuple(_choices(hidden_units, "hidden_units", kind=numbers.Integral), "hidden_units")
        self.activations = _choices(activations, "activations", kind=str)
        for activation in self.activations:
            _validation.activation(activation, "activations")
        if (isinstance(max_dropout, bool) or not isinstance(max_dropout, numbers.Real)
                or not (max_dropout == 0 or 0.1 <= max_dropout < 1)):
            raise ValueError("Expected `max_dropout` to be 0 (no dropout) or in [0.1, 1) (the search steps by 0.1). "
                             f"Received: max_dropout={max_dropout!r}")
        self.max_dropout = float(max_dropout)
        try:
            low, high = learning_rates
        except (TypeError, ValueError):
            low = high = None
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and v > 0 for v in (low, high)) or low > high:
            raise ValueError(
                "Expected `learning_rates` to be (low, high) with 0 < low <= high. "
                f"Received: learning_rates={learning_rates!r}"
            )
        self.learning_rates = (float(low), float(high))
        self.losses = _choices(losses, "losses", kind=str)
        for loss in self.losses:
            if loss not in _LOSSES:
                raise ValueError(f"Expected `losses` among {list(_LOSSES)}. Received: losses={losses!r}")
        _validation.activation(output_activation, "output_activation")
        self.output_activation = output_activation
        if dtype is not None:
            try:
                keras.dtype_policies.get(dtype)
            except (ValueError, TypeError) as error:
                raise ValueError("Expected `dtype` to be a Keras dtype policy or its name (\"float32\", "
                                 f"\"mixed_float16\", ...), or None. Received: dtype={dtype!r}") from error
        self.dtype = dtype

    def _default_learning_rate(self) -> float:
        low, high = self.learning_rates
        return min(max(1e-3, low), high)

    def build(self, hp: kt.HyperParameters) -> AutoEncoder:
        latent_default = 128 if 128 in self.latent_dims else sorted(self.latent_dims)[len(self.latent_dims) // 2]
        latent_dim = hp.Choice("latent_dim", list(self.latent_dims), default=latent_default)
        num_hidden_layers = hp.Int(
            "num_hidden_layers", 0, self.max_hidden_layers, default=min(1, self.max_hidden_layers)
        )
        units_default = 256 if 256 in self.hidden_units else max(self.hidden_units)
        # A width the user declared up front (`hp.Fixed("units_0", 512)` given to the tuner) is unconditional:
        # declared so again, it is that very hyperparameter, and its value holds.
        declared = {p.name for p in hp.space if not p.conditions}
        hidden_units = []
        for i in range(num_hidden_layers):
            name = f"units_{i}"
            # Otherwise conditional on the depth, so a trial's values hold only the widths it uses: the oracles
            # then neither show nor vary an unused `units_i` (two trials differing there alone are one).
            condition = (contextlib.nullcontext() if name in declared else
                         hp.conditional_scope("num_hidden_layers", list(range(i + 1, self.max_hidden_layers + 1))))
            with condition:
                hidden_units.append(hp.Choice(name, list(self.hidden_units), default=units_default))
        activation = hp.Choice("activation", list(self.activations))
        dropout = 0.0
        if self.max_dropout > 0:
            top = math.floor(self.max_dropout * 10 + 1e-9) / 10  # >= 0.1, as the constructor checks
            dropout = hp.Float("dropout", 0.0, top, step=0.1, default=0.0)
        learning_rate = hp.Float(
            "learning_rate", *self.learning_rates, sampling="log", default=self._default_learning_rate()
        )
        loss = hp.Choice("loss", list(self.losses))

        model = AutoEncoder(
            input_shape=self.input_shape,
            latent_dim=latent_dim,
            hidden_units=tuple(hidden_units),
            activation=activation,
            output_activation=self.output_activation,
            dropout=round(dropout, 6),
            dtype=self.dtype,
        )
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["mse"])
        # Building the optimizer now lets keras-tuner's weight checkpoints restore
        # its state into the best model too, instead of skipping it with a warning.
        model.optimizer.build(model.trainable_variables)
        return model


def trials_table(tuner: kt.engine.base_tuner.BaseTuner) -> list[dict[str, Any]]:
    """One row per trial: id, status, score and every hyperparameter value, best first.

    Args:
        tuner: a keras-tuner tuner after `search`.

    Returns:
        A list of dicts with `trial_id`, `status`, `score` and one key per hyperparameter.

    Example:

    ```python
    import keras_tuner as kt

    tuner = kt.RandomSearch(tfae.tuning.AutoEncoderHyperModel(input_shape=(784,)), objective="val_loss",
                            max_trials=1, directory="runs", project_name="table")
    tuner.search(x_train, validation_data=x_test, epochs=1, verbose=0)
    rows = tfae.tuning.trials_table(tuner)                # best first
    assert rows[0]["status"] == "COMPLETED"
    ```
    """
    sign = -1.0 if tuner.oracle.objective.direction == "max" else 1.0
    trials = sorted(
        tuner.oracle.trials.values(),
        key=lambda t: (t.score is None, sign * t.score if t.score is not None else 0.0, t.trial_id),
    )
    return [
        {"trial_id": t.trial_id, "status": t.status, "score": t.score, **t.hyperparameters.values}
        for t in trials
    ]


def write_search_results(tuner: kt.engine.base_tuner.BaseTuner, out: str | Path) -> dict[str, Path]:
    """Write `best_hyperparameters.json`, `best_model.keras` and `trials.csv` into folder `out`.

    Args:
        tuner: a keras-tuner tuner after `search`.
        out: the folder to write into.

    Returns:
        `{"hyperparameters": path, "model": path, "trials": path}` of the files written.

    Raises:
        RuntimeError: when no trial completed (keras-tuner's own `search()`
            returns quietly when every trial failed).

    Example:

    ```python
    import keras_tuner as kt

    tuner = kt.RandomSearch(tfae.tuning.AutoEncoderHyperModel(input_shape=(784,)), objective="val_loss",
                            max_trials=1, directory="runs", project_name="results")
    tuner.search(x_train, validation_data=x_test, epochs=1, verbose=0)
    paths = tfae.tuning.write_search_results(tuner, "results")
    assert paths["model"].is_file()
    ```
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = trials_table(tuner)
    completed = [row for row in rows if row["status"] == "COMPLETED"]
    if not completed:
        statuses = sorted({row["status"] for row in rows}) or ["no trials"]
        raise RuntimeError(
            f"No trial completed (statuses: {', '.join(statuses)}); see the trial logs in '{tuner.project_dir}'."
        )
    best_hp = tuner.get_best_hyperparameters(1)[0]
    paths = {
        "hyperparameters": out / "best_hyperparameters.json",
        "model": out / "best_model.keras",
        "trials": out / "trials.csv",
    }
    paths["hyperparameters"].write_text(json.dumps(best_hp.values, indent=2, sort_keys=True) + "\n")
    tuner.get_best_models(1)[0].save(paths["model"])
    columns = ["trial_id", "status", "score"] + sorted({k for row in rows for k in row} - {"trial_id", "status", "score"})
    with paths["trials"].open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return paths
