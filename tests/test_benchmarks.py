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


@pytest.mark.slow  # every contender trains
def test_every_contender_of_the_epochs_benchmark_trains_the_epochs_of_a_timed_run():
    from benchmarks import epochs

    x = np.random.default_rng(0).random((20, 784), dtype=np.float32)
    contenders = epochs.contenders(batch_size=8, epochs=3)
    assert {"tfae AutoEncoder.fit", "plain Keras fit", "tfae AutoEncoder.fit, steps_per_execution=64",
            "plain Keras fit, steps_per_execution=64"} <= set(contenders)
    for name, (train, reconstruct) in contenders.items():
        trained = train(x)
        epochs_run = len(trained.history["loss"]) if hasattr(trained, "history") else len(trained)
        assert epochs_run == 3, name
        assert np.asarray(reconstruct(x)).shape == (20, 784), name


def test_the_epochs_table_compares_each_keras_row_with_tfae_at_the_same_steps_per_execution():
    from benchmarks import epochs

    speeds = {"tfae AutoEncoder.fit": 100.0, "plain Keras fit": 50.0,
              "tfae AutoEncoder.fit, steps_per_execution=64": 300.0, "plain Keras fit, steps_per_execution=64": 60.0,
              epochs.LIMIT: 400.0}
    run = {"backend": "jax", "data": "d", "epochs": 10,
           "train": {"256": {name: {"samples_per_s": v, "test_bce": 0.1} for name, v in speeds.items()}}}
    table = epochs.markdown({"date": "today", "command": "c", "backends": [run]})
    rows = {line.split(" | ")[0].lstrip("| "): line.rstrip(" |").split(" | ")[-1] for line in table.splitlines()
            if line.startswith("| ") and "samples/s" not in line}
    assert rows["plain Keras fit"] == "2.00x"
    assert rows["plain Keras fit, steps_per_execution=64"] == "5.00x"
    assert rows[epochs.LIMIT] == "0.25x"


def test_the_torch_step_profile_splits_train_step_into_phases_that_add_up_to_the_whole_fit():
    from types import SimpleNamespace

    from benchmarks import torch_step

    def entry(path, function, cumtime, tottime=0.0):
        return (path, 1, function), (1, 1, tottime, cumtime, {})

    keras = "/venv/site-packages/keras/src/"
    stats = SimpleNamespace(total_tt=10.0, stats=dict([
        entry(keras + "backend/torch/trainer.py", "train_step", 8.0),
        entry(keras + "layers/layer.py", "__call__", 3.0),
        entry(keras + "trainers/trainer.py", "_compute_loss", 1.0),
        entry(keras + "trainers/trainer.py", "compute_metrics", 0.5),
        entry("~", "<method 'run_backward' of 'torch._C._EngineBase' objects>", 1.5, tottime=1.5),
        entry(keras + "optimizers/base_optimizer.py", "apply", 1.0),
        entry(keras + "trainers/epoch_iterator.py", "__next__", 0.5),
        entry("~", "<built-in method torch.matmul>", 0.7, tottime=0.7),
        entry("/elsewhere/layer.py", "__call__", 9.0),  # another package's function of the same name
    ]))
    shares = torch_step.phase_shares(stats)
    assert [round(share, 3) for share in shares.values()] == [0.3, 0.1, 0.05, 0.15, 0.1, 0.05, 0.1, 0.15, 0.22]
    assert abs(sum(list(shares.values())[:-1]) - 1.0) < 1e-9


def test_the_benchmarks_tfae_contender_is_compiled_as_asked():
    from benchmarks import baselines

    assert baselines.tfae_autoencoder(jit_compile=False).jit_compile is False
    assert baselines.tfae_autoencoder(steps_per_execution=4).steps_per_execution == 4


@pytest.mark.parametrize("hidden_units", [(), (128, 64)])
def test_the_family_benchmarks_keras_blog_contender_is_the_architecture_of_the_tfae_row(hidden_units):
    import tfae
    from benchmarks import family

    blog = family.keras_blog_dense_autoencoder(hidden_units, 32)
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=32, hidden_units=hidden_units, latent_activation="relu")
    assert [w.shape for w in blog.weights] == [w.shape for w in ae.weights]
    rng = np.random.default_rng(0)
    data = {"flat": rng.random((64, 784), dtype=np.float32), "test_flat": rng.random((16, 784), dtype=np.float32)}
    row = family.row_dense(data, 3, 1, hidden_units, 32, reference_epochs=50)
    assert row["epochs"] == 3 and row["reference_epochs"] == 50
    assert row["epoch_s_tfae"] > 0 and row["epoch_s_reference"] > 0 and 0 < row["test_bce"] < 1
