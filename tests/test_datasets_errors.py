"""The loaders' exact messages, boundary values and less-travelled sources (found blind by mutation testing).

Each error is compared whole, so a message that loses the file's name, the argument's name or the
value received fails here; each limit is tried on both sides of its boundary.
"""

import io
import struct
import zipfile

import numpy as np
import pytest

from tfae import datasets
from tfae.datasets import DataFileError, _npy
from tfae.datasets._mnist import _HOW_TO_PROVIDE

MNIST_SHAPES = {"x_train": (3, 28, 28), "y_train": (3,), "x_test": (2, 28, 28), "y_test": (2,)}


def mnist_arrays(**overrides):
    rng = np.random.default_rng(0)
    arrays = {key: rng.integers(0, 256 if key[0] == "x" else 10, shape, dtype=np.uint8)
              for key, shape in MNIST_SHAPES.items()}
    return {**arrays, **overrides}


def npy_bytes(array, version=None):
    stream = io.BytesIO()
    np.lib.format.write_array(stream, np.asarray(array), version=version)
    return stream.getvalue()


def patch_central_directory(path, *, compress_size, file_size):
    """Rewrites the sizes the zip's directory states for its first member (the bytes stay as they are)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 20:at + 28] = struct.pack("<II", compress_size, file_size)
    path.write_bytes(bytes(data))


# --- .npy / .npz -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_every_npy_format_version_reads(tmp_path, version):
    array = np.arange(6, dtype=">i4").reshape(2, 3)
    path = tmp_path / "a.npy"
    path.write_bytes(npy_bytes(array, version))
    got = _npy.read_npy(path)
    np.testing.assert_array_equal(got, array)
    assert got.dtype.isnative


def test_an_unknown_npy_format_version_is_refused_by_name(tmp_path):
    data = bytearray(npy_bytes(np.zeros(3, np.uint8), (2, 0)))
    data[6:8] = bytes([4, 0])
    path = tmp_path / "a.npy"
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError) as error:
        _npy.read_npy(path)
    assert str(error.value) == f"Cannot read '{path}': unsupported .npy format version (4, 0)"


def test_npy_errors_name_the_file_and_the_problem(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([1, "a"], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError) as error:
        _npy.read_npy(path)
    assert str(error.value) == f"Cannot read '{path}': it holds Python objects (dtype object), which tfae never unpickles"
    path = tmp_path / "garbage.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00\x04\x00{'x'")
    with pytest.raises(DataFileError) as error:
        _npy.read_npy(path)
    assert str(error.value).startswith(f"Cannot read '{path}': not a valid .npy file (")


def test_a_payload_shorter_than_its_checked_size_is_refused():
    data = npy_bytes(np.zeros(4, np.float32))  # the size was checked, then the file shrank under us
    with pytest.raises(DataFileError) as error:
        _npy._read_payload(io.BytesIO(data[:-3]), "where", len(data))
    assert str(error.value) == "Cannot read 'where': the header declares 16 data bytes but only 13 are present"


def test_a_header_is_measured_from_where_the_stream_starts():
    data = npy_bytes(np.zeros(4, np.uint8))
    stream = io.BytesIO(b"prefix" + data)
    stream.seek(6)
    assert _npy._read_sized_header(stream, "where", len(data)) == ((4,), False, np.dtype(np.uint8))


def test_npz_compressed_or_not_reads_in_native_byte_order(tmp_path):
    arrays = {"a": np.arange(5, dtype=">f4"), "b": np.eye(2, dtype="<i2")}
    for save in (np.savez, np.savez_compressed):
        path = tmp_path / f"{save.__name__}.npz"
        save(path, **arrays)
        got = _npy.read_npz(path)
        assert sorted(got) == ["a", "b"] and all(array.dtype.isnative for array in got.values())
        np.testing.assert_array_equal(got["a"], arrays["a"])
        assert _npy.npz_shapes(path) == {"a": ((5,), np.dtype(">f4")), "b": ((2, 2), np.dtype("<i2"))}


def test_npz_errors_name_the_file_the_member_and_the_problem(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, a=np.zeros(2))
    with pytest.raises(DataFileError) as error:
        _npy.read_npz(path, ["a", "b"])
    assert str(error.value) == f"Cannot read '{path}': it lacks the array(s) ['b']; it holds ['a']"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(DataFileError) as error:
        _npy.read_npz(path)
    assert str(error.value) == f"Cannot read '{path}': its member 'notes.txt' is not an .npy array"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.npy", b"\x93NUMPY\x01\x00\x04\x00{'x'")
    for read in (_npy.read_npz, _npy.npz_shapes):
        with pytest.raises(DataFileError) as error:
            read(path)
        assert str(error.value).startswith(f"Cannot read '{path}:a.npy': not a valid .npy member (")
    path.write_bytes(b"not a zip file")
    with pytest.raises(DataFileError) as error:
        _npy.read_npz(path)
    assert str(error.value).startswith(f"Cannot read '{path}': not a valid .npz (zip) file (")
    with pytest.raises(FileNotFoundError) as error:
        _npy.npz_shapes(tmp_path / "none.npz")
    assert str(error.value) == f"no such file: {tmp_path / 'none.npz'}"


def test_a_member_claiming_more_stored_bytes_than_the_file_holds_is_refused(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, a=np.zeros(2))
    size = path.stat().st_size
    patch_central_directory(path, compress_size=10**6, file_size=10**6)
    with pytest.raises(DataFileError) as error:
        _npy.read_npz(path)
    assert str(error.value) == (f"Cannot read '{path}': its member 'a.npy' claims 1000000 stored bytes at offset 0, "
                                f"more than the {size}-byte file holds")


def test_a_stored_member_whose_sizes_disagree_is_refused(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, a=np.zeros(2))
    patch_central_directory(path, compress_size=10, file_size=144)
    with pytest.raises(DataFileError, match="claims 10 stored bytes at offset 0"):
        _npy.read_npz(path)


@pytest.mark.parametrize("file_size, refused", [(2056, False), (2057, True)])
def test_a_member_may_declare_up_to_the_deflate_limit_and_no_more(tmp_path, file_size, refused):
    # One compressed byte may honestly hold 1032 bytes, plus 1024 of slack for headers: 2056.
    path = tmp_path / "a.npz"
    np.savez_compressed(path, a=np.zeros(2))
    patch_central_directory(path, compress_size=1, file_size=file_size)
    with pytest.raises(DataFileError) as error:
        _npy.read_npz(path)
    if refused:
        assert str(error.value) == (f"Cannot read '{path}': its member 'a.npy' claims {file_size} bytes, more than 1 "
                                    "compressed bytes can hold")
    else:  # past the size check, zipfile reads the member and finds the CRC of its real bytes wrong
        assert str(error.value) == f"Cannot read '{path}:a.npy': not a valid .npy member (Bad CRC-32 for file 'a.npy')"


# --- MNIST sources -----------------------------------------------------------------------------------------

def test_load_mnist_names_a_path_argument_of_the_wrong_type():
    with pytest.raises(ValueError) as error:
        datasets.load_mnist(3)
    assert str(error.value) == "Expected `path` to be a file or folder path. Received: path=3"


def test_load_mnist_reads_a_folder_holding_mnist_npz(tmp_path):
    arrays = mnist_arrays()
    np.savez(tmp_path / "mnist.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(tmp_path, normalize=False, flatten=False)
    np.testing.assert_array_equal(x_test[..., 0], arrays["x_test"])
    np.testing.assert_array_equal(y_train, arrays["y_train"])


def test_missing_sources_are_reported_with_how_to_provide_the_data(tmp_path, monkeypatch):
    cache = tmp_path / "home" / ".keras" / "datasets" / "mnist.npz"
    how = _HOW_TO_PROVIDE.format(cache=cache)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError) as error:
        datasets.load_mnist(download=False)
    assert str(error.value) == "MNIST is not in Keras' cache and download=False. " + how
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError) as error:
        datasets.load_mnist(tmp_path / "empty")
    assert str(error.value) == f"No MNIST files in '{tmp_path / 'empty'}'. " + how
    with pytest.raises(FileNotFoundError) as error:
        datasets.load_mnist(tmp_path / "nowhere")
    assert str(error.value) == (f"Expected `path` to be an MNIST folder or .npz file. Received: "
                                f"path='{tmp_path / 'nowhere'}', which does not exist.")
    cache.parent.mkdir(parents=True)
    np.savez(cache, **mnist_arrays())
    (_, y_train), _ = datasets.load_mnist(download=False)
    np.testing.assert_array_equal(y_train, mnist_arrays()["y_train"])


def test_a_folder_missing_several_files_names_each(tmp_path):
    from tests.test_datasets import write_mnist_folder

    write_mnist_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as error:
        datasets.load_mnist(tmp_path)
    assert str(error.value) == (f"The MNIST folder '{tmp_path}' lacks train-labels-idx1-ubyte, "
                                "t10k-images-idx3-ubyte (gzipped or not).")


def test_shape_errors_name_the_source(tmp_path):
    from tests.test_datasets import write_idx, write_mnist_folder

    write_mnist_folder(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 20, 20), np.uint8))
    with pytest.raises(DataFileError) as error:
        datasets.load_mnist(tmp_path)
    assert str(error.value) == ("Expected MNIST test images of shape (n, 28, 28) and labels of shape (n,) in "
                                f"'{tmp_path}'. Received: images (4, 20, 20), labels (4,)")
    path = tmp_path / "bad.npz"
    np.savez(path, **mnist_arrays(y_train=np.zeros(2, np.uint8)))
    with pytest.raises(DataFileError) as error:
        datasets.load_mnist(path)
    assert str(error.value) == ("Expected MNIST train images of shape (n, 28, 28) and labels of shape (n,) in "
                                f"'{path}'. Received: images (3, 28, 28), labels (2,)")


def download(monkeypatch, result):
    """Keras' MNIST download replaced by `result` (arrays, or an exception to raise); no network."""
    import keras

    def load_data():
        if isinstance(result, Exception):
            raise result
        return (result["x_train"], result["y_train"]), (result["x_test"], result["y_test"])

    monkeypatch.setattr(keras.datasets.mnist, "load_data", load_data)
    monkeypatch.setenv("KERAS_HOME", str(monkeypatch._tmp))


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch._tmp = tmp_path
    return monkeypatch


def test_load_mnist_downloads_through_keras_by_default_when_nothing_is_local(offline):
    arrays = mnist_arrays(y_train=np.array([1, 2, 3], np.int64))
    download(offline, arrays)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist()
    np.testing.assert_allclose(x_test.reshape(2, 28, 28), arrays["x_test"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert y_train.dtype == np.uint8 and y_train.tolist() == [1, 2, 3]


def test_download_errors_name_keras_download_as_the_source(offline):
    download(offline, mnist_arrays(y_test=np.array([1, 12], np.uint8)))
    with pytest.raises(DataFileError) as error:
        datasets.load_mnist()
    assert str(error.value) == ("Expected MNIST test (Keras' download) labels that are digits 0..9. "
                                "Received: 1 label(s) outside, the first 12 at index 1")
    download(offline, mnist_arrays(x_train=np.zeros((3, 27, 28), np.uint8)))
    with pytest.raises(DataFileError) as error:
        datasets.load_mnist()
    assert str(error.value) == ("Expected MNIST train images of shape (n, 28, 28) and labels of shape (n,) in "
                                "Keras' download. Received: images (3, 27, 28), labels (3,)")
    download(offline, OSError("no network"))
    with pytest.raises(FileNotFoundError) as error:
        datasets.load_mnist()
    cache = offline._tmp / "datasets" / "mnist.npz"
    assert str(error.value) == ("MNIST could not be downloaded (OSError: no network). "
                                + _HOW_TO_PROVIDE.format(cache=cache))


# --- pixel and label values --------------------------------------------------------------------------------

def test_pixel_limits_hold_on_both_sides(tmp_path):
    path = tmp_path / "m.npz"
    good = np.zeros((3, 28, 28), np.float32)
    good[0, 0, :2] = [0.0, 1.0]  # the ends of [0, 1] are pixels
    np.savez(path, **mnist_arrays(x_train=good))
    (x_train, _), _ = datasets.load_mnist(path)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    np.savez(path, **mnist_arrays(x_train=good * 1.5))
    with pytest.raises(DataFileError) as error:
        datasets.load_mnist(path)
    assert str(error.value) == (f"Expected MNIST train ('{path}') float images in [0, 1] with normalize=True. "
                                "Received: values from 0.0 to 1.5; scale them, or pass normalize=False to keep "
                                "them as they are")
    np.savez(path, **mnist_arrays(x_train=np.full((3, 28, 28), 255, np.int32)))
    (x_train, _), _ = datasets.load_mnist(path, normalize=False)
    assert x_train.dtype == np.uint8 and x_train.max() == 255
    np.savez(path, **mnist_arrays(x_train=np.full((3, 28, 28), 256, np.int32)))
    with pytest.raises(DataFileError) as error:
        datasets.load_mnist(path)
    assert str(error.value) == f"Expected MNIST train ('{path}') pixel values in 0..255. Received: int32 values from 256 to 256"


@pytest.mark.parametrize("dtype, kind", [(bool, "images"), (np.complex64, "images"), (np.float32, "labels")])
def test_arrays_of_a_dtype_that_is_not_pixels_or_digits_are_refused(tmp_path, dtype, kind):
    path = tmp_path / "m.npz"
    key = "x_test" if kind == "images" else "y_test"
    np.savez(path, **mnist_arrays(**{key: np.zeros(MNIST_SHAPES[key], dtype)}))
    with pytest.raises(DataFileError) as error:
        datasets.load_mnist(path)
    expected = "an integer or float dtype" if kind == "images" else "an integer dtype"
    assert str(error.value) == f"Expected MNIST test ('{path}') {kind} of {expected}. Received: dtype {np.dtype(dtype)}"


# --- image folders -----------------------------------------------------------------------------------------

GIF_1X1 = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


@pytest.mark.parametrize("version", [b"GIF87a", b"GIF89a"])
@pytest.mark.parametrize("color_mode, pixel", [("grayscale", [0]), ("rgb", [0] * 3), ("rgba", [0, 0, 0, 255])])
def test_a_gif_is_one_image_in_every_color_mode(tmp_path, color_mode, pixel, version):
    (tmp_path / "dot.gif").write_bytes(version + GIF_1X1[6:])  # one black pixel
    images, names = datasets.load_images(tmp_path, normalize=False, color_mode=color_mode)
    assert images.shape == (1, 1, 1, len(pixel)) and names == ["dot.gif"]  # not a 1-frame animation
    assert images.dtype == np.uint8 and images[0, 0, 0].tolist() == pixel


def _bmp(pixels: np.ndarray) -> bytes:
    """A 24-bit BMP of `pixels` (height, width, 3) uint8: rows bottom-up, BGR, each padded to 4 bytes."""
    import struct

    height, width, _ = pixels.shape
    row = width * 3 + (-width * 3) % 4
    body = b"".join(pixels[y, :, ::-1].tobytes().ljust(row, b"\0") for y in range(height - 1, -1, -1))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(body), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(body), 2835, 2835, 0, 0)
    return header + info + body


@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
def test_a_bmp_loads_in_every_color_mode_as_the_same_pixels_as_a_png(tmp_path, color_mode):
    # TensorFlow decodes BMPs to their own channels only (asking it for one channel fails): converted as
    # TensorFlow converts a PNG's.
    import tensorflow as tf

    pixels = np.array([[[255, 0, 0], [0, 128, 255]], [[10, 20, 30], [255, 255, 255]]], np.uint8)
    (tmp_path / "bmp").mkdir()
    (tmp_path / "png").mkdir()
    (tmp_path / "bmp" / "a.bmp").write_bytes(_bmp(pixels))
    (tmp_path / "png" / "a.png").write_bytes(tf.io.encode_png(pixels).numpy())
    from_bmp, _ = datasets.load_images(tmp_path / "bmp", normalize=False, color_mode=color_mode)
    from_png, _ = datasets.load_images(tmp_path / "png", normalize=False, color_mode=color_mode)
    assert from_bmp.shape == (1, 2, 2, {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode])
    np.testing.assert_array_equal(from_bmp, from_png)


def test_sixteen_bit_pngs_keep_their_depth(tmp_path):
    import tensorflow as tf

    values = np.array([[0, 257, 65535]], np.uint16)[..., None]
    (tmp_path / "deep.png").write_bytes(tf.io.encode_png(values).numpy())
    raw, _ = datasets.load_images(tmp_path, normalize=False)
    assert raw.dtype == np.uint16 and raw[0, 0, :, 0].tolist() == [0, 257, 65535]
    scaled, _ = datasets.load_images(tmp_path)
    np.testing.assert_allclose(scaled[0, 0, :, 0], [0.0, 257 / 65535, 1.0], rtol=1e-6)


def test_image_folder_errors_name_the_file_or_argument(tmp_path, monkeypatch):
    from tfae import plotting

    with pytest.raises(ValueError) as error:
        datasets.load_images(3)
    assert str(error.value) == "Expected `folder` to be a file or folder path. Received: folder=3"
    with pytest.raises(ValueError) as error:
        datasets.load_images(tmp_path)
    assert str(error.value) == (f"Expected image files (.png, .jpg, .jpeg, .gif, .bmp) in the folder. "
                                f"Received: {tmp_path} with none")
    for name, rows in (("a", 28), ("b", 28), ("c", 14)):
        plotting.write_png(tmp_path / f"{name}.png", np.zeros((rows, 28), np.uint8))
    with pytest.raises(ValueError) as error:
        datasets.load_images(tmp_path)
    assert str(error.value) == f"Expected every image to be (28, 28) like a.png. Received: {tmp_path / 'c.png'} of (14, 28)"
    (tmp_path / "c.png").write_bytes(b"not an image at all")
    with pytest.raises(ValueError) as error:
        datasets.load_images(tmp_path)
    assert str(error.value).startswith(f"Expected a readable image. Received: {tmp_path / 'c.png'} (Unknown image file format.")
    assert str(error.value).endswith("required.)")
    import tensorflow as tf

    def failing_decoder(*args, **kwargs):
        raise ValueError()

    monkeypatch.setattr(tf.io, "decode_image", failing_decoder)
    with pytest.raises(ValueError) as error:
        datasets.load_images(tmp_path)
    assert str(error.value) == f"Expected a readable image. Received: {tmp_path / 'a.png'} (ValueError)"


def test_arrays_beside_the_mnist_ones_are_not_read(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, **mnist_arrays(), zz_extra=np.zeros(200_000))  # written last; large, so reading its header stops short of the end
    data = bytearray(path.read_bytes())
    data[data.index(b"PK\x01\x02") - 1] ^= 0xFF  # damage the extra array's last payload byte: its CRC fails
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match="zz_extra.npy"):
        _npy.read_npz(path)
    (_, y_train), _ = datasets.load_mnist(path)
    np.testing.assert_array_equal(y_train, mnist_arrays()["y_train"])


def test_a_folder_given_as_a_file_and_a_file_given_as_a_folder_are_refused_by_name(tmp_path):
    (tmp_path / "a.bmp").write_bytes(_bmp(np.zeros((1, 1, 3), np.uint8)))
    with pytest.raises(ValueError) as error:
        datasets.load_images(tmp_path / "a.bmp")
    assert str(error.value) == f"Expected `folder` to be a folder of images. Received: folder={str(tmp_path / 'a.bmp')!r}, a file"
    with pytest.raises(ValueError) as error:
        datasets.read_idx(tmp_path)
    assert str(error.value) == f"Expected `path` to be an IDX file. Received: path={str(tmp_path)!r}, a folder"


@pytest.mark.parametrize("given", [1, 3, 4])
@pytest.mark.parametrize("wanted", [1, 3, 4])
def test_images_decoded_with_their_own_channels_convert_to_every_color_mode(given, wanted):
    # GIFs and BMPs decode to their own channels (gray, RGB or RGBA); each becomes the channels asked for.
    import tensorflow as tf

    from tfae.datasets import _images

    rgb = np.array([[[255, 0, 0], [0, 128, 255]], [[10, 20, 30], [255, 255, 255]]], np.uint8)
    gray = tf.image.rgb_to_grayscale(rgb).numpy()
    image = {1: gray, 3: rgb, 4: np.concatenate([rgb, np.full((2, 2, 1), 7, np.uint8)], axis=-1)}[given]
    colours = np.repeat(gray, 3, axis=-1) if given == 1 else rgb
    expected = {1: gray, 3: colours, 4: np.concatenate([colours, np.full((2, 2, 1), 255, np.uint8)], axis=-1)}[wanted]
    if given == 4 and wanted == 4:
        expected = image  # its own alpha kept
    converted = _images._with_channels(tf, tf.constant(image), wanted).numpy()
    assert converted.dtype == np.uint8
    np.testing.assert_array_equal(converted, expected)
