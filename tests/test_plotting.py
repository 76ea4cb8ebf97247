import struct
import warnings
import zlib

import keras
import numpy as np
import pytest

import tfae
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


def rendered(path):
    """A PNG matplotlib wrote, as an RGB(A) float array, after checking it is an image and not blank."""
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] >= 100 and image.shape[1] >= 100
    assert image[..., :3].std() > 0.05, "the picture is blank"
    return image


def test_reconstruction_tiles_put_originals_above_reconstructions(tmp_path):
    originals = np.ones((3, 784), np.float32)
    reconstructions = np.zeros((3, 28, 28, 1), np.float32)
    tiles = plotting.reconstruction_tiles(originals, reconstructions, n=3)
    assert tiles.shape == (60, 90) and tiles.dtype == np.uint8
    assert tiles[1:29, 1:29].min() == 255 and tiles[31:59, 1:29].max() == 0
    plotting.write_png(tmp_path / "grid.png", tiles)
    np.testing.assert_array_equal(read_png(tmp_path / "grid.png"), tiles)
    assert plotting.reconstruction_tiles(originals, reconstructions, n=2, scale=2).shape == (120, 120)


def test_reconstruction_tiles_reject_mismatched_images():
    with pytest.raises(ValueError, match="Received: originals"):
        plotting.reconstruction_tiles(np.zeros((3, 784)), np.zeros((2, 784)))
    with pytest.raises(ValueError, match="Received: image_shape"):
        plotting.reconstruction_tiles(np.zeros((3, 10)), np.zeros((3, 10)))
    with pytest.raises(ValueError, match=r"Received: images.shape=\(0, 784\)"):
        plotting.tile_images(np.zeros((0, 784)))


@pytest.mark.parametrize(("shape", "dtype"), [((4, 4), "float32"), ((4, 4, 3), "uint8"), ((4,), "uint8")])
def test_write_png_refuses_what_is_not_a_grayscale_byte_image(tmp_path, shape, dtype):
    with pytest.raises(ValueError) as caught:
        plotting.write_png(tmp_path / "x.png", np.zeros(shape, dtype))
    assert str(caught.value) == f"Expected a 2-D uint8 image. Received: image of shape {shape} and dtype {dtype}"
    assert not (tmp_path / "x.png").exists()


def test_tile_images_tiles_images_in_rows_and_pads_the_last_one():
    images = np.linspace(0, 1, 5 * 4 * 4, dtype="float32").reshape(5, 16)
    grid = plotting.tile_images(images, columns=3)
    assert grid.shape == (2 * 6, 3 * 6)
    np.testing.assert_array_equal(grid[1:5, 1:5], np.round(images[0].reshape(4, 4) * 255).astype("uint8"))
    np.testing.assert_array_equal(grid[7:11, 7:11], np.round(images[4].reshape(4, 4) * 255).astype("uint8"))
    assert (grid[7:11, 13:17] == 128).all()  # no sixth image: gray


def test_image_grid_shows_the_tiles_pixel_for_pixel(tmp_path):
    pytest.importorskip("matplotlib")
    images = np.random.default_rng(0).uniform(size=(12, 28, 28)).astype("float32")
    figure = plotting.image_grid(images, columns=4, title="noise", path=tmp_path / "grid.png")
    shown = figure.axes[0].images[0].get_array()
    np.testing.assert_array_equal(shown, plotting.tile_images(images, columns=4))
    assert figure.axes[0].get_title() == "noise"
    rendered(tmp_path / "grid.png")


def test_reconstruction_grid_labels_its_two_rows_and_saves_a_picture(tmp_path):
    pytest.importorskip("matplotlib")
    x = np.random.default_rng(1).uniform(size=(6, 784)).astype("float32")
    figure = plotting.reconstruction_grid(x, 1 - x, n=4, path=tmp_path / "rec.png")
    axes = figure.axes[0]
    np.testing.assert_array_equal(axes.images[0].get_array(), plotting.reconstruction_tiles(x, 1 - x, n=4))
    assert [label.get_text() for label in axes.get_yticklabels()] == ["original", "reconstruction"]
    rendered(tmp_path / "rec.png")


class Generative:
    """A stand-in generative model: `sample` returns constant images whose value is the seed."""

    def __init__(self, method):
        setattr(self, method, lambda n, seed=None: np.full((n, 64), (seed or 0) / 10, np.float32))


@pytest.mark.parametrize("method", ["sample", "generate"])
def test_sample_grid_draws_from_sample_or_generate_with_the_seed(tmp_path, method):
    pytest.importorskip("matplotlib")
    figure = plotting.sample_grid(Generative(method), n=6, columns=3, seed=5, path=tmp_path / "s.png")
    expected = plotting.tile_images(np.full((6, 64), 0.5, np.float32), columns=3)
    np.testing.assert_array_equal(figure.axes[0].images[0].get_array(), expected)
    rendered(tmp_path / "s.png")
    with pytest.raises(ValueError, match="Received: model of type int"):
        plotting.sample_grid(3)


def test_interpolation_grid_puts_one_pair_per_row(tmp_path):
    pytest.importorskip("matplotlib")
    ae = tfae.AutoEncoder(input_shape=(16,), latent_dim=2, hidden_units=())
    x = np.random.default_rng(2).uniform(size=(2, 16)).astype("float32")
    figure = plotting.interpolation_grid(ae, x[:2], x[::-1], steps=5, path=tmp_path / "i.png")
    line = ae.interpolate(x[:2], x[::-1], steps=5)
    np.testing.assert_array_equal(figure.axes[0].images[0].get_array(),
                                  plotting.tile_images(line.reshape(10, 16), columns=5))
    assert figure.axes[0].images[0].get_array().shape == (2 * 6, 5 * 6)
    rendered(tmp_path / "i.png")


def test_latent_manifold_decodes_a_grid_of_codes_largest_z1_on_top(tmp_path):
    pytest.importorskip("matplotlib")

    class Decoding:
        latent_dim = 2

        def decode(self, codes):  # the image is the code's z0 in its left half, z1 in its right half
            codes = (np.asarray(codes) + 1) / 2
            return np.repeat(codes, 8, axis=1)

    figure = plotting.latent_manifold(Decoding(), n=3, extent=(-1, 1, -1, 1), image_shape=(4, 4),
                                      path=tmp_path / "m.png")
    tiles = figure.axes[0].images[0].get_array()
    assert tiles.shape == (3 * 6, 3 * 6)
    assert tiles[1, 1] == 0 and tiles[1, 13] == 255      # top row: z0 from -1 (left) to 1 (right)
    assert tiles[3, 1] == 255 and tiles[15, 1] == 0      # z1: 1 in the top row, -1 in the bottom one
    assert figure.axes[0].get_xlabel() == "z[0]"
    rendered(tmp_path / "m.png")
    with pytest.raises(ValueError, match="Received: model of type M with latent_dim=3$"):
        plotting.latent_manifold(type("M", (), {"latent_dim": 3, "decode": print})())
    with pytest.raises(ValueError, match="Received: model of type GAN with latent_dim=2$"):  # a generator, no decode
        plotting.latent_manifold(tfae.GAN(keras.Sequential([keras.layers.Dense(4)]), keras.Sequential(
            [keras.layers.Dense(1)]), latent_dim=2))
    with pytest.raises(ValueError, match=r"Received: extent=\(1, -1, 0, 1\)"):
        plotting.latent_manifold(Decoding(), extent=(1, -1, 0, 1))


def test_latent_scatter_projects_codes_and_saves_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    codes = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    figure = plotting.latent_scatter(codes, np.arange(50) % 10, path=tmp_path / "latent.png")
    assert figure.axes[0].get_xlabel() == "PC 1"
    offsets = figure.axes[0].collections[0].get_offsets()
    centred = codes - codes.mean(axis=0)
    np.testing.assert_allclose(np.abs(offsets[:, 0]), np.abs(centred @ np.linalg.svd(centred)[2][0]), rtol=1e-4,
                               atol=1e-5)
    rendered(tmp_path / "latent.png")


def test_latent_scatter_needs_one_label_per_code():
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="one label per code"):
        plotting.latent_scatter(np.zeros((5, 2)), np.zeros(4))


def test_loss_curves_draw_one_panel_per_quantity_with_its_validation_twin(tmp_path):
    pytest.importorskip("matplotlib")
    history = {"loss": [0.3, 0.2, 0.1], "val_loss": [0.35, 0.25, 0.2], "mse": [0.05, 0.04, 0.03]}
    figure = plotting.loss_curves(history, path=tmp_path / "loss.png")
    assert len(figure.axes) == 2
    assert len(figure.axes[0].lines) == 2 and len(figure.axes[1].lines) == 1
    np.testing.assert_array_equal(figure.axes[0].lines[1].get_ydata(), history["val_loss"])
    rendered(tmp_path / "loss.png")
    with pytest.raises(ValueError, match="Received: history=3"):
        plotting.loss_curves(3)


@pytest.mark.parametrize("validation_freq, validated", [(2, [4, 6]), ([4, 5], [4, 5])])
def test_loss_curves_draw_validation_at_the_epochs_keras_validated_after(validation_freq, validated):
    # `fit(initial_epoch=2, epochs=6, validation_freq=...)`: 4 epochs (3 to 6), validated after fewer.
    pytest.importorskip("matplotlib")
    x = np.random.default_rng(0).uniform(size=(16, 6)).astype(np.float32)
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
    ae.compile()
    history = ae.fit(x, initial_epoch=2, epochs=6, validation_data=x, validation_freq=validation_freq, verbose=0)
    figure = plotting.loss_curves(history, validation_freq=validation_freq)
    train, validation = figure.axes[0].lines
    np.testing.assert_array_equal(train.get_xdata(), [3, 4, 5, 6])
    np.testing.assert_array_equal(validation.get_xdata(), validated)
    np.testing.assert_array_equal(validation.get_ydata(), history.history["val_loss"])
    with pytest.raises(ValueError) as caught:
        plotting.loss_curves(history)
    assert str(caught.value) == (
        "Expected `val_loss` to hold one value per validation: 4 for 4 epochs with validation_freq=1 (pass the "
        "`validation_freq` given to `fit`). Received: history['val_loss'] with 2 values")
    with pytest.raises(ValueError, match=r"Received: validation_freq=0"):
        plotting.loss_curves(history, validation_freq=0)


@pytest.mark.parametrize("image_shape", [(-28, -28), "28x28", (28, 28, 1), 784, (28.0, 28.0)])
def test_a_bad_image_shape_is_refused_by_name(image_shape):
    with pytest.raises(ValueError, match=r"Received: image_shape="):
        plotting.tile_images(np.random.default_rng(0).uniform(size=(2, 784)), image_shape=image_shape)


def test_write_png_refuses_an_empty_image(tmp_path):
    for shape in [(0, 0), (0, 4), (4, 0)]:
        with pytest.raises(ValueError) as caught:
            plotting.write_png(tmp_path / "x.png", np.zeros(shape, np.uint8))
        assert str(caught.value) == f"Expected an image at least one pixel high and wide. Received: image of shape {shape}"
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(("values", "shown"), [(255.0, "[0, 255]"), (-1.0, "[-1, 0]")])
def test_pictures_warn_by_name_when_images_are_on_another_scale(values, shown):
    images = np.zeros((2, 16), np.float32)
    images[0, 0] = values
    with pytest.warns(UserWarning) as caught:
        tiles = plotting.tile_images(images)
    assert len(caught) == 1 and caught[0].filename == __file__  # the user's line, not tfae's
    assert str(caught[0].message).endswith(f"Received: images with values in {shown}")
    assert "Scale 0-255 pixels by 1/255" in str(caught[0].message)
    assert tiles[1, 1] == (255 if values > 0 else 0)  # still drawn, clipped
    with pytest.warns(UserWarning) as caught:
        plotting.reconstruction_tiles(np.zeros((2, 16)), images)
    assert [str(w.message).split("Received: ")[1] for w in caught] == [f"reconstructions with values in {shown}"]
    assert caught[0].filename == __file__


def test_pictures_clip_a_small_overshoot_without_a_warning():
    images = np.linspace(-0.5, 1.5, 32, dtype=np.float32).reshape(2, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiles = plotting.tile_images(images, columns=2)
        plotting.reconstruction_tiles(images, images)
    assert tiles[1, 1] == 0 and tiles[4, 10] == 255
