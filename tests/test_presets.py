"""Presets: the pretrained models shipped in the package, their metadata, and the preset folder format."""

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest

import tfae
from tests.conftest import REPO
from tfae import cli, presets

SHIPPED = ("mnist_conv", "mnist_dense", "mnist_denoising", "mnist_vae")
FULL_MNIST = REPO.parent / "shared" / "data" / "mnist"


def test_the_four_mnist_presets_ship_with_a_description_each():
    listed = tfae.list_presets()
    assert set(SHIPPED) <= set(listed)
    assert all(listed[name] for name in SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_preset_reproduces_its_recorded_losses_on_the_shipped_sample(name, mnist_sample):
    model = tfae.AutoEncoder.from_preset(name)
    recorded = presets.metadata(name)
    assert f"{type(model).__module__}.{type(model).__qualname__}" == recorded["class"]
    assert model.count_params() == recorded["parameters"]
    measured = presets.measure(model, mnist_sample[1][0], noise_level=recorded["noise_level"])
    assert measured == pytest.approx(recorded["sample_test"], rel=1e-4)


@pytest.mark.skipif(not FULL_MNIST.exists(), reason="needs the full MNIST beside the checkout")
@pytest.mark.parametrize("name", SHIPPED)
def test_preset_reproduces_its_recorded_losses_on_the_full_test_set(name):
    _, (x_test, _) = tfae.datasets.load_mnist(FULL_MNIST, download=False)
    recorded = presets.metadata(name)
    measured = presets.measure(tfae.AutoEncoder.from_preset(name), x_test, noise_level=recorded["noise_level"])
    assert measured == pytest.approx(recorded["test"], rel=1e-4)


def test_a_subclass_refuses_a_preset_of_another_class():
    with pytest.raises(ValueError, match="Expected a preset of a VariationalAutoEncoder.*holds a AutoEncoder"):
        tfae.VariationalAutoEncoder.from_preset("mnist_dense")
    assert isinstance(tfae.VariationalAutoEncoder.from_preset("preset:mnist_vae"), tfae.VariationalAutoEncoder)


def test_an_unknown_preset_names_the_known_ones():
    with pytest.raises(ValueError, match=r"mnist_dense.*Received: preset='mnist_huge'"):
        tfae.AutoEncoder.from_preset("mnist_huge")


def test_save_to_preset_round_trips_a_folder_with_metadata(tmp_path):
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,), tied=True)
    folder = ae.save_to_preset(tmp_path / "mine", metadata={"description": "a tiny tied model"})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "metadata.json", "model.weights.h5"]
    info = json.loads((folder / "metadata.json").read_text())
    assert info["description"] == "a tiny tied model" and info["keras_version"] == keras.__version__
    loaded = tfae.AutoEncoder.from_preset(folder)
    x = np.random.default_rng(0).uniform(size=(3, 6)).astype("float32")
    np.testing.assert_allclose(loaded.reconstruct(x), ae.reconstruct(x), atol=1e-6)
    assert loaded.decoder.encoder is loaded.encoder


def test_a_preset_with_code_in_its_config_is_refused_by_safe_mode(tmp_path):
    decoder = keras.Sequential([keras.layers.Dense(6), keras.layers.Lambda(lambda t: t * 2.0)], name="lambda")
    ae = tfae.AutoEncoder(tfae.Encoder(2), decoder, input_shape=(6,))
    folder = ae.save_to_preset(tmp_path / "unsafe")
    with pytest.raises(ValueError) as caught:
        tfae.AutoEncoder.from_preset(folder)
    assert str(caught.value) == (f"Cannot load the preset in '{folder}': it holds code (such as a Lambda layer) "
                                 "that safe mode will not run. A preset always loads in safe mode; call "
                                 "keras.config.enable_unsafe_deserialization() first only if you trust it")


def test_every_shipped_preset_file_is_in_the_wheel_and_all_together_stay_small():
    line = re.search(r'^"tfae\.presets" = (\[.*\])$', (REPO / "pyproject.toml").read_text(), re.M)
    globs = json.loads(line.group(1))
    root = REPO / "tfae" / "presets"
    packaged = {path for pattern in globs for path in root.glob(pattern)}
    shipped = {path for path in root.rglob("*") if path.is_file() and path.suffix in (".json", ".h5")}
    assert shipped and shipped == packaged
    assert sum(path.stat().st_size for path in shipped) < 8 * 2**20


def test_command_line_describes_a_preset_and_lists_them(capsys):
    assert cli.main(["info", "preset:mnist_vae"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class"] == "VariationalAutoEncoder" and info["metadata"]["epochs"] > 0
    assert cli.main(["presets"]) == 0
    assert "preset:mnist_dense" in capsys.readouterr().out
    assert cli.main(["info", "preset:nope"]) == 2
    assert "Received: preset='nope'" in capsys.readouterr().err


def test_command_line_describes_a_keras_file(tmp_path, capsys):
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.save(tmp_path / "ae.keras")
    assert cli.main(["info", str(Path(tmp_path / "ae.keras"))]) == 0
    assert json.loads(capsys.readouterr().out)["latent_dim"] == 2


def test_command_line_encodes_decodes_and_plots_with_a_preset(tmp_path, mnist_sample, capsys):
    x = mnist_sample[1][0][:20]
    np.save(tmp_path / "x.npy", x)
    assert cli.main(["encode", "--model", "preset:mnist_vae", "--input", str(tmp_path / "x.npy"),
                     "--output", str(tmp_path / "z.npy")]) == 0
    z = np.load(tmp_path / "z.npy")
    np.testing.assert_allclose(z, tfae.VariationalAutoEncoder.from_preset("mnist_vae").encode(x), atol=1e-5)
    assert cli.main(["decode", "--model", "preset:mnist_vae", "--input", str(tmp_path / "z.npy"),
                     "--output", str(tmp_path / "back.npy")]) == 0
    assert np.load(tmp_path / "back.npy").shape == (20, 28, 28, 1)
    assert cli.main(["plot", "--model", "preset:mnist_vae", "--samples", "200", "--out", str(tmp_path / "p")]) == 0
    assert {p.name for p in (tmp_path / "p").iterdir()} == {"reconstructions.png", "latent.png", "samples.png",
                                                          "manifold.png"}
    assert cli.main(["encode", "--model", "preset:mnist_vae", "--input", str(tmp_path / "missing.npy"),
                     "--output", str(tmp_path / "z.npy")]) == 2
    assert "missing.npy" in capsys.readouterr().err


def test_a_trained_model_saves_its_weights_without_the_optimizer_state(tmp_path):
    import h5py

    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2, hidden_units=(4,))
    ae.compile()
    ae.fit(np.random.default_rng(0).uniform(size=(16, 6)).astype("float32"), epochs=1, verbose=0)
    folder = ae.save_to_preset(tmp_path / "trained")
    with h5py.File(folder / "model.weights.h5") as weights:
        assert "optimizer" not in weights
    x = np.full((2, 6), 0.5, "float32")
    np.testing.assert_allclose(tfae.AutoEncoder.from_preset(folder).reconstruct(x), ae.reconstruct(x), atol=1e-6)


def test_plot_with_few_samples_and_of_a_model_that_cannot_reconstruct(tmp_path, capsys):
    assert cli.main(["plot", "--model", "preset:mnist_dense", "--samples", "5", "--out", str(tmp_path / "p")]) == 0
    gan = tfae.GAN(tfae.Decoder((784,)), keras.Sequential([keras.layers.Dense(1)]), latent_dim=2)
    gan.save(tmp_path / "gan.keras")
    assert cli.main(["plot", "--model", str(tmp_path / "gan.keras"), "--out", str(tmp_path / "q")]) == 2
    assert "Expected an autoencoder to plot" in capsys.readouterr().err


def test_metadata_that_json_cannot_write_is_refused_by_name_before_anything_is_written(tmp_path):
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    with pytest.raises(ValueError, match=r"^Expected `metadata` to be a JSON-serializable dict .*Received: "
                                         r"metadata=\{'loss': np.float32\(1.0\)\} \("):
        tfae.presets.save_preset(ae, tmp_path / "p", metadata={"loss": np.float32(1.0)})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("file, data, reason", [
    ("config.json", b"{not json", "config.json: JSONDecodeError: Expecting property name enclosed in double quotes"),
    ("config.json", None, "config.json: ValueError: Expected `latent_dim` to be a positive integer"),
    ("model.weights.h5", b"garbage", "model.weights.h5: OSError: Unable to synchronously open file"),
])
def test_a_damaged_preset_folder_is_one_model_file_error_naming_the_folder_and_file(tmp_path, file, data, reason):
    tfae.AutoEncoder(input_shape=(6,), latent_dim=2).save_to_preset(tmp_path / "p")
    if data is None:  # an edited config: a value the constructor refuses
        config = json.loads((tmp_path / "p" / file).read_text())
        config["config"]["latent_dim"] = -3
        data = json.dumps(config).encode()
    (tmp_path / "p" / file).write_bytes(data)
    with pytest.raises(tfae.ModelFileError) as caught:
        tfae.AutoEncoder.from_preset(tmp_path / "p")
    assert str(caught.value).startswith(f"Cannot load the preset in '{tmp_path / 'p'}': {reason}")


def test_damaged_preset_metadata_names_the_folder(tmp_path):
    tfae.AutoEncoder(input_shape=(6,), latent_dim=2).save_to_preset(tmp_path / "p")
    (tmp_path / "p" / "metadata.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"^Cannot read the metadata of the preset in '.*p': metadata.json: "
                                         "JSONDecodeError"):
        tfae.presets.metadata(tmp_path / "p")
