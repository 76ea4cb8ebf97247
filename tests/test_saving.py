"""Saving never destroys the previous good file: tfae's models write beside the target, then rename."""

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


def test_a_save_that_fails_midway_leaves_the_previous_file_and_no_partial_file(tmp_path, monkeypatch):
    ae = _model()
    path = tmp_path / "ae.keras"
    ae.save(path)
    good = path.read_bytes()

    def broken_save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as stub:
            stub.write(b"PK\x03\x04 half a zip")  # what a kill mid-write leaves
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        ae.save(path)
    assert path.read_bytes() == good and _leftovers(tmp_path) == []


def test_weights_and_checkpoints_are_written_atomically_and_load(tmp_path):
    ae = _model()
    ae.compile()
    x = np.random.default_rng(0).uniform(size=(32, 6)).astype("float32")
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="loss", save_best_only=True)
    weights = keras.callbacks.ModelCheckpoint(str(tmp_path / "{epoch}.weights.h5"), save_weights_only=True)
    ae.fit(x, epochs=2, batch_size=8, verbose=0, callbacks=[checkpoint, weights])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.weights.h5", "2.weights.h5", "best.keras"]
    loaded = keras.models.load_model(tmp_path / "best.keras")
    np.testing.assert_allclose(loaded.reconstruct(x), ae.reconstruct(x), atol=1e-6)


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
def test_sigkill_during_repeated_saves_always_leaves_a_loadable_model(tmp_path):
    path = tmp_path / "ae.keras"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    rng = np.random.default_rng(0)
    for attempt in range(4):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], env=env, stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline().strip() == "saved"
        time.sleep(float(rng.uniform(0.05, 1.0)))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        loaded = keras.models.load_model(path)  # the last complete save, never a stub
        assert isinstance(loaded, tfae.AutoEncoder) and loaded.code_dim == 64, attempt


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
