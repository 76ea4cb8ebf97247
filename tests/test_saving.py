"""Saving never destroys the previous good file: tfae's models write beside the target, then rename."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import tfae
from tests.conftest import REPO


def _model():
    return tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,))


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".tfae-")]


@pytest.mark.parametrize(("method", "name"), [("save", "ae.keras"), ("save_weights", "ae.weights.h5")])
def test_a_save_that_fails_midway_leaves_the_previous_file_and_no_partial_file(tmp_path, monkeypatch, method, name):
    ae = _model()
    path = tmp_path / name
    getattr(ae, method)(path)
    good = path.read_bytes()

    def broken_save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as stub:
            stub.write(b"PK\x03\x04 half a file")  # what a kill mid-write leaves
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, method, broken_save)
    with pytest.raises(OSError, match="disk full"):
        getattr(ae, method)(path)
    assert path.read_bytes() == good and _leftovers(tmp_path) == []


def test_checkpoint_callbacks_write_whole_files_that_load(tmp_path):
    ae = _model()
    ae.compile()
    x = np.random.default_rng(0).uniform(size=(32, 6)).astype("float32")
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss", save_best_only=True)
    weights = keras.callbacks.ModelCheckpoint(str(tmp_path / "{epoch}.weights.h5"), save_weights_only=True)
    ae.fit(x, epochs=2, batch_size=8, verbose=0, callbacks=[checkpoint, weights])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.weights.h5", "2.weights.h5", "best.keras"]
    loaded = keras.models.load_model(tmp_path / "best.keras")
    np.testing.assert_allclose(loaded.reconstruct(x), ae.reconstruct(x), atol=1e-6)
    last = _model()
    last.load_weights(tmp_path / "2.weights.h5")
    np.testing.assert_array_equal(last.reconstruct(x), ae.reconstruct(x))


def test_the_cases_left_to_keras_keep_their_arguments_unzipped_and_sharded(tmp_path):
    ae = _model()
    x = np.random.default_rng(0).uniform(size=(4, 6)).astype("float32")
    ae.save(tmp_path / "folder", zipped=False)  # Keras' unzipped format: a folder
    assert (tmp_path / "folder").is_dir()
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "folder").reconstruct(x), ae.reconstruct(x),
                               rtol=1e-6)
    ae.save_weights(tmp_path / "sharded.weights.json", max_shard_size=0.0001)  # an index and its shards
    assert (tmp_path / "sharded.weights.json").is_file() and list(tmp_path.glob("sharded_*.weights.h5"))
    again = _model()
    again.load_weights(tmp_path / "sharded.weights.json")
    np.testing.assert_array_equal(again.reconstruct(x), ae.reconstruct(x))
    # Saved again over the first: Keras overwrites without asking (overwrite=True reaches it; asking would
    # read stdin, which pytest refuses). Keras' unzipped folder cannot be saved twice (a Keras bug: its
    # asset store refuses the existing folder), so its legacy HDF5 file shows it, and a remote path
    # (TensorFlow's in-memory file system) that Keras writes itself.
    ae.save_weights(tmp_path / "sharded.weights.json", max_shard_size=0.0001)
    for _ in range(2):
        ae.save(tmp_path / "legacy.h5")
    for _ in range(2):
        ae.save("ram://tfae-test/ae.keras")
        ae.save_weights("ram://tfae-test/ae.weights.h5")
    np.testing.assert_array_equal(keras.models.load_model("ram://tfae-test/ae.keras").reconstruct(x), ae.reconstruct(x))


@pytest.mark.parametrize("overwrite", [True, False])
def test_the_cases_left_to_keras_get_the_users_overwrite(tmp_path, monkeypatch, overwrite):
    # Keras asks on the terminal before replacing a file when overwrite=False (its default is True): the
    # user's choice must reach it. Keras' own methods are replaced by recorders to see what they get.
    seen = []
    monkeypatch.setattr(keras.Model, "save", lambda self, filepath, **kwargs: seen.append(("save", kwargs)))
    monkeypatch.setattr(keras.Model, "save_weights",
                        lambda self, filepath, **kwargs: seen.append(("save_weights", kwargs)))
    ae = _model()
    ae.save(tmp_path / "legacy.h5", overwrite=overwrite)
    ae.save_weights(tmp_path / "sharded.weights.json", overwrite=overwrite, max_shard_size=0.0001)
    assert seen == [("save", {"overwrite": overwrite, "zipped": None}),
                    ("save_weights", {"overwrite": overwrite, "max_shard_size": 0.0001})]


def test_what_keras_refuses_to_save_is_refused_with_keras_own_message_naming_the_users_target(tmp_path):
    import io

    ae = _model()
    with pytest.raises(ValueError, match=r"^Invalid filepath extension for saving\..*Received: filepath=<_io\.BytesIO"):
        ae.save(io.BytesIO())
    with pytest.raises(ValueError, match=r"^The filename must end in `\.weights\.h5`\. Received: filepath=<_io\.BytesIO"):
        ae.save_weights(io.BytesIO())
    target = tmp_path / "unzipped.keras"
    with pytest.raises(ValueError) as caught:
        ae.save(target, zipped=False)
    assert str(caught.value) == ("When using `zipped=False`, the `filepath` argument should not end in `.keras`. "
                                 f"Received: filepath={target}")
    assert list(tmp_path.iterdir()) == []


def test_an_atomic_save_hands_keras_its_other_arguments_and_an_unknown_one_is_refused_as_keras_refuses_it(tmp_path):
    ae = _model()
    ae.save(tmp_path / "ae.keras")
    saved = (tmp_path / "ae.keras").read_bytes()
    with pytest.raises(ValueError, match="not supported: \\['colour'\\]"):
        ae.save(tmp_path / "ae.keras", colour="blue")
    assert (tmp_path / "ae.keras").read_bytes() == saved  # the earlier file, untouched
    assert [path.name for path in tmp_path.iterdir()] == ["ae.keras"]  # no partial file left


def test_a_partial_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    stale = tmp_path / ".tfae-partial-deadbeef-ae.keras"
    stale.write_bytes(b"stub")
    _model().save(tmp_path / "ae.keras")
    assert _leftovers(tmp_path) == [] and (tmp_path / "ae.keras").stat().st_size > 0


SAVER = """
import sys, tfae
ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=64, hidden_units=(512,))
ae.save(sys.argv[1])
print("saved", flush=True)
while True:
    ae.save(sys.argv[1])
"""


@pytest.mark.slow
def kill_repeated_saves(script: str, path, *, attempts: int = 4, seed: int = 0):
    """Start `script` (saving to `path` over and over) and SIGKILL it at random moments; yields after each kill."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    rng = np.random.default_rng(seed)
    for attempt in range(attempts):
        saver = subprocess.Popen([sys.executable, "-c", script, str(path)], env=env, stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline().strip() == "saved"
        time.sleep(float(rng.uniform(0.05, 1.0)))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        yield attempt


class CrashAtEpoch(keras.callbacks.Callback):
    """Stops `fit` when epoch `epoch` begins, as a kill would: no `on_train_end`."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.slow  # a soak of kills in a child process: the slow suite's kill-and-resume runs
def test_sigkill_during_repeated_saves_always_leaves_a_loadable_model(tmp_path):
    for attempt in kill_repeated_saves(SAVER, tmp_path / "ae.keras"):
        loaded = keras.models.load_model(tmp_path / "ae.keras")  # the last complete save, never a stub
        assert isinstance(loaded, tfae.AutoEncoder) and loaded.latent_dim == 64, attempt


def test_keras_own_errors_for_bad_names_name_the_users_path(tmp_path):
    with pytest.raises(ValueError, match=r"Received: filepath=\S*/model\.$"):
        _model().save(tmp_path / "model")
    with pytest.raises(ValueError, match=r"Received: filepath=.*/w\.h5"):
        _model().save_weights(tmp_path / "w.h5")
    assert list(tmp_path.iterdir()) == []


def test_saving_a_preset_replaces_a_preset_but_never_a_folder_of_other_files(tmp_path):
    ae = _model()
    ae.save_to_preset(tmp_path / "p", metadata={"description": "first"})
    ae.save_to_preset(tmp_path / "p", metadata={"description": "second"})
    assert tfae.presets.metadata(tmp_path / "p")["description"] == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    with pytest.raises(ValueError, match="holds other files"):
        ae.save_to_preset(tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "years of work"


def test_load_model_refuses_a_file_with_code_unless_trusted(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(tfae.ModelFileError, match=r"lambda.keras': .*safe mode will not run; pass safe_mode=False"):
        tfae.load_model(tmp_path / "lambda.keras")
    trusted = tfae.load_model(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_allclose(trusted.predict(np.ones((1, 4)), verbose=0), 2.0)
    with pytest.raises(FileNotFoundError, match="no such file"):
        tfae.load_model(tmp_path / "none.keras")
    (tmp_path / "weights.h5").write_bytes(b"")
    with pytest.raises(tfae.ModelFileError, match="Expected a `.keras` file"):
        tfae.load_model(tmp_path / "weights.h5")


def test_the_command_line_refuses_a_model_file_with_code_in_one_line(tmp_path, capsys):
    from tfae import cli

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs)).save(tmp_path / "lambda.keras")
    np.save(tmp_path / "x.npy", np.ones((2, 4), np.float32))
    status = cli.main(["encode", "--model", str(tmp_path / "lambda.keras"), "--input", str(tmp_path / "x.npy"),
                       "--output", str(tmp_path / "z.npy")])
    error = capsys.readouterr().err.strip()
    assert status == 2 and "\n" not in error and "safe mode will not run" in error
    assert not (tmp_path / "z.npy").exists()


def _train_command(out, epochs):
    return [sys.executable, "-m", "tfae", "train", "--model", "dense", "--latent-dim", "16", "--hidden-units", "64",
            "--epochs", str(epochs), "--batch-size", "32", "--out", str(out), "--resume"]


@pytest.mark.slow
def test_seeded_training_killed_mid_epoch_resumes_where_it_stopped_and_ends_as_if_never_stopped(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    epochs, out = 6, tmp_path / "run"
    state = out / "backup" / "training_state.json"
    trainer = subprocess.Popen(_train_command(out, epochs), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (state.is_file() and json.loads(state.read_text())["epoch"] >= 2):
        assert trainer.poll() is None and time.monotonic() < deadline, "training ended before it could be killed"
        time.sleep(0.05)
    time.sleep(float(np.random.default_rng().uniform(0.0, 1.0)))  # anywhere in the next epoch, a backup too
    trainer.send_signal(signal.SIGKILL)
    trainer.wait()
    backed_up = json.loads(state.read_text())["epoch"]
    assert 2 <= backed_up < epochs and not (out / "model.keras").exists()
    subprocess.run(_train_command(out, epochs), env=env, check=True, stdout=subprocess.DEVNULL)
    resumed = json.loads((out / "history.json").read_text())
    assert len(resumed["loss"]) == epochs  # every epoch's logs, those from before the kill kept by the backup
    assert not (out / "backup").exists()
    subprocess.run(_train_command(tmp_path / "whole", epochs), env=env, check=True, stdout=subprocess.DEVNULL)
    whole = json.loads((tmp_path / "whole" / "history.json").read_text())
    assert len(whole["loss"]) == epochs
    # the backup kept the shuffling's random state: the resumed epochs are the uninterrupted run's
    for name in ("loss", "val_loss"):
        np.testing.assert_allclose(resumed[name], whole[name], rtol=1e-6, err_msg=name)
    for after_kill, uninterrupted in zip(keras.saving.load_model(out / "model.keras").weights,
                                         keras.saving.load_model(tmp_path / "whole" / "model.keras").weights):
        np.testing.assert_allclose(after_kill, uninterrupted, rtol=1e-5, atol=1e-7)


def test_backup_and_restore_resumes_after_the_last_backed_up_epoch_with_its_weights(tmp_path):
    x = np.random.default_rng(0).uniform(size=(64, 6)).astype("float32")

    ae = _model()
    ae.compile()
    backup = tfae.callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        ae.fit(x, epochs=4, batch_size=16, callbacks=[backup, CrashAtEpoch(2)], verbose=0)
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == ["model.weights.h5", "training_state.json"]
    after_two = [np.array(w) for w in ae.weights]
    fresh = _model()
    fresh.compile()
    epochs = []
    seen = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch))
    weights_at_start = []
    peek = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: weights_at_start.extend(np.array(w) for w in fresh.weights))
    restoring = tfae.callbacks.BackupAndRestore(tmp_path / "backup")
    history = fresh.fit(x, epochs=4, batch_size=16, callbacks=[restoring, seen, peek], verbose=0)
    assert epochs == [2, 3] and len(history.history["loss"]) == 2
    assert len(backup.history["loss"]) == 2  # the crashed run's two epochs
    for restored, kept in zip(weights_at_start, after_two):
        np.testing.assert_array_equal(restored, kept)
    assert int(fresh.optimizer.iterations.numpy()) == 4 * 4  # two epochs before the crash, two after
    assert not (tmp_path / "backup").exists()  # deleted at the end of training
    # The whole run's logs: the two epochs before the crash (from the backup), then the two after.
    assert restoring.history == {name: backup.history[name] + history.history[name] for name in history.history}


def _denoising_fit(backup_dir, *, seed, callbacks=()):
    """A seeded denoising `fit` of 4 epochs (shuffled orders and Gaussian noise) with a backup; the model."""
    keras.utils.set_random_seed(seed)
    x = np.random.default_rng(0).uniform(size=(64, 6)).astype("float32")
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,), noise="gaussian", noise_level=0.3)
    ae.compile()
    ae.fit(x, epochs=4, batch_size=16, callbacks=[tfae.callbacks.BackupAndRestore(backup_dir), *callbacks],
           verbose=0)
    return ae


def test_a_seeded_fit_crashed_and_resumed_ends_with_the_uninterrupted_runs_weights(tmp_path):
    whole = _denoising_fit(tmp_path / "whole", seed=0)
    with pytest.raises(KeyboardInterrupt):
        _denoising_fit(tmp_path / "backup", seed=0, callbacks=[CrashAtEpoch(2)])
    saved = json.loads((tmp_path / "backup" / "training_state.json").read_text())
    assert saved["epoch"] == 2 and len(saved["random"]["seed_generators"]) == 1  # the noise layer's
    resumed = _denoising_fit(tmp_path / "backup", seed=123)  # another seed: the backup's random state wins
    for after_crash, uninterrupted in zip(resumed.weights, whole.weights):
        np.testing.assert_allclose(after_crash, uninterrupted, rtol=1e-6, atol=1e-7)


def test_a_backup_without_random_state_resumes_and_a_mismatched_one_is_refused(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _denoising_fit(tmp_path / "backup", seed=0, callbacks=[CrashAtEpoch(2)])
    state_file = tmp_path / "backup" / "training_state.json"
    saved = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**saved, "random": {**saved["random"], "seed_generators": []}}))
    with pytest.raises(ValueError, match=r"the random state in training_state.json does not fit this model \(0 seed "
                                         r"generator states for a model with 1\); delete the folder"):
        _denoising_fit(tmp_path / "backup", seed=0)
    state_file.write_text(json.dumps({"epoch": 2}))  # as backups were written before the random state was kept
    epochs = []
    _denoising_fit(tmp_path / "backup", seed=0,
                   callbacks=[keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch))])
    assert epochs == [2, 3]


def test_backup_never_replaces_a_folder_of_other_files_and_checks_its_arguments(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    ae = _model()
    ae.compile()
    x = np.zeros((8, 6), np.float32)
    (tmp_path / "a_file").write_text("keep")
    weights = ae.get_weights()
    for target, what in (("mine", "holds other files"), ("a_file", "is a file")):
        with pytest.raises(ValueError) as caught:
            ae.fit(x, epochs=1, callbacks=[tfae.callbacks.BackupAndRestore(tmp_path / target)], verbose=0)
        assert str(caught.value) == ("Expected `backup_dir` to be a new folder or one BackupAndRestore wrote. "
                                     f"Received: backup_dir={str(tmp_path / target)!r}, which {what}")
    for before, after in zip(weights, ae.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)  # refused before training, not after an epoch
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep" and (tmp_path / "a_file").read_text() == "keep"
    with pytest.raises(ValueError, match="Received: save_freq=0"):
        tfae.callbacks.BackupAndRestore(tmp_path / "b", save_freq=0)


def _crashed_after_two_epochs(backup_dir):
    """A model whose 4-epoch `fit` crashed after backing up its second epoch in `backup_dir`; the data."""
    x = np.random.default_rng(0).uniform(size=(32, 6)).astype("float32")
    ae = _model()
    ae.compile()
    with pytest.raises(KeyboardInterrupt):
        ae.fit(x, epochs=4, batch_size=16, callbacks=[tfae.callbacks.BackupAndRestore(backup_dir), CrashAtEpoch(2)],
               verbose=0)
    return ae, x


def test_a_backup_of_another_model_is_refused_in_one_line_naming_the_folder(tmp_path):
    _, x = _crashed_after_two_epochs(tmp_path / "b")
    wider = tfae.AutoEncoder(input_shape=(6,), latent_dim=3, hidden_units=(4,))
    wider.compile()
    with pytest.raises(ValueError) as caught:
        wider.fit(x, epochs=4, callbacks=[tfae.callbacks.BackupAndRestore(tmp_path / "b")], verbose=0)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"Cannot resume from the backup in '{tmp_path / 'b'}': its "
                                                       "weights do not fit this model (")
    assert message.endswith("); resume with the model it was written for, or delete the folder to start afresh")


def test_a_second_fit_after_a_resumed_one_runs_all_its_epochs(tmp_path):
    ae, x = _crashed_after_two_epochs(tmp_path / "b")
    resumed = ae.fit(x, epochs=4, batch_size=16, callbacks=[tfae.callbacks.BackupAndRestore(tmp_path / "b")],
                     verbose=0)
    assert len(resumed.history["loss"]) == 2
    again = ae.fit(x, epochs=3, batch_size=16, verbose=0)  # Keras' _initial_epoch must not linger
    assert len(again.history["loss"]) == 3


def test_a_nan_in_the_first_resumed_epoch_restores_the_resumed_weights(tmp_path):
    x = np.random.default_rng(0).uniform(size=(32, 6)).astype("float32")

    ae = _model()
    ae.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-2), loss="mse")
    with pytest.raises(KeyboardInterrupt):
        ae.fit(x, epochs=4, batch_size=16, callbacks=[tfae.callbacks.BackupAndRestore(tmp_path / "b"), CrashAtEpoch(2)],
               verbose=0)
    backed_up = [np.array(w) for w in ae.weights]
    fresh = _model()
    fresh.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-2), loss="mse")
    diverge = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 1e30)
    with pytest.warns(RuntimeWarning, match="epoch 3. The weights and optimizer state are those at the end of epoch 2"):
        fresh.fit(x, epochs=4, batch_size=16, verbose=0,
                  callbacks=[tfae.callbacks.BackupAndRestore(tmp_path / "b"), diverge])
    for weight, kept in zip(fresh.weights, backed_up):
        np.testing.assert_array_equal(np.array(weight), kept)


def test_a_crash_between_the_two_renames_of_a_folder_save_loses_nothing(tmp_path, monkeypatch):
    from tfae import _files

    with tfae.GraphAutoEncoder(6, 2, seed=0) as model:
        model.save(tmp_path / "g")
        weights = model.get_weights()
        real_replace, calls = os.replace, []

        def dies_after_moving_the_old_one_aside(source, target):
            calls.append(target)
            if len(calls) == 2:  # the new folder's move into place
                raise KeyboardInterrupt
            real_replace(source, target)

        monkeypatch.setattr(_files.os, "replace", dies_after_moving_the_old_one_aside)
        with pytest.raises(KeyboardInterrupt):
            model.save(tmp_path / "g")
        monkeypatch.undo()
    assert not (tmp_path / "g").exists()  # the window: only the old folder, hidden beside
    with tfae.GraphAutoEncoder.load(tmp_path / "g") as restored:  # put back by the reader
        for restored_weight, weight in zip(restored.get_weights(), weights):
            np.testing.assert_array_equal(restored_weight, weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]


class Adam(keras.optimizers.Adam):
    """A user's optimizer that shares Keras' name: it must load as itself, from `custom_objects`."""


@pytest.mark.parametrize("load", [tfae.load_model, keras.saving.load_model], ids=["tfae", "keras"])
def test_a_users_optimizer_named_like_keras_own_loads_as_the_users_class(tmp_path, load):
    model = _model()
    model.compile(optimizer=Adam(learning_rate=0.01))
    model.save(tmp_path / "ae.keras")
    loaded = load(tmp_path / "ae.keras", custom_objects={"Adam": Adam})
    assert type(loaded.optimizer) is Adam
    assert float(keras.ops.convert_to_numpy(loaded.optimizer.learning_rate)) == pytest.approx(0.01)


def test_an_optimizer_another_backend_recorded_as_its_own_class_is_read_as_keras_public_one():
    from tfae.models._saving import portable_config

    def recorded(module, name, **config):
        return {"module": module, "class_name": name, "config": config, "registered_name": name}

    torch_adam = recorded("keras.src.backend.torch.optimizers.torch_adam", "Adam", learning_rate=0.01)
    scaled = recorded("keras.optimizers", "LossScaleOptimizer", inner_optimizer=torch_adam)
    users = recorded("my_package.optimizers", "Adam")
    portable = portable_config({"optimizer": scaled, "loss": "mse", "other": users})
    inner = portable["optimizer"]["config"]["inner_optimizer"]
    assert (inner["module"], inner["class_name"], inner["registered_name"]) == ("keras.optimizers", "Adam", None)
    assert inner["config"] == {"learning_rate": 0.01}
    assert portable["other"] == users and portable["loss"] == "mse"  # a user's class keeps its module
    optimizer = keras.saving.deserialize_keras_object(portable["optimizer"])
    assert isinstance(optimizer.inner_optimizer, keras.optimizers.Adam)  # built the running backend's own way


def test_the_cases_left_to_keras_hand_it_their_other_arguments_and_an_unknown_one_is_refused_as_keras_refuses_it(
        tmp_path):
    ae = _model()
    with pytest.raises(ValueError, match="not supported: \\['colour'\\]"):
        ae.save(tmp_path / "folder", zipped=False, colour="blue")  # Keras' unzipped format
    assert not (tmp_path / "folder").exists()
