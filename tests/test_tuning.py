import json
import os
import socket
import subprocess
import sys

import keras
import keras_tuner as kt
import numpy as np
import pytest

import tfae
from tests.conftest import REPO
from tfae import tuning


@pytest.fixture
def tiny(small_digits):
    (x_train, _), (x_val, _) = small_digits
    return x_train[:128], x_val[:32]


def tiny_hypermodel(**kwargs):
    return tuning.AutoEncoderHyperModel(
        input_shape=(784,), latent_dims=(4, 8), max_hidden_layers=1, hidden_units=(8, 16), **kwargs
    )


def all_completed(tuner):
    return [t.status for t in tuner.oracle.trials.values()]


def test_default_hyperparameters_are_the_articles_model():
    hp = kt.HyperParameters()
    model = tuning.AutoEncoderHyperModel(input_shape=(784,)).build(hp)
    assert hp.values == {
        "latent_dim": 128,
        "num_hidden_layers": 1,
        "units_0": 256,
        "activation": "relu",
        "dropout": 0.0,
        "learning_rate": 0.001,
        "loss": "sigmoid_cross_entropy",
    }
    assert isinstance(model, tfae.AutoEncoder) and model.compiled
    assert model.latent_dim == 128 and model.encoder.hidden_units == (256,)


def test_numpy_integers_in_the_search_space_are_taken_as_python_integers():
    hypermodel = tuning.AutoEncoderHyperModel(input_shape=(784,), latent_dims=(np.int64(8), np.int32(16)),
                                              hidden_units=(np.int64(32),), max_hidden_layers=np.int32(2))
    assert (hypermodel.latent_dims, hypermodel.hidden_units, hypermodel.max_hidden_layers) == ((8, 16), (32,), 2)
    assert type(hypermodel.max_hidden_layers) is int
    hp = kt.HyperParameters()
    hypermodel.build(hp)
    assert {name: type(value) for name, value in hp.values.items() if name in ("latent_dim", "units_0",
                                                                                "num_hidden_layers")} == {
        "latent_dim": int, "units_0": int, "num_hidden_layers": int}
    json.dumps(hp.get_config())  # keras-tuner writes the search space as JSON: no numpy scalar in it


def test_every_hyperparameter_shapes_the_built_model():
    hp = kt.HyperParameters()
    hp.Fixed("latent_dim", 32)
    hp.Fixed("num_hidden_layers", 2)
    hp.Fixed("units_0", 512)
    hp.Fixed("units_1", 64)
    hp.Fixed("activation", "tanh")
    hp.Fixed("dropout", 0.2)
    hp.Fixed("learning_rate", 0.01)
    hp.Fixed("loss", "mse")
    model = tuning.AutoEncoderHyperModel(input_shape=(28, 28, 1), losses=("sigmoid_cross_entropy", "mse")).build(hp)
    assert model.encoder.hidden_units == (512, 64) and model.decoder.hidden_units == (64, 512)
    assert model.latent_dim == 32 and model.encoder.activation == "tanh" and model.dropout == 0.2
    assert model.loss == "mse" and float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model.sample_shape == (28, 28, 1)


class _BuildOnly(kt.RandomSearch):
    """A random search that builds each trial's model and scores it without training."""

    def run_trial(self, trial, *args, **kwargs):
        model = self.hypermodel.build(trial.hyperparameters)
        return float(model.count_params())


def test_a_trial_holds_only_the_hidden_widths_its_depth_uses(tmp_path):
    hypermodel = tuning.AutoEncoderHyperModel(input_shape=(16,), latent_dims=(2, 3), hidden_units=(4, 5, 6, 7, 8))
    tuner = _BuildOnly(hypermodel, objective=kt.Objective("score", "min"), max_trials=12, seed=3,
                       directory=tmp_path, project_name="depths")
    tuner.search(verbose=0)
    trials = list(tuner.oracle.trials.values())
    depths = {t.hyperparameters.values["num_hidden_layers"] for t in trials}
    assert depths == {0, 1, 2}, "the seed must give every depth"
    for trial in trials:
        values = trial.hyperparameters.values
        used = {f"units_{i}" for i in range(values["num_hidden_layers"])}
        assert {name for name in values if name.startswith("units_")} == used, values
        assert trial.status == "COMPLETED"


def test_a_width_the_user_fixes_for_the_tuner_holds_in_every_trial(tmp_path):
    hp = kt.HyperParameters()
    hp.Fixed("units_0", 6)
    hypermodel = tuning.AutoEncoderHyperModel(input_shape=(8,), latent_dims=(2,), hidden_units=(4, 5, 6))
    built = []

    class Recording(_BuildOnly):
        def run_trial(self, trial, *args, **kwargs):
            model = self.hypermodel.build(trial.hyperparameters)
            built.append((trial.hyperparameters.values["num_hidden_layers"], model.encoder.hidden_units))
            return float(model.count_params())

    tuner = Recording(hypermodel, objective=kt.Objective("score", "min"), max_trials=8, seed=1,
                      hyperparameters=hp, directory=tmp_path, project_name="fixed")
    tuner.search(verbose=0)
    assert {depth for depth, _ in built} >= {1, 2}, built
    assert all(units[0] == 6 for depth, units in built if depth > 0), built


# Random search in the README's suite; Hyperband and Bayesian optimisation (the heaviest) in the slow suite.
@pytest.mark.parametrize(
    "make_tuner",
    [
        lambda hm, d: kt.RandomSearch(hm, objective="val_loss", max_trials=2, directory=d, seed=1),
        pytest.param(lambda hm, d: kt.Hyperband(hm, objective="val_loss", max_epochs=2, factor=2,
                                                hyperband_iterations=1, directory=d, seed=1), marks=pytest.mark.slow),
        pytest.param(lambda hm, d: kt.BayesianOptimization(hm, objective="val_loss", max_trials=2,
                                                           num_initial_points=1, directory=d, seed=1),
                     marks=pytest.mark.slow),
    ],
    ids=["random", "hyperband", "bayesian"],
)
def test_search_with_inputs_only_completes_and_reloads_exact_weights(tmp_path, tiny, make_tuner):
    x_train, x_val = tiny
    tuner = make_tuner(tiny_hypermodel(), str(tmp_path))
    tuner.search(x_train, validation_data=x_val, epochs=1, batch_size=32, verbose=0)
    statuses = all_completed(tuner)
    assert statuses and set(statuses) == {"COMPLETED"}
    best = tuner.get_best_models(1)[0]
    assert isinstance(best, tfae.AutoEncoder)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    # The reloaded weights reproduce the trial's recorded validation loss.
    assert best.evaluate(x_val, batch_size=32, verbose=0, return_dict=True)["loss"] == pytest.approx(
        best_trial.score, rel=1e-5
    )
    assert best.encode(x_val).shape[0] == len(x_val)
    rebuilt = tuner.hypermodel.build(tuner.get_best_hyperparameters(1)[0])
    assert rebuilt.get_config() == best.get_config()


@keras.saving.register_keras_serializable(package="tuning_tests")
class WeightDecayAutoEncoder(tfae.AutoEncoder):
    """A user's own subclass, defined outside tfae."""

    def __init__(self, *args, decay=1e-4, **kwargs):
        super().__init__(*args, **kwargs)
        self.decay = decay

    def call(self, inputs, training=None):
        self.add_loss(self.decay * keras.ops.sum(self.encoder.bottleneck.kernel ** 2))
        return super().call(inputs, training=training)

    def get_config(self):
        return {**super().get_config(), "decay": self.decay}


class UserHyperModel(kt.HyperModel):
    def build(self, hp):
        model = WeightDecayAutoEncoder(
            input_shape=(784,), latent_dim=hp.Choice("latent_dim", [4, 8]), decay=hp.Float("decay", 1e-5, 1e-3,
                                                                                        sampling="log"))
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")))
        return model


class SubclassingHyperModel(tuning.AutoEncoderHyperModel):
    def build(self, hp):
        base = super().build(hp)
        model = WeightDecayAutoEncoder(input_shape=(784,), latent_dim=base.latent_dim,
                                       hidden_units=base.hidden_units, decay=hp.Choice("decay", [1e-4, 1e-3]))
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        return model


@pytest.mark.parametrize("hypermodel", [UserHyperModel(), SubclassingHyperModel(input_shape=(784,),
                                        latent_dims=(4, 8), max_hidden_layers=0)], ids=["own", "subclassed"])
def test_a_users_autoencoder_subclass_can_be_tuned(tmp_path, tiny, hypermodel):
    x_train, x_val = tiny
    tuner = kt.RandomSearch(hypermodel, objective="val_loss", max_trials=2, directory=str(tmp_path), seed=2)
    tuner.search(x_train, validation_data=x_val, epochs=1, batch_size=32, verbose=0)
    assert set(all_completed(tuner)) == {"COMPLETED"}
    best = tuner.get_best_models(1)[0]
    assert type(best) is WeightDecayAutoEncoder
    score = tuner.oracle.get_best_trials(1)[0].score
    assert best.evaluate(x_val, batch_size=32, verbose=0, return_dict=True)["loss"] == pytest.approx(score, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"latent_dims": ()}, r"Received: latent_dims=\(\)"),
        ({"latent_dims": (0, 8)}, "Received: latent_dims=\\(0, 8\\)"),
        ({"max_hidden_layers": -1}, "Received: max_hidden_layers=-1"),
        ({"activations": ("relu", "nope")}, "Received: activations='nope'"),
        ({"max_dropout": 1.5}, "Received: max_dropout=1.5"),
        ({"max_dropout": 0.05}, r"^Expected `max_dropout` to be 0 \(no dropout\) or in \[0\.1, 1\) \(the search steps "
                                r"by 0\.1\)\. Received: max_dropout=0\.05$"),
        ({"learning_rates": (1e-2, 1e-4)}, "Received: learning_rates="),
        ({"losses": ("hinge",)}, "Received: losses="),
        ({"dtype": "float17"}, r"^Expected `dtype` to be a Keras dtype policy or its name \(\"float32\", "
                               r"\"mixed_float16\", \.\.\.\), or None\. Received: dtype='float17'$"),
    ],
)
def test_bad_search_space_arguments_get_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tuning.AutoEncoderHyperModel(input_shape=(784,), **kwargs)


def test_a_dtype_policy_given_to_the_hypermodel_holds_in_every_trial_though_keras_tuner_clears_the_session(
        tmp_path, tiny):
    # keras-tuner's clear_session() before each trial resets a global policy; the hypermodel's own holds.
    x_train, x_val = tiny
    hypermodel = tiny_hypermodel(dtype="mixed_float16")
    built = hypermodel.build(kt.HyperParameters())
    assert built.dtype_policy.name == "mixed_float16"
    assert isinstance(built.optimizer, keras.optimizers.LossScaleOptimizer)  # Keras' choice for that policy
    tuner = kt.RandomSearch(hypermodel, objective="val_loss", max_trials=1, directory=str(tmp_path), seed=1)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        tuner.search(x_train, validation_data=x_val, epochs=1, batch_size=32, verbose=0)
        assert keras.mixed_precision.global_policy().name == "float32"  # what keras-tuner's clear_session did
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all_completed(tuner) == ["COMPLETED"]
    assert tuner.get_best_models(1)[0].dtype_policy.name == "mixed_float16"
    assert tiny_hypermodel().build(kt.HyperParameters()).dtype_policy.name == "float32"  # None: the global one


def test_cli_tune_writes_best_hyperparameters_model_and_trials(tmp_path):
    from tfae import cli

    assert cli.main(["tune", "--max-trials", "2", "--epochs", "1", "--samples", "128", "--out", str(tmp_path)]) == 0
    best = json.loads((tmp_path / "best_hyperparameters.json").read_text())
    assert set(best) >= {"latent_dim", "num_hidden_layers", "activation", "learning_rate", "loss"}
    rows = (tmp_path / "trials.csv").read_text().splitlines()
    assert rows[0].startswith("trial_id,status,score") and len(rows) == 3
    assert all(",COMPLETED," in row for row in rows[1:])
    assert isinstance(keras.models.load_model(tmp_path / "best_model.keras"), tfae.AutoEncoder)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # a chief and two worker processes: the slow suite's multi-worker runs
def test_distributed_search_with_a_chief_and_two_workers(tmp_path):
    env = {**os.environ, "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(free_port()),
           "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    script = [sys.executable, str(REPO / "tests" / "distributed_tuner.py"), str(tmp_path)]
    chief = subprocess.Popen(script, env={**env, "KERASTUNER_TUNER_ID": "chief"}, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    workers = [
        subprocess.Popen(script, env={**env, "KERASTUNER_TUNER_ID": f"tuner{i}"}, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for i in range(2)
    ]
    try:
        outputs = [w.communicate(timeout=240)[0] for w in workers]
        chief_output = chief.communicate(timeout=120)[0]
    finally:
        for process in [chief, *workers]:
            process.kill()
    assert all(w.returncode == 0 for w in workers), outputs
    ran_by = (tmp_path / "ran_by.txt").read_text().split()
    assert set(ran_by) == {"tuner0", "tuner1"} and len(ran_by) == 4
    assert "CHIEF TRIALS COMPLETED COMPLETED COMPLETED COMPLETED" in chief_output, chief_output
