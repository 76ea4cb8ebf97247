"""The benchmarks' own data paths: what they time must be the data they claim to time."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from benchmarks import streaming  # noqa: E402


def test_the_streaming_benchmark_reads_back_every_image_it_wrote_through_each_input_kind(tmp_path):
    x = np.random.default_rng(0).random((45, streaming.PIXELS), dtype=np.float32)
    expected = np.round(x * 255).astype(np.uint8) / np.float32(255)
    paths = streaming.write_shards(x, tmp_path)
    assert len(paths) == streaming.SHARDS
    read = np.concatenate(list(streaming.tf_dataset(paths, 8, pairs=False).as_numpy_iterator()))
    np.testing.assert_array_equal(read, expected)
    pairs = list(streaming.tf_dataset(paths, 8, pairs=True, passes=2).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([a for a, _ in pairs]), np.concatenate([expected, expected]))
    assert all((a == b).all() for a, b in pairs)
    for batches in (list(streaming.generator(paths, 8)), [*streaming.py_dataset(paths, 8)]):
        assert [len(a) for a, _ in batches] == [8] * 5 + [5]
        np.testing.assert_array_equal(np.concatenate([a for a, _ in batches]), expected)
