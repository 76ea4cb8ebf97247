import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import tfae
from tfae import cli


def test_demo_writes_a_model_a_picture_and_metrics(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--epochs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "test BCE" in printed and "test MSE" in printed
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert 0 < metrics["test_bce"] < 0.3 and 0 < metrics["test_mse"] < 0.1
    assert (tmp_path / "reconstructions.png").read_bytes()[:4] == b"\x89PNG"
    model = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(model, tfae.AutoEncoder) and model.code_dim == 128
    (_, _), (x_test, _) = tfae.datasets.load_mnist_sample()
    assert np.isfinite(model.encode(x_test[:5])).all()


def test_bad_arguments_exit_with_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tfae", "demo", "--epochs", "0"], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert "expected a positive integer, received '0'" in result.stderr


def test_missing_data_path_is_reported_without_a_trace(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--data", str(tmp_path / "none")]) == 2
    error = capsys.readouterr().err
    assert "does not exist" in error and "Traceback" not in error


def test_train_writes_the_model_history_and_three_pictures(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "vae", "--latent-dim", "2", "--hidden-units", "16", "--epochs", "1",
                     "--batch-size", "256", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"model.keras", "history.json", "reconstructions.png", "latent.png",
                                               "loss.png"}
    history = json.loads((out / "history.json").read_text())
    assert {"loss", "kl_loss", "val_loss"} <= set(history) and len(history["loss"]) == 1
    assert "vae: 1 epoch(s)" in capsys.readouterr().out


def test_train_refuses_bad_hidden_units_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--hidden-units", "256,-1"])
    assert exit_info.value.code == 2
    assert "expected comma-separated positive integers, received '256,-1'" in capsys.readouterr().err
