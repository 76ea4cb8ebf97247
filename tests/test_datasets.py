import gzip
import hashlib
import io
import struct

import numpy as np
import pytest

import tfae
from tests.conftest import FULL_MNIST
from tfae import datasets
from tfae.datasets import IDXError, read_idx
from tfae.datasets._idx import idx_header

needs_full_mnist = pytest.mark.skipif(not FULL_MNIST.is_dir(), reason="full MNIST not present")


def write_idx(path, array, *, compress=None):
    codes = {np.dtype(np.uint8): 0x08}
    data = struct.pack(">HBB", 0, codes[array.dtype], array.ndim)
    data += struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    if compress is None:
        compress = str(path).endswith(".gz")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_mnist_folder(folder, n_train=6, n_test=4, *, gz=True):
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for stem, array in arrays.items():
        write_idx(folder / f"{stem}{suffix}", array)
    return arrays


def test_sample_is_real_mnist_of_the_documented_size_and_range():
    (x_train, y_train), (x_test, y_test) = tfae.datasets.load_mnist_sample()
    assert x_train.shape == (8000, 784) and x_test.shape == (2000, 784)
    assert x_train.dtype == np.float32 and 0.0 == x_train.min() and x_train.max() == 1.0
    assert y_train.shape == (8000,) and set(np.unique(y_train)) == set(range(10))
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's famous first labels
    assert list(y_test[:5]) == [7, 2, 1, 0, 4]


def test_sample_options_reshape_and_keep_raw_bytes():
    (x_train, _), _ = tfae.datasets.load_mnist_sample(flatten=False, normalize=False)
    assert x_train.shape == (8000, 28, 28, 1) and x_train.dtype == np.uint8 and x_train.max() == 255


@needs_full_mnist
def test_sample_is_the_head_of_the_full_data_set():
    (x_full, y_full), (t_full, l_full) = tfae.datasets.load_mnist(FULL_MNIST, normalize=False)
    (x_sample, y_sample), (t_sample, l_sample) = tfae.datasets.load_mnist_sample(normalize=False)
    np.testing.assert_array_equal(x_sample, x_full[:8000])
    np.testing.assert_array_equal(y_sample, y_full[:8000])
    np.testing.assert_array_equal(t_sample, t_full[:2000])
    np.testing.assert_array_equal(l_sample, l_full[:2000])


@needs_full_mnist
def test_full_mnist_from_the_idx_folder_matches_the_published_checksums():
    # The MD5 of each uncompressed file, as published with MNIST; read_idx gives back every byte after the header.
    published = {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
                 "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
                 "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
                 "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"}
    for name, md5 in published.items():
        raw = read_idx(FULL_MNIST / f"{name}.gz")
        header = struct.pack(f">I{raw.ndim}I", 0x0800 + raw.ndim, *raw.shape)
        assert hashlib.md5(header + raw.tobytes()).hexdigest() == md5, name
    (x_train, y_train), (x_test, _) = tfae.datasets.load_mnist(FULL_MNIST)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert list(np.bincount(y_train)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_reads_an_idx_folder_gzipped_or_not(tmp_path, gz):
    arrays = write_mnist_folder(tmp_path, gz=gz)
    (x_train, y_train), (x_test, y_test) = tfae.datasets.load_mnist(tmp_path, normalize=False, flatten=False)
    np.testing.assert_array_equal(x_train[..., 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(x_test[..., 0], arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_reads_a_keras_npz_file_and_the_keras_cache(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_train": np.array([1, 2, 3], np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": np.array([4, 5], np.uint8),
    }
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", **arrays)
    (x_train, y_train), _ = tfae.datasets.load_mnist(tmp_path / "datasets" / "mnist.npz")
    np.testing.assert_allclose(x_train, arrays["x_train"].reshape(3, 784) / 255.0, rtol=1e-6)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (_, y_cached), _ = tfae.datasets.load_mnist(download=False)
    np.testing.assert_array_equal(y_cached, [1, 2, 3])


def test_load_mnist_without_any_source_says_how_to_provide_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="load_mnist_sample"):
        tfae.datasets.load_mnist(download=False)


def test_load_mnist_reports_a_missing_path_and_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tfae.datasets.load_mnist(tmp_path / "nowhere")
    write_mnist_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte"):
        tfae.datasets.load_mnist(tmp_path)


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    path = write_idx(tmp_path / "images", np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IDXError, match="header declares shape"):
        read_idx(path)


def test_truncated_gzip_idx_file_is_a_clear_error(tmp_path):
    path = write_idx(tmp_path / "images.gz", np.zeros((40, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(IDXError, match="corrupt|truncated"):
        read_idx(path)


def test_header_claiming_a_huge_array_fails_before_allocating(tmp_path):
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBIII", 0, 8, 3, 2**31, 28, 28) + b"\0" * 100))
    with pytest.raises(IDXError, match="more than a"):
        read_idx(path)
    plain = tmp_path / "huge"
    plain.write_bytes(struct.pack(">HBBIII", 0, 8, 3, 2**31, 28, 28) + b"\0" * 100)
    with pytest.raises(IDXError, match="but the file has 116 bytes"):
        read_idx(plain)


def test_bad_magic_number_is_a_clear_error(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 20)
    with pytest.raises(IDXError, match="bad magic number"):
        read_idx(path)


@pytest.mark.parametrize(
    "header, magic",
    [
        pytest.param(struct.pack(">HBBI", 1, 0x08, 1, 3), "0x00010801", id="first two bytes not zero"),
        pytest.param(struct.pack(">HBBI", 0, 0x07, 1, 3), "0x00000701", id="unknown type code"),
        pytest.param(struct.pack(">HBB", 0, 0x08, 0), "0x00000800", id="rank zero"),
    ],
)
def test_each_bad_header_field_alone_is_a_clear_error(tmp_path, header, magic):
    path = tmp_path / "bad"
    path.write_bytes(header + b"\0" * 3)  # otherwise well formed: a 3-element payload
    with pytest.raises(IDXError) as caught:
        read_idx(path)
    assert str(caught.value) == (f"Cannot read IDX file '{path}': bad magic number {magic} "
                                 "(expected 0x0000, a type code and a rank)")


def idx_bytes(code, shape, payload=b""):
    return struct.pack(f">HBB{len(shape)}I", 0, code, len(shape), *shape) + payload


@pytest.mark.parametrize(
    "name, data, why",
    [
        ("empty", b"\0\0", "the file ends inside the 4-byte header (2 bytes)"),
        ("magic", b"PK\3\4" + b"\0" * 8, "bad magic number 0x504b0304 (expected 0x0000, a type code and a rank)"),
        ("dims", struct.pack(">HBB", 0, 0x08, 3) + b"\0" * 5, "the file ends inside the header of a rank-3 array"),
        ("rank255", struct.pack(">HBB", 0, 0x08, 255) + b"\0" * 8, "the file ends inside the header of a rank-255 array"),
        ("short", idx_bytes(0x0D, (2, 3), b"\0" * 20),
         "the header declares shape (2, 3) (36 bytes) but the file has 32 bytes"),
        ("long", idx_bytes(0x0B, (3,), b"\0" * 7), "the header declares shape (3,) (14 bytes) but the file has 15 bytes"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.isalnum() else "",
)
def test_every_idx_error_names_the_file_and_the_exact_problem(tmp_path, name, data, why):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IDXError) as error:
        read_idx(path)
    assert str(error.value) == f"Cannot read IDX file '{path}': {why}"


def test_gzip_idx_errors_name_the_file_and_the_exact_problem(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x0C, (2, 2), b"\0" * 12)))
    with pytest.raises(IDXError) as error:
        read_idx(path)
    assert str(error.value) == (f"Cannot read IDX file '{path}': the header declares shape (2, 2) (16 data bytes) "
                                "but only 12 are present (truncated file?)")
    path.write_bytes(gzip.compress(idx_bytes(0x0E, (2,), b"\0" * 17)))
    with pytest.raises(IDXError) as error:
        read_idx(path)
    assert str(error.value) == f"Cannot read IDX file '{path}': there is data after the 16 bytes of shape (2,)"


def test_a_gzip_header_declaring_exactly_the_deflate_limit_is_not_refused_as_too_big(tmp_path, monkeypatch):
    from tfae.datasets import _idx

    monkeypatch.setattr(_idx, "_MAX_DEFLATE_RATIO", 3)  # a small limit, to reach it exactly
    path, n = tmp_path / "edge.gz", 100
    for _ in range(20):  # the declared size changes the compressed size: iterate to a fixed point
        path.write_bytes(gzip.compress(idx_bytes(0x08, (n,)), mtime=0))
        if 8 + n == 3 * path.stat().st_size:
            break
        n = 3 * path.stat().st_size - 8
    assert 8 + n == 3 * path.stat().st_size
    with pytest.raises(IDXError, match="but only 0 are present"):
        read_idx(path)  # let through by the size check; then the payload is short
    path.write_bytes(gzip.compress(idx_bytes(0x08, (n + 1,)), mtime=0))
    if 8 + n + 1 > 3 * path.stat().st_size:
        with pytest.raises(IDXError, match="more than a"):
            read_idx(path)


@pytest.mark.parametrize("code, dtype", [(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")])
def test_every_type_code_reads_its_values_in_native_byte_order(tmp_path, code, dtype):
    values = np.array([[-2, 1.5 if "f" in dtype else 1], [3, 0]], dtype=dtype)
    path = tmp_path / "values"
    path.write_bytes(idx_bytes(code, values.shape, values.tobytes()))
    got = read_idx(path)
    assert got.dtype == values.dtype.newbyteorder("=") and got.dtype.isnative
    np.testing.assert_array_equal(got, values)
    assert idx_header(path) == ((2, 2), np.dtype(dtype))


def test_read_idx_refuses_a_path_that_is_not_a_path():
    with pytest.raises(ValueError, match=r"Expected `path` to be a file or folder path. Received: path=3"):
        read_idx(3)


@pytest.mark.parametrize(("code", "expected"), [(0x08, np.array([1, 2, 255], np.uint8)),
                                              (0x09, np.array([1, 2, -1], np.int8))])
def test_a_good_header_with_each_type_code_of_one_byte_reads(tmp_path, code, expected):
    path = tmp_path / "ok"
    path.write_bytes(struct.pack(">HBBI", 0, code, 1, 3) + bytes([1, 2, 255]))
    got = read_idx(path)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_trailing_bytes_are_a_clear_error(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.zeros(5, np.uint8), compress=False)
    path.write_bytes(gzip.compress(path.read_bytes() + b"extra"))
    with pytest.raises(IDXError, match="data after"):
        read_idx(path)


def test_images_of_the_wrong_size_are_not_mnist(tmp_path):
    write_mnist_folder(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((6, 20, 20), np.uint8))
    with pytest.raises(ValueError, match=r"Received: images \(6, 20, 20\)"):
        tfae.datasets.load_mnist(tmp_path)


def test_loaded_images_start_on_a_64_byte_boundary_so_training_can_share_them(mnist_sample):
    (x_train, _), (x_test, _) = mnist_sample
    assert x_train.ctypes.data % 64 == 0 and x_test.ctypes.data % 64 == 0
    assert x_train.flags.c_contiguous and x_train.flags.writeable


def write_digit_pngs(folder, images):
    from tfae import plotting

    folder.mkdir(exist_ok=True)
    for i, image in enumerate(images):
        plotting.write_png(folder / f"{i:03d}.png", np.round(image.reshape(28, 28) * 255).astype("uint8"))


def test_load_images_reads_a_folder_in_name_order_with_the_pixels_it_was_written_with(tmp_path):
    (x_train, _), _ = datasets.load_mnist_sample()
    write_digit_pngs(tmp_path / "digits", x_train[:5][::-1])
    (tmp_path / "digits" / "notes.txt").write_text("not an image")
    images, names = datasets.load_images(tmp_path / "digits")
    assert names == [f"{i:03d}.png" for i in range(5)]
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images.reshape(5, 784), x_train[:5][::-1], atol=0.5 / 255)
    raw, _ = datasets.load_images(tmp_path / "digits", normalize=False)
    assert raw.dtype == np.uint8
    rgb, _ = datasets.load_images(tmp_path / "digits", color_mode="rgb")
    assert rgb.shape == (5, 28, 28, 3) and (rgb[..., 0] == rgb[..., 2]).all()


def test_load_images_names_the_file_or_argument_that_is_wrong(tmp_path):
    from tfae import plotting

    with pytest.raises(FileNotFoundError, match="no such folder"):
        datasets.load_images(tmp_path / "none")
    with pytest.raises(ValueError, match="with none"):
        datasets.load_images(tmp_path)
    with pytest.raises(ValueError, match="Received: color_mode='cmyk'"):
        datasets.load_images(tmp_path, color_mode="cmyk")
    plotting.write_png(tmp_path / "a.png", np.zeros((28, 28), np.uint8))
    plotting.write_png(tmp_path / "b.png", np.zeros((14, 28), np.uint8))
    with pytest.raises(ValueError, match=r"b.png of \(14, 28\)"):
        datasets.load_images(tmp_path)
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ValueError, match="Expected a readable image. Received: .*b.png"):
        datasets.load_images(tmp_path)


def write_mnist_npz(path, **overrides):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_train": np.array([1, 2, 3], np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": np.array([4, 5], np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **arrays)
    return arrays


def test_float_images_keep_their_values_and_are_checked(tmp_path):
    x = np.random.default_rng(0).random((3, 28, 28)).astype(np.float64)
    write_mnist_npz(tmp_path / "m.npz", x_train=x)
    (x_train, _), (x_test, _) = datasets.load_mnist(tmp_path / "m.npz")
    np.testing.assert_allclose(x_train.reshape(3, 28, 28), x, rtol=1e-7)  # not truncated to zeros
    assert x_train.dtype == np.float32 and x_test.max() > 0.5  # the uint8 split is still scaled
    kept, _ = datasets.load_mnist(tmp_path / "m.npz", normalize=False)
    np.testing.assert_allclose(kept[0].reshape(3, 28, 28), x, rtol=1e-7)
    write_mnist_npz(tmp_path / "big.npz", x_train=x * 255)
    with pytest.raises(datasets.DataFileError, match=r"float images in \[0, 1\] with normalize=True"):
        datasets.load_mnist(tmp_path / "big.npz")
    assert datasets.load_mnist(tmp_path / "big.npz", normalize=False)[0][0].max() > 1


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused_not_turned_into_zeros(tmp_path, bad):
    x = np.full((3, 28, 28), 0.5, np.float32)
    x[1, 2, 3] = bad
    write_mnist_npz(tmp_path / "m.npz", x_train=x)
    for normalize in (True, False):
        with pytest.raises(datasets.DataFileError, match="finite"):
            datasets.load_mnist(tmp_path / "m.npz", normalize=normalize)


def test_integer_pixels_outside_a_byte_are_refused_not_wrapped(tmp_path):
    x = np.zeros((3, 28, 28), np.int16)
    x[0, 0, 0] = 300
    write_mnist_npz(tmp_path / "m.npz", x_train=x)
    with pytest.raises(datasets.DataFileError, match="0..255. Received: int16 values from 0 to 300"):
        datasets.load_mnist(tmp_path / "m.npz")
    x[0, 0, 0] = 200  # wider integers holding bytes are fine
    write_mnist_npz(tmp_path / "ok.npz", x_train=x)
    assert datasets.load_mnist(tmp_path / "ok.npz", normalize=False)[0][0].max() == 200


@pytest.mark.parametrize("labels, message", [
    (np.array([1, 2, 300], np.int16), "1 label.s. outside, the first 300 at index 2"),
    (np.array([1, 10, 3], np.uint8), "the first 10 at index 1"),
    (np.array([1, -1, 3], np.int64), "the first -1 at index 1"),
    (np.array([1.0, 2.0, 3.0]), "labels of an integer dtype. Received: dtype float64"),
])
def test_labels_that_are_not_digits_are_refused(tmp_path, labels, message):
    write_mnist_npz(tmp_path / "m.npz", y_train=labels)
    with pytest.raises(datasets.DataFileError, match=message):
        datasets.load_mnist(tmp_path / "m.npz")


def test_image_and_label_counts_are_compared_before_any_payload_is_read(tmp_path):
    write_mnist_folder(tmp_path, n_train=6)
    # Labels for 5 digits, and an image file whose payload is cut: the headers disagree first.
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:60])
    with pytest.raises(datasets.DataFileError, match=r"Received: images \(6, 28, 28\), labels \(5,\)"):
        datasets.load_mnist(tmp_path)
    write_mnist_npz(tmp_path / "m.npz", y_train=np.array([1, 2], np.uint8))
    with pytest.raises(datasets.DataFileError, match=r"images \(3, 28, 28\), labels \(2,\)"):
        datasets.load_mnist(tmp_path / "m.npz")


def test_npz_member_declaring_a_huge_array_fails_before_allocating(tmp_path):
    import zipfile

    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 28, 28), np.uint8))
    header["shape"] = (2**40, 28, 28)
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, header)
    member.write(b"\0" * 784)
    arrays = write_mnist_npz(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(f"{name}.npy", member.getvalue() if name == "x_train" else buffer.getvalue())
    with pytest.raises(datasets.DataFileError, match=r"x_train.npy': the header declares shape \(1099511627776, 28"):
        datasets.load_mnist(tmp_path / "huge.npz")
    from tfae.datasets._npy import read_npz

    with pytest.raises(datasets.DataFileError, match="declares shape"):
        read_npz(tmp_path / "huge.npz")


def test_npz_without_the_mnist_arrays_or_with_objects_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(datasets.DataFileError, match=r"lacks the array\(s\) \['x_train'"):
        datasets.load_mnist(tmp_path / "other.npz")
    arrays = write_mnist_npz(tmp_path / "m.npz")
    arrays["y_test"] = np.array([4, "five"], dtype=object)
    np.savez(tmp_path / "objects.npz", **arrays)
    with pytest.raises(datasets.DataFileError, match="never unpickles"):
        datasets.load_mnist(tmp_path / "objects.npz")


def test_npy_reader_keeps_dtype_order_and_values(tmp_path):
    from tfae.datasets._npy import read_npy

    for array in (np.arange(12, dtype=">i4").reshape(3, 4), np.asfortranarray(np.random.rand(3, 5)),
                  np.zeros((0, 4), np.float32), np.array(3.5)):
        np.save(tmp_path / "a.npy", array)
        loaded = read_npy(tmp_path / "a.npy")
        np.testing.assert_array_equal(loaded, array)
        assert loaded.dtype == array.dtype.newbyteorder("=") and loaded.flags.writeable
