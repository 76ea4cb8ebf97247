import struct
import zlib

import numpy as np
import pytest

from tfae import plotting


def read_png(path):
    """Decode the 8-bit grayscale PNGs `write_png` makes (filter 0 rows only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    rows = zlib.decompress(idat)
    return np.frombuffer(rows, np.uint8).reshape(height, width + 1)[:, 1:]


def test_reconstruction_grid_puts_originals_above_reconstructions(tmp_path):
    originals = np.ones((3, 784), np.float32)
    reconstructions = np.zeros((3, 28, 28, 1), np.float32)
    grid = plotting.reconstruction_grid(originals, reconstructions.reshape(3, 784), n=3, scale=1,
                                        path=tmp_path / "grid.png")
    assert grid.shape == (60, 90)
    assert grid[1:29, 1:29].min() == 255 and grid[31:59, 1:29].max() == 0
    np.testing.assert_array_equal(read_png(tmp_path / "grid.png"), grid)


def test_reconstruction_grid_rejects_mismatched_images():
    with pytest.raises(ValueError, match="Received: originals"):
        plotting.reconstruction_grid(np.zeros((3, 784)), np.zeros((2, 784)))
    with pytest.raises(ValueError, match="Received: image_shape"):
        plotting.reconstruction_grid(np.zeros((3, 10)), np.zeros((3, 10)))


def test_latent_scatter_projects_codes_and_saves_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    codes = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    figure = plotting.latent_scatter(codes, np.arange(50) % 10, path=tmp_path / "latent.png")
    assert (tmp_path / "latent.png").stat().st_size > 1000
    assert figure.axes[0].get_xlabel() == "PC 1"


def test_latent_scatter_needs_one_label_per_code():
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="one label per code"):
        plotting.latent_scatter(np.zeros((5, 2)), np.zeros(4))


def test_image_grid_tiles_images_in_rows_and_pads_the_last_one(tmp_path):
    images = np.linspace(0, 1, 5 * 4 * 4, dtype="float32").reshape(5, 16)
    grid = plotting.image_grid(images, columns=3, scale=1, path=tmp_path / "grid.png")
    assert grid.shape == (2 * 6, 3 * 6)
    np.testing.assert_array_equal(grid[1:5, 1:5], np.round(images[0].reshape(4, 4) * 255).astype("uint8"))
    np.testing.assert_array_equal(grid[7:11, 7:11], np.round(images[4].reshape(4, 4) * 255).astype("uint8"))
    assert (grid[7:11, 13:17] == 128).all()  # no sixth image: gray
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_loss_curves_draw_one_panel_per_quantity_with_its_validation_twin(tmp_path):
    history = {"loss": [0.3, 0.2, 0.1], "val_loss": [0.35, 0.25, 0.2], "mse": [0.05, 0.04, 0.03]}
    figure = plotting.loss_curves(history, path=tmp_path / "loss.png")
    assert len(figure.axes) == 2
    assert len(figure.axes[0].lines) == 2 and len(figure.axes[1].lines) == 1
    assert (tmp_path / "loss.png").stat().st_size > 5000
    with pytest.raises(ValueError, match="Received: history=3"):
        plotting.loss_curves(3)
