"""The Keras contract, as a harness: a tfae model and the equivalent plain Keras model, same weights.

`run_case(case)` builds `tfae.AutoEncoder(input_shape=(12,), latent_dim=3,
hidden_units=(6,))` and the functional Keras model a user would write for it
(Dense 6 relu, Dense 3 "bottleneck", Dense 6 relu, Dense 12 sigmoid, binary
cross-entropy), gives them the same weights, runs the same `fit` /
`evaluate` calls with the same callbacks on both, and asserts the same
history, weights, optimizer iterations, evaluate results and callback calls.
Backend-agnostic: `tests/test_conformance.py` runs it on the backend of the
process (and on JAX in a subprocess).
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

import tfae

FEATURES = 12
RTOL, ATOL = 1e-5, 1e-6


def data(n: int = 100, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.random((n, FEATURES), dtype=np.float32),
        "y": rng.random((n, FEATURES), dtype=np.float32),  # other targets (a denoiser's clean images)
        "w": rng.random(n, dtype=np.float32) * 2,
        "x_val": rng.random((30, FEATURES), dtype=np.float32),
        "w_val": rng.random(30, dtype=np.float32),
    }


# ----------------------------------------------------------------- recording callbacks
class EpochRecorder(keras.callbacks.Callback):
    """Records every epoch-, train- and test-level call with its logs (no batch hooks: the fast path stays on)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def _record(self, hook, index=None, logs=None):
        self.calls.append((hook, index, dict(logs or {})))

    def on_train_begin(self, logs=None):
        self._record("train_begin", None, logs)

    def on_train_end(self, logs=None):
        self._record("train_end", None, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record("epoch_end", epoch, logs)

    def on_test_begin(self, logs=None):
        self._record("test_begin", None, logs)

    def on_test_end(self, logs=None):
        self._record("test_end", None, logs)


class StepRecorder(EpochRecorder):
    """Also records every batch hook, with the model's first weight at that moment."""

    def _weight(self):
        return float(keras.ops.convert_to_numpy(self.model.trainable_weights[0]).ravel()[0])

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("train_batch_begin", batch, {"weight": self._weight()}))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("train_batch_end", batch, {**(logs or {}), "weight": self._weight()}))

    def on_test_batch_end(self, batch, logs=None):
        self._record("test_batch_end", batch, logs)


class StopAt(keras.callbacks.Callback):
    """Sets `stop_training` after a given batch of a given epoch."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.model.stop_training = True


class TrainOnBatch(keras.callbacks.Callback):
    """Calls `train_on_batch` on explicit targets after batch `batch` (2) of every epoch; records the results."""

    def __init__(self, x: np.ndarray, batch: int = 2) -> None:
        super().__init__()
        self.x = x
        self.batch = batch
        self.results: list = []

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.batch:
            self.results.append(self.model.train_on_batch(self.x, self.x, return_dict=True))


class StopAtEpochBegin(keras.callbacks.Callback):
    """Sets `stop_training` before the first step of an epoch (a time budget, say): Keras still runs one step."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            self.model.stop_training = True


class GoOnAfterStop(keras.callbacks.Callback):
    """Stops epoch `epoch` (the first; at its beginning, so Keras runs one step, or after batch `batch`), then
    clears `stop_training` at every epoch's end: Keras begins the next epoch at its first batch."""

    def __init__(self, batch: int | None = None, epoch: int = 0) -> None:
        super().__init__()
        self.batch = batch
        self.stop_epoch = epoch
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if epoch == self.stop_epoch and self.batch is None:
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        if self.batch is not None and (self.epoch, batch) == (self.stop_epoch, self.batch):
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = False


class FreezeAfterFirstEpoch(keras.callbacks.Callback):
    """Freezes the first Dense layer after epoch `epoch` (0) and remakes the train function, as Keras' docs of
    `Layer.trainable` prescribe: the layer's weights must not move from then on.

    Not on JAX, where Keras' own trainer refuses a changed trainable set once its optimizer is built (and
    tfae's with it: `test_engine.py` checks that both refuse alike).
    """

    def __init__(self, epoch: int = 0) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch and keras.backend.backend() != "jax":
            first = self.model.trainable_variables[0]
            from tfae import _keras_private

            layer = next(layer for layer in _keras_private.nested_layers(self.model)
                         if isinstance(layer, keras.layers.Dense) and layer.kernel is first)
            layer.trainable = False
            self.model.make_train_function(force=True)


class CheckpointThatStops(keras.callbacks.ModelCheckpoint):
    """A subclass of an epoch-level checkpoint that acts on single steps."""

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if batch == 2:
            self.model.stop_training = True


class HookInstalledLate(keras.callbacks.Callback):
    """Installs a batch hook only once Keras sets the model, as a callback configured by its model might.

    A begin hook: Keras decides before `set_model` whether batch-end hooks may
    run on a thread, so a late end hook would run there and stop Keras itself
    at a racy step (and, in Keras 3.10 on JAX, read a donated array).
    """

    def set_model(self, model):
        super().set_model(model)
        self.on_train_batch_begin = self._stop_at_3

    def _stop_at_3(self, batch, logs=None):
        if batch == 3:
            self.model.stop_training = True


class NestedFit(keras.callbacks.Callback):
    """Fits the model on a few explicit pairs at the end of the epochs `at_epochs` (the first), inside the outer fit."""

    def __init__(self, x: np.ndarray, at_epochs: tuple[int, ...] = (0,)) -> None:
        super().__init__()
        self.x = x
        self.at_epochs = at_epochs
        self.histories: list = []

    def on_epoch_end(self, epoch, logs=None):
        if epoch in self.at_epochs:
            history = self.model.fit(self.x, self.x, epochs=2, batch_size=8, shuffle=False, verbose=0)
            self.histories.append(history.history)


class InterruptAt(keras.callbacks.Callback):
    """Raises at the start of one epoch, as a crash would."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"interrupted at epoch {epoch}")


# ----------------------------------------------------------------------------- models
def tfae_model(compile_kwargs: dict[str, Any]) -> tfae.AutoEncoder:
    model = tfae.AutoEncoder(input_shape=(FEATURES,), latent_dim=3, hidden_units=(6,))
    model.compile(**compile_kwargs)
    return model


def plain_model(twin: keras.Model, compile_kwargs: dict[str, Any]) -> keras.Model:
    """The Keras model a user would write for `twin`, compiled alike, with `twin`'s weights."""
    inputs = keras.Input((FEATURES,))
    h = keras.layers.Dense(6, activation="relu")(inputs)
    z = keras.layers.Dense(3, name="bottleneck")(h)
    h = keras.layers.Dense(6, activation="relu")(z)
    outputs = keras.layers.Dense(FEATURES, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    kwargs = dict(compile_kwargs)
    kwargs.setdefault("optimizer", "adam")
    kwargs.setdefault("loss", "binary_crossentropy")
    kwargs.setdefault("metrics", ["mse"])
    kwargs.setdefault("jit_compile", twin.jit_compile)  # same kernels, so differences are semantic only
    model.compile(**kwargs)
    model.set_weights(twin.get_weights())
    return model


# ------------------------------------------------------------------------------ cases
@dataclasses.dataclass
class Case:
    """One scenario: compile arguments, `fit` arguments and callbacks, run on both models.

    Arguments are given as tfae takes them; `plain_fit_arguments` spells them
    as plain Keras needs them (explicit targets). Factories are called once
    per model, with the data and a fresh folder.
    """

    name: str
    compile: Callable[[], dict[str, Any]] = dict
    fit: Callable[[dict], dict[str, Any]] = lambda d: {}
    callbacks: Callable[[dict, Path], list] = lambda d, folder: []
    targets: bool = False  # pass y=d["y"] (other targets than the inputs)
    evaluate: Callable[[dict], dict[str, Any]] | None = None
    tolerance: float = RTOL
    interrupted: bool = False  # the first fit is interrupted, a second one resumes
    tfae_compile: Callable[[], dict[str, Any]] | None = None  # when tfae's spelling differs
    dtype_policy: str | None = None  # a global Keras dtype policy for both models (mixed precision)
    # How `fit` gets its data: "arrays", or a batched `tf.data.Dataset` ("dataset"; "dataset_shuffled",
    # reshuffled every epoch; "dataset_unknown_length", whose length Keras learns when it runs out;
    # "dataset_growing", of unknown length and one batch longer each epoch).
    data: str = "arrays"


def _plain_validation(value):
    if isinstance(value, np.ndarray):
        return (value, value)
    if isinstance(value, tuple) and len(value) == 1:
        return (value[0], value[0])
    if isinstance(value, tuple) and len(value) == 3 and value[1] is None:
        return (value[0], value[0], value[2])
    return value


def _fit(model, d, case: Case, folder: Path, *, plain: bool):
    arguments = {"epochs": 3, "batch_size": 16, "shuffle": False, "verbose": 0, **case.fit(d)}
    x = d["x"]
    y = d["y"] if case.targets else (x if plain else None)
    if plain and "validation_data" in arguments:
        arguments["validation_data"] = _plain_validation(arguments["validation_data"])
    if case.data != "arrays":
        x, y = _dataset(case.data, x, y, arguments), None
    recorder_kind = StepRecorder if any(isinstance(cb, StepRecorder) for cb in case.callbacks(d, folder)) \
        else EpochRecorder
    callbacks = [cb for cb in case.callbacks(d, folder) if not isinstance(cb, StepRecorder)]
    recorder = recorder_kind()
    history = None
    if case.interrupted:
        try:
            model.fit(x, y, callbacks=[*callbacks, InterruptAt(1)], **arguments)
        except KeyboardInterrupt:
            pass
        callbacks = [cb for cb in case.callbacks(d, folder) if not isinstance(cb, StepRecorder)]
    history = model.fit(x, y, callbacks=[*callbacks, recorder], **arguments)
    result = {
        "history": history.history,
        "epochs": history.epoch,
        "weights": model.get_weights(),
        "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        "calls": recorder.calls,
        "extra": [_extra(cb) for cb in callbacks],
        "files": sorted(_file_name(p, folder) for p in folder.rglob("*") if p.is_file() and "backup" not in p.parts),
    }
    if case.evaluate is not None:
        evaluate = dict(case.evaluate(d))
        if plain and evaluate.get("y") is None:
            evaluate["y"] = evaluate["x"]
        result["evaluate"] = model.evaluate(**evaluate, verbose=0, return_dict=True)
    return result


def _dataset(kind: str, x: np.ndarray, y: np.ndarray | None, arguments: dict[str, Any]):
    """`fit`'s data and arguments as a batched `tf.data.Dataset` (validation data too), as a user would pass them.

    The dataset's elements are `x`, `(x, y)` or `(x, y, sample_weight)`
    (targets `x` where sample weights need a place); `batch_size` goes, as
    Keras takes none with a dataset; `steps_per_epoch` gets an endless
    dataset, as Keras needs.
    """
    import tensorflow as tf

    batch_size = arguments.pop("batch_size")
    weights = arguments.pop("sample_weight", None)
    if weights is not None:
        elements = (x, x if y is None else y, weights)
    else:
        elements = x if y is None else (x, y)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if kind == "dataset_shuffled":
        dataset = dataset.shuffle(64, seed=3)
    dataset = dataset.batch(batch_size)
    if kind == "dataset_unknown_length":
        dataset = dataset.filter(lambda *element: True)
    if kind == "dataset_growing":  # of unknown length, one batch longer each epoch: Keras caps later epochs
        batches, epochs_seen = list(dataset.as_numpy_iterator()), []

        def grow():
            epochs_seen.append(None)
            yield from batches[: 3 + len(epochs_seen)]

        dataset = tf.data.Dataset.from_generator(grow, output_signature=dataset.element_spec)
    if "steps_per_epoch" in arguments:
        dataset = dataset.repeat()
    if "validation_data" in arguments:
        arguments["validation_data"] = tf.data.Dataset.from_tensor_slices(arguments["validation_data"]).batch(8)
    return dataset


def _extra(callback) -> Any:
    """What a callback kept or wrote, in comparable form."""
    if isinstance(callback, TrainOnBatch):
        return callback.results
    if isinstance(callback, NestedFit):
        return callback.histories
    if isinstance(callback, keras.callbacks.CSVLogger):
        with open(callback.filename, newline="") as f:
            return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]
    if isinstance(callback, keras.callbacks.ModelCheckpoint):
        saved = {}
        for path in sorted(Path(callback.filepath).parent.glob("*.weights.h5")):
            callback.model.load_weights(path)
            saved[path.name] = callback.model.get_weights()
        return saved
    return None


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # e.g. CSVLogger's "NA"


def _file_name(path: Path, folder: Path) -> str:
    name = str(path.relative_to(folder))
    return name.split("events.out.tfevents")[0] + "events" if "events.out.tfevents" in name else name


def assert_same(ours: Any, theirs: Any, tolerance: float, where: str = "") -> None:
    """Recursive equality: structure and keys exact, numbers within `tolerance`."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), f"{where}: {ours!r} vs {theirs!r}"
        assert sorted(ours) == sorted(theirs), f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"
        for key in ours:
            assert_same(ours[key], theirs[key], tolerance, f"{where}.{key}")
    elif isinstance(ours, (list, tuple)) and not (ours and isinstance(ours[0], (float, np.floating))):
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} vs {len(theirs)}: {ours!r} vs {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, tolerance, f"{where}[{i}]")
    elif isinstance(ours, (str, type(None), bool, int)) and not isinstance(ours, np.ndarray):
        assert ours == theirs, f"{where}: {ours!r} vs {theirs!r}"
    else:
        np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64),
                                   rtol=tolerance, atol=tolerance / 10, equal_nan=True, err_msg=where)


def run_case(case: Case, folder: Path) -> tuple[dict, dict]:
    """Runs `case` on both models and asserts they agree; returns both results (tfae's, then Keras')."""
    if case.dtype_policy is None:
        return _run_case(case, folder)
    keras.config.set_dtype_policy(case.dtype_policy)
    try:
        return _run_case(case, folder)
    finally:
        keras.config.set_dtype_policy("float32")


def _run_case(case: Case, folder: Path) -> tuple[dict, dict]:
    d = data()
    keras.utils.set_random_seed(1)
    ours = tfae_model((case.tfae_compile or case.compile)())
    theirs = plain_model(ours, case.compile())
    (folder / "tfae").mkdir(parents=True)
    (folder / "keras").mkdir(parents=True)
    cwd = os.getcwd()
    try:
        ours_result = _outcome(_fit, ours, d, case, folder / "tfae", plain=False)
        theirs_result = _outcome(_fit, theirs, d, case, folder / "keras", plain=True)
    finally:
        os.chdir(cwd)
    assert_same(ours_result, theirs_result, case.tolerance, case.name)
    return ours_result, theirs_result


def _outcome(run, model, d, case, folder, *, plain):
    """What a run gives: its results, or the error it raises (the same error is the same behaviour)."""
    os.chdir(folder)
    try:
        return run(model, d, case, folder, plain=plain)
    except Exception as error:  # noqa: BLE001 - compared, not swallowed
        return {"error": f"{type(error).__name__}: {error}"}


def _checkpoint(folder: Path, **kwargs):
    return keras.callbacks.ModelCheckpoint(str(folder / "ckpt" / "{epoch}.weights.h5"), save_weights_only=True,
                                           **kwargs)


CASES = [
    Case("defaults"),
    Case("steps_recorded", callbacks=lambda d, f: [StepRecorder()]),
    Case("shuffle_false_partial_last_batch", fit=lambda d: {"batch_size": 7}),
    Case("one_batch_bigger_than_data", fit=lambda d: {"batch_size": 256}),
    Case("targets", targets=True),
    Case("validation_inputs_only", fit=lambda d: {"validation_data": d["x_val"]}),
    Case("validation_one_tuple", fit=lambda d: {"validation_data": (d["x_val"],)}),
    Case("validation_pairs", fit=lambda d: {"validation_data": (d["x_val"], d["x_val"][::-1].copy())}),
    Case("validation_weighted", fit=lambda d: {"validation_data": (d["x_val"], d["x_val"], d["w_val"])}),
    Case("validation_split", fit=lambda d: {"validation_split": 0.25}),
    Case("validation_split_weighted", fit=lambda d: {"validation_split": 0.25, "sample_weight": d["w"]}),
    Case("validation_split_targets", targets=True, fit=lambda d: {"validation_split": 0.2}),
    Case("sample_weight", fit=lambda d: {"sample_weight": d["w"]}),
    Case("sample_weight_targets", targets=True, fit=lambda d: {"sample_weight": d["w"]}),
    # Keras weighs each sample by the class of its target's largest value; tfae spells the targets out.
    Case("class_weight", fit=lambda d: {"class_weight": {i: 1.0 + i for i in range(FEATURES)}}),
    Case("class_weight_targets", targets=True, fit=lambda d: {"class_weight": {i: 1.0 + i for i in range(FEATURES)}}),
    Case("initial_epoch", fit=lambda d: {"initial_epoch": 1, "epochs": 4}),
    Case("epochs_0", fit=lambda d: {"epochs": 0}),
    Case("steps_per_epoch", fit=lambda d: {"steps_per_epoch": 3}),
    Case("validation_steps_freq_batch_size", fit=lambda d: {
        "validation_data": d["x_val"], "validation_steps": 2, "validation_freq": 2, "validation_batch_size": 8}),
    Case("validation_steps_recorded", fit=lambda d: {"validation_data": d["x_val"], "validation_steps": 2},
         callbacks=lambda d, f: [StepRecorder()]),
    Case("early_stopping_restore_best", fit=lambda d: {"epochs": 6}, callbacks=lambda d, f: [
        keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=0.05, restore_best_weights=True)]),
    Case("model_checkpoint_best_only", callbacks=lambda d, f: [_checkpoint(f, save_best_only=True, monitor="loss")]),
    Case("model_checkpoint_save_freq", callbacks=lambda d, f: [_checkpoint(f, save_freq=4)]),
    Case("backup_and_restore", interrupted=True, fit=lambda d: {"epochs": 4}, callbacks=lambda d, f: [
        keras.callbacks.BackupAndRestore(str(f / "backup"))]),
    Case("tensorboard", callbacks=lambda d, f: [keras.callbacks.TensorBoard(str(f / "logs"))]),
    Case("learning_rate_scheduler", callbacks=lambda d, f: [
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)]),
    Case("reduce_lr_on_plateau", fit=lambda d: {"epochs": 4}, callbacks=lambda d, f: [
        keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1.0)]),
    Case("terminate_on_nan", compile=lambda: {"optimizer": keras.optimizers.SGD(1e12), "loss": "mse"},
         callbacks=lambda d, f: [keras.callbacks.TerminateOnNaN()]),
    Case("csv_logger", callbacks=lambda d, f: [keras.callbacks.CSVLogger(str(f / "log.csv"))]),
    Case("stop_training_mid_epoch", callbacks=lambda d, f: [StopAt(1, 3)]),
    Case("train_on_batch_from_callback", callbacks=lambda d, f: [TrainOnBatch(d["x"][:8])]),
    Case("stop_training_at_epoch_begin", callbacks=lambda d, f: [StopAtEpochBegin()]),
    Case("stopped_at_epoch_begin_then_going_on", callbacks=lambda d, f: [GoOnAfterStop()]),
    Case("stopped_at_epoch_begin_then_going_on_steps_per_execution", compile=lambda: {"steps_per_execution": 3},
         callbacks=lambda d, f: [GoOnAfterStop()]),
    Case("stopped_mid_epoch_then_going_on", callbacks=lambda d, f: [GoOnAfterStop(batch=2)]),
    Case("layer_frozen_mid_fit", callbacks=lambda d, f: [FreezeAfterFirstEpoch()]),
    Case("subclassed_epoch_checkpoint_acting_on_steps", callbacks=lambda d, f: [
        CheckpointThatStops(str(f / "ckpt" / "{epoch}.weights.h5"), save_weights_only=True)]),
    Case("batch_hook_installed_in_set_model", callbacks=lambda d, f: [HookInstalledLate()]),
    Case("fit_inside_a_callback", callbacks=lambda d, f: [NestedFit(d["x"][:20])]),
    Case("validation_list", fit=lambda d: {"validation_data": [d["x_val"], d["x_val"][::-1].copy()]}),
    Case("loss_weights", compile=lambda: {"loss_weights": [0.5]}),
    Case("mse_loss", compile=lambda: {"loss": "mse"}),
    Case("custom_loss_function", compile=lambda: {
        "loss": lambda y, p: keras.ops.mean(keras.ops.abs(y - p), axis=-1)}),
    Case("reduction_sum", compile=lambda: {"loss": keras.losses.BinaryCrossentropy(reduction="sum")}),
    Case("sigmoid_cross_entropy_reduction_sum", fit=lambda d: {"sample_weight": d["w"]},
         compile=lambda: {"loss": keras.losses.BinaryCrossentropy(reduction="sum")},
         tfae_compile=lambda: {"loss": tfae.losses.SigmoidCrossEntropy(reduction="sum")}),
    Case("metrics", compile=lambda: {"metrics": ["mae", "mse", keras.metrics.RootMeanSquaredError()]}),
    Case("gradient_clipping", compile=lambda: {"optimizer": keras.optimizers.Adam(0.01, clipnorm=0.01)}),
    Case("run_eagerly", compile=lambda: {"run_eagerly": True}),
    Case("no_jit", compile=lambda: {"jit_compile": False}),
    # On PyTorch, Keras hands the train and test steps to torch.compile, tfae's loss side channel included.
    Case("jit_compile", compile=lambda: {"jit_compile": True},
         fit=lambda d: {"sample_weight": d["w"], "validation_data": d["x_val"]},
         evaluate=lambda d: {"x": d["x_val"], "sample_weight": d["w_val"]}),
    Case("steps_per_execution", compile=lambda: {"steps_per_execution": 3}),
    Case("steps_per_execution_recorded", compile=lambda: {"steps_per_execution": 3},
         callbacks=lambda d, f: [StepRecorder()]),
    Case("mixed_float16", dtype_policy="mixed_float16", tolerance=1e-3),
    Case("mixed_bfloat16", dtype_policy="mixed_bfloat16", tolerance=1e-2),
    Case("evaluate_weighted", evaluate=lambda d: {"x": d["x_val"], "sample_weight": d["w_val"]}),
    Case("evaluate_steps", evaluate=lambda d: {"x": d["x"], "batch_size": 8, "steps": 3}),
    # A tf.data.Dataset: streamed in chunks on TensorFlow, Keras' own loop elsewhere.
    Case("dataset", data="dataset"),
    Case("dataset_partial_last_batch", data="dataset", fit=lambda d: {"batch_size": 7}),
    Case("dataset_unknown_length", data="dataset_unknown_length", fit=lambda d: {"batch_size": 7}),
    Case("dataset_unknown_length_recorded", data="dataset_unknown_length", callbacks=lambda d, f: [StepRecorder()]),
    Case("dataset_shuffled", data="dataset_shuffled"),
    Case("dataset_targets", data="dataset", targets=True),
    Case("dataset_sample_weight", data="dataset", fit=lambda d: {"sample_weight": d["w"]}),
    Case("dataset_validation", data="dataset", fit=lambda d: {"validation_data": (d["x_val"], d["x_val"])}),
    Case("dataset_steps_recorded", data="dataset", callbacks=lambda d, f: [StepRecorder()]),
    Case("dataset_steps_per_epoch", data="dataset", fit=lambda d: {"steps_per_epoch": 3}),
    Case("dataset_stop_training_mid_epoch", data="dataset", callbacks=lambda d, f: [StopAt(1, 3)]),
    Case("dataset_stop_training_at_epoch_begin", data="dataset", callbacks=lambda d, f: [StopAtEpochBegin()]),
    Case("dataset_stopped_at_epoch_begin_then_going_on", data="dataset", callbacks=lambda d, f: [GoOnAfterStop()]),
    Case("dataset_layer_frozen_mid_fit", data="dataset", callbacks=lambda d, f: [FreezeAfterFirstEpoch()]),
    Case("dataset_growing", data="dataset_growing", fit=lambda d: {"epochs": 4}),
    Case("dataset_train_on_batch_from_callback", data="dataset", callbacks=lambda d, f: [TrainOnBatch(d["x"][:8])]),
    Case("dataset_fit_inside_a_callback", data="dataset", callbacks=lambda d, f: [NestedFit(d["x"][:20])]),
    Case("dataset_model_checkpoint_save_freq", data="dataset", callbacks=lambda d, f: [_checkpoint(f, save_freq=4)]),
    Case("dataset_steps_per_execution", data="dataset", compile=lambda: {"steps_per_execution": 3}),
    Case("dataset_no_jit", data="dataset", compile=lambda: {"jit_compile": False}),
    Case("dataset_mixed_float16", data="dataset", dtype_policy="mixed_float16", tolerance=1e-3),
    Case("dataset_interrupted_and_resumed", data="dataset", interrupted=True, fit=lambda d: {"epochs": 4},
         callbacks=lambda d, f: [keras.callbacks.BackupAndRestore(str(f / "backup"))]),
]


def selected_cases(names: str | None) -> list[Case]:
    """The cases named in `names` (comma-separated; all of them when None), refusing a name no case has.

    tests/mutation.py runs a subset against each mutant (`TFAE_CONFORMANCE_CASES`).
    """
    if names is None:
        return CASES
    wanted = names.split(",")
    unknown = sorted(set(wanted) - {case.name for case in CASES})
    if unknown:
        raise ValueError(f"Expected names of conformance cases. Received unknown: {', '.join(unknown)}")
    return [case for case in CASES if case.name in wanted]
