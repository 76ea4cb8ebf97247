import json
import os
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
    assert isinstance(model, tfae.AutoEncoder) and model.latent_dim == 128
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


def test_train_writes_the_model_history_and_its_pictures(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "vae", "--latent-dim", "2", "--hidden-units", "16", "--epochs", "1",
                     "--batch-size", "256", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"model.keras", "history.json", "reconstructions.png", "latent.png",
                                               "loss.png", "samples.png", "manifold.png"}
    history = json.loads((out / "history.json").read_text())
    assert {"loss", "kl_loss", "val_loss"} <= set(history) and len(history["loss"]) == 1
    assert "vae: 1 epoch(s)" in capsys.readouterr().out
    assert cli.main(["info", str(out / "model.keras")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class"] == "VariationalAutoEncoder" and info["latent_dim"] == 2
    assert info["history"]["epochs"] == 1 and info["history"]["last_loss"] == history["loss"][-1]
    assert [layer["name"] for layer in info["layers"]] == [layer.name for layer in keras.models.load_model(
        out / "model.keras").layers]
    assert sum(layer["parameters"] for layer in info["layers"]) == info["parameters"]


def test_train_refuses_bad_hidden_units_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--hidden-units", "256,-1"])
    assert exit_info.value.code == 2
    assert "expected comma-separated positive integers, received '256,-1'" in capsys.readouterr().err


@pytest.mark.parametrize("units", ["256,,128", "256,", ",", "x"])
def test_train_refuses_hidden_units_with_an_empty_or_bad_part(capsys, units):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--hidden-units", units])
    assert exit_info.value.code == 2
    assert (f"argument --hidden-units: expected comma-separated positive integers, received {units!r}"
            in capsys.readouterr().err)


def test_hidden_units_are_read_in_order_and_an_empty_text_means_none():
    parse = cli._parser().parse_args
    assert parse(["train", "--hidden-units", "256, 128"]).hidden_units == (256, 128)
    assert parse(["train", "--hidden-units", ""]).hidden_units == ()


@pytest.mark.parametrize("command", ["train", "tune"])
def test_a_seed_outside_numpys_range_is_refused_naming_the_option(tmp_path, capsys, command):
    for seed in ("-1", str(2**32), "1.5"):
        with pytest.raises(SystemExit) as exit_info:  # (were it taken, the missing data would end the run)
            cli.main([command, "--seed", seed, "--out", str(tmp_path), "--data", str(tmp_path / "none")])
        assert exit_info.value.code == 2
        assert (f"argument --seed: expected an integer from 0 to 2**32 - 1, received {seed!r}"
                in capsys.readouterr().err)
    assert cli._parser().parse_args([command, "--seed", str(2**32 - 1)]).seed == 2**32 - 1


@pytest.mark.parametrize("command", ["demo", "train", "tune", "plot"])
def test_an_out_folder_that_is_an_existing_file_is_refused_and_the_file_kept(tmp_path, capsys, command):
    existing = tmp_path / "keep.npy"
    existing.write_bytes(b"precious")
    extra = ["--model", "article"] if command == "plot" else []
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, *extra, "--out", str(existing)])
    assert exit_info.value.code == 2
    assert (f"argument --out: expected a folder to write into, received {str(existing)!r}, an existing file"
            in capsys.readouterr().err)
    assert existing.read_bytes() == b"precious"


def test_every_option_of_every_command_shows_its_default_in_help(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")   # no line wrapping inside a default
    parser = cli._parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {"demo", "train", "tune", "encode", "decode", "reconstruct", "plot", "presets", "info"}
    for name, command in commands.items():
        text = command.format_help()
        for action in command._actions:
            if action.option_strings and action.help and not action.required and action.nargs != 0:
                assert f"(default: {action.default})" in " ".join(text.split()), (name, action.dest)


def test_the_command_line_hides_tensorflow_start_up_lines_unless_asked(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run([sys.executable, "-m", "tfae", "presets"], capture_output=True, text=True, env=env)
    assert quiet.returncode == 0 and "mnist_dense" in quiet.stdout
    assert quiet.stderr == ""
    # A command that runs TensorFlow: its devices start (an error-level cuInit line where a CUDA driver
    # library but no GPU is found) inside the quiet import, not at the first operation.
    info = subprocess.run([sys.executable, "-m", "tfae", "info", "preset:mnist_dense"], capture_output=True, text=True,
                          env=env)
    assert info.returncode == 0 and info.stderr == ""
    loud = subprocess.run([sys.executable, "-m", "tfae", "presets"], capture_output=True, text=True,
                          env={**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert loud.returncode == 0 and loud.stderr != ""   # TensorFlow's own lines, as the user asked


def test_importing_tfae_in_a_program_leaves_stderr_and_the_log_level_alone(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    results = [subprocess.run([sys.executable, "-c", f"import os, {module}; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"],
                              capture_output=True, text=True, env=env) for module in ("keras", "tfae")]
    assert results[0].stdout == results[1].stdout          # what Keras' own import leaves (JAX sets a default)
    assert results[1].stderr.count("\n") >= results[0].stderr.count("\n")   # nothing parked away


def test_encode_reads_a_folder_of_png_images_in_name_order(tmp_path, capsys):
    from tests.test_datasets import write_digit_pngs

    _, (x_test, _) = tfae.datasets.load_mnist_sample()
    write_digit_pngs(tmp_path / "pngs", x_test[:12])
    assert cli.main(["encode", "--model", "preset:mnist_dense", "--input", str(tmp_path / "pngs"),
                     "--output", str(tmp_path / "z.npy"), "--batch-size", "5"]) == 0
    expected = tfae.AutoEncoder.from_preset("mnist_dense").encode(np.round(x_test[:12] * 255) / 255)
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), expected, rtol=1e-5, atol=1e-5)
    assert cli.main(["reconstruct", "--model", "preset:mnist_conv", "--input", str(tmp_path / "pngs"),
                     "--output", str(tmp_path / "r.npy")]) == 0
    assert np.load(tmp_path / "r.npy").shape == (12, 28, 28, 1)
    assert cli.main(["encode", "--model", "preset:mnist_dense", "--input", str(tmp_path),
                     "--output", str(tmp_path / "z.npy")]) == 2
    assert "image files" in capsys.readouterr().err


def test_ctrl_c_is_one_line_and_status_130(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_presets", interrupted)
    assert cli.main(["presets"]) == 130
    assert capsys.readouterr().err == "tfae presets: interrupted\n"


def test_every_failure_is_one_line_on_stderr_and_status_2(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((2, 784), np.float32))
    (tmp_path / "corrupt.npy").write_bytes(b"\x93NUMPY\x01\x00garbage")
    (tmp_path / "a_file").write_text("in the way")
    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "project" / "backup").mkdir(parents=True)
    (tmp_path / "project" / "backup" / "notes.txt").write_text("my notes")  # not a training backup: kept
    encode = ["encode", "--model", "preset:mnist_dense"]
    cases = {
        "missing input": encode + ["--input", str(tmp_path / "none.npy"), "--output", str(tmp_path / "z.npy")],
        "corrupt input": encode + ["--input", str(tmp_path / "corrupt.npy"), "--output", str(tmp_path / "z.npy")],
        "output under a file": encode + ["--input", str(tmp_path / "x.npy"),
                                         "--output", str(tmp_path / "a_file" / "z.npy")],
        "missing model": ["info", str(tmp_path / "none.keras")],
        "out is a file": ["train", "--epochs", "1", "--out", str(tmp_path / "a_file")],
        "a folder of the user's named backup": ["train", "--epochs", "1", "--out", str(tmp_path / "project")],
        "bad option": ["train", "--epochs", "0"],
        "unknown option": ["encode", "--colour", "red"],
        "output not .npy": encode + ["--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "codes.bin")],
        "output a folder": encode + ["--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "dir.npy")],
    }
    for case, argv in cases.items():
        try:
            status = cli.main(argv)
        except SystemExit as exit_info:  # argparse's own errors
            status = exit_info.code
        error = capsys.readouterr().err.strip()
        assert status == 2, case
        assert error and "\n" not in error and "Traceback" not in error, (case, error)
    assert (tmp_path / "a_file").read_text() == "in the way"
    assert (tmp_path / "project" / "backup" / "notes.txt").read_text() == "my notes"
    assert not list(tmp_path.glob("codes.bin*")) and list((tmp_path / "dir.npy").iterdir()) == []
