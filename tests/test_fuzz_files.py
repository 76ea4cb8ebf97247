"""Seeded mutation fuzzing of every file tfae reads: only tfae's clear errors come out, allocation stays bounded.

Each case starts from a valid file, applies a few hundred seeded mutations (bit
flips, truncations, insertions, header rewrites; for gzip files both to the
compressed bytes and to the content before compressing) and loads each result.
"""

import gzip
import io
import tracemalloc

import numpy as np
import pytest

from tfae import datasets
from tfae.datasets._npy import DataFileError, read_npy, read_npz

MUTANTS = 250
GRAPH_MUTANTS = 60
KERAS_MUTANTS = 60


def mutate(data: bytes, rng: np.random.Generator, header: int = 64) -> bytes:
    """One random damage to `data`, biased towards its first `header` and last 64 bytes, where sizes live
    (headers; a zip's central directory)."""
    data = bytearray(data)
    kind = rng.integers(6)
    place = rng.random()
    if place < 0.6:
        where = int(rng.integers(min(header, len(data))))
    elif place < 0.8:
        where = max(0, len(data) - 1 - int(rng.integers(min(64, len(data)))))
    else:
        where = int(rng.integers(len(data)))
    if kind == 0:  # flip bits
        data[where] ^= int(rng.integers(1, 256))
    elif kind == 1:  # truncate
        del data[int(rng.integers(len(data))):]
    elif kind == 2:  # insert bytes
        data[where:where] = rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
    elif kind == 3:  # delete bytes
        del data[where:where + int(rng.integers(1, 16))]
    elif kind == 4:  # a large number, as a lying size field would be (IDX is big-endian, zip little-endian)
        order = "big" if rng.random() < 0.5 else "little"
        data[where:where + 4] = int(rng.choice([0, 1, 2**31 - 1, 2**32 - 1, 2**24])).to_bytes(4, order)
    else:  # random bytes over a stretch
        span = int(rng.integers(1, 32))
        data[where:where + span] = rng.integers(0, 256, span, dtype=np.uint8).tobytes()
    return bytes(data)


def assert_only_clear_errors(load, path, original: bytes, *, seed: int, errors, compress=False, ratio=4):
    """Load `MUTANTS` mutations of `original`; each loads, or raises one of `errors` naming the file."""
    rng = np.random.default_rng(seed)
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(MUTANTS):
        damaged = mutate(original, rng)
        if compress:  # half the time damage the content, then compress it honestly
            damaged = gzip.compress(damaged) if i % 2 else mutate(gzip.compress(original), rng)
        path.write_bytes(damaged)
        tracemalloc.start()
        try:
            load(path)
            outcomes["loaded"] += 1
        except errors as error:
            assert path.name in str(error), (i, error)
            outcomes["refused"] += 1
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutant {i} of {path.name} raised {type(error).__name__}: {error}")
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        # A gzip file may honestly hold ~1032x its size; anything else, a small multiple.
        bound = (1100 if path.suffix == ".gz" else ratio) * len(damaged) + (1 << 20)
        assert peak <= bound, f"mutant {i} of {path.name} allocated {peak} bytes for a {len(damaged)}-byte file"
    assert outcomes["refused"] > MUTANTS // 4, outcomes  # the mutations really do damage


def idx_bytes(array: np.ndarray) -> bytes:
    import struct

    return struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mutated_idx_files_give_idx_errors_only(tmp_path, suffix):
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    assert_only_clear_errors(datasets.read_idx, tmp_path / f"images-idx3-ubyte{suffix}", idx_bytes(images),
                             seed=1, errors=datasets.IDXError, compress=bool(suffix))


def test_mutated_npy_files_give_data_file_errors_only(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.random.default_rng(0).random((16, 28)).astype(np.float32))
    assert_only_clear_errors(read_npy, tmp_path / "x.npy", buffer.getvalue(), seed=2, errors=DataFileError)


def test_mutated_npz_files_give_data_file_errors_only(tmp_path):
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    np.savez(buffer, x_train=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), y_train=np.array([1, 2, 3], np.uint8),
             x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), y_test=np.array([4, 5], np.uint8))
    for seed, load in ((3, read_npz), (4, datasets.load_mnist)):
        assert_only_clear_errors(load, tmp_path / "mnist.npz", buffer.getvalue(), seed=seed, errors=DataFileError)


def test_mutated_compressed_npz_files_give_data_file_errors_only(tmp_path):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros((64, 64), np.float32))
    assert_only_clear_errors(read_npz, tmp_path / "x.npz", buffer.getvalue(), seed=5, errors=DataFileError,
                             ratio=1100)


def test_the_fuzzer_catches_a_loader_that_lets_a_raw_error_escape(tmp_path):
    def careless(path):  # np.load's own errors are not tfae's clear ones
        return np.load(path, allow_pickle=False)

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((16, 28), np.float32))
    with pytest.raises(pytest.fail.Exception, match="raised"):
        assert_only_clear_errors(careless, tmp_path / "x.npy", buffer.getvalue(), seed=2, errors=DataFileError)


def damage_folder_file(folder, rng, names):
    """Mutate one of the files `names` of `folder` in place."""
    file = folder / names[int(rng.integers(len(names)))]
    file.write_bytes(mutate(file.read_bytes(), rng, header=256))
    return file


@pytest.mark.slow  # each damaged save builds a graph and a session
def test_mutated_graph_autoencoder_saves_give_clear_errors_only(tmp_path):
    import shutil

    import tfae

    with tfae.GraphAutoEncoder(16, 4, hidden_units=(8,), optimizer="adam", seed=0) as model:
        model.save(tmp_path / "good")
    names = sorted(p.name for p in (tmp_path / "good").iterdir())
    rng = np.random.default_rng(6)
    refused = 0
    for i in range(GRAPH_MUTANTS):
        shutil.rmtree(tmp_path / "bad", ignore_errors=True)
        shutil.copytree(tmp_path / "good", tmp_path / "bad")
        damage_folder_file(tmp_path / "bad", rng, names)
        try:
            tfae.GraphAutoEncoder.load(tmp_path / "bad").close()
        except (ValueError, FileNotFoundError) as error:
            assert str(tmp_path / "bad") in str(error), (i, error)
            refused += 1
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutant {i} raised {type(error).__name__}: {error}")
    assert refused > 20


def test_mutated_keras_files_give_model_file_errors_only(tmp_path):
    import zipfile

    import tfae

    tfae.AutoEncoder(input_shape=(12,), latent_dim=3, hidden_units=(6,)).save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    rng = np.random.default_rng(7)
    refused = 0
    for i in range(KERAS_MUTANTS):
        damaged = dict(members)
        name = sorted(members)[int(rng.integers(len(members)))]
        damaged[name] = mutate(members[name], rng, header=512)
        path = tmp_path / "bad.keras"
        if i % 5 == 4:  # sometimes the zip itself
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for member, data in members.items():
                    archive.writestr(member, data)
            path.write_bytes(mutate(buffer.getvalue(), rng, header=4096))
        else:
            with zipfile.ZipFile(path, "w") as archive:
                for member, data in damaged.items():
                    archive.writestr(member, data)
        try:
            tfae.load_model(path)
        except tfae.ModelFileError as error:
            assert "bad.keras" in str(error), (i, error)
            refused += 1
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutant {i} raised {type(error).__name__}: {error}")
    assert refused > 20
