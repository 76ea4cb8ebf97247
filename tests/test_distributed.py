"""tfae under TensorFlow's distribution strategies (each check in a process of its own)."""

import os
import re
import subprocess
import sys

import keras
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's")


@pytest.mark.slow  # a child process with two logical devices
def test_mirrored_strategy_trains_like_plain_keras_and_like_one_device():
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "tests.mirrored_check"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "OK mirrored" in result.stdout, result.stdout[-3000:] + result.stderr[-5000:]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _multiworker_unsupported():
    import tfae

    return tfae.distribute.unsupported_versions()


needs_multiworker = pytest.mark.skipif(bool(_multiworker_unsupported()), reason=str(_multiworker_unsupported()))


@pytest.mark.slow
@needs_multiworker
def test_two_workers_on_localhost_end_equal_to_one_process_on_the_same_global_batches(tmp_path):
    import numpy as np

    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "jax"}
    run = [sys.executable, "-m", "tests.multiworker_check", str(tmp_path)]
    port = str(_free_port())
    workers = [subprocess.Popen(run + ["worker", str(i), "2", port], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for i in range(2)]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for i, (worker, (stdout, stderr)) in enumerate(zip(workers, outputs)):
        assert worker.returncode == 0 and f"OK worker{i} chief={i == 0}" in stdout, stderr[-5000:]
    single = subprocess.run(run + ["single"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-5000:]
    results = {name: dict(np.load(tmp_path / f"{name}.npz")) for name in ("worker0", "worker1", "single")}
    for key, value in results["worker0"].items():
        np.testing.assert_array_equal(results["worker1"][key], value, err_msg=key)  # one model, held twice
        np.testing.assert_allclose(results["single"][key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    # Only the chief wrote the backup; the other worker wrote nothing.
    assert (tmp_path / "backup-worker0").is_dir() and not (tmp_path / "backup-worker1").exists()


def test_worker_share_gives_each_worker_its_rows_of_every_global_batch():
    import numpy as np

    import tfae

    x = np.arange(20)[:, None]
    shares = [tfae.distribute.worker_share(x, global_batch_size=8, num_workers=2, worker_index=i) for i in (0, 1)]
    assert shares[0][:, 0].tolist() == [0, 1, 2, 3, 8, 9, 10, 11, 16, 17]
    assert shares[1][:, 0].tolist() == [4, 5, 6, 7, 12, 13, 14, 15, 18, 19]
    with pytest.raises(ValueError, match="Received: global_batch_size=7"):
        tfae.distribute.worker_share(x, global_batch_size=7, num_workers=2, worker_index=0)
    with pytest.raises(ValueError, match="last global batch .3 of len.x.=19"):
        tfae.distribute.worker_share(x[:19], global_batch_size=8, num_workers=2, worker_index=0)
    with pytest.raises(ValueError, match=r"Received: worker_index=2"):
        tfae.distribute.worker_share(x, global_batch_size=8, num_workers=2, worker_index=2)
    as_list = tfae.distribute.worker_share(x.tolist(), global_batch_size=8, num_workers=2, worker_index=1)
    assert as_list.tolist() == shares[1].tolist()  # a list of samples, as fit takes one
    for bad, received in (({"x": x}, "x of type dict"), (3.0, "x of shape ()")):
        with pytest.raises(ValueError, match=f"Received: {received}"):
            tfae.distribute.worker_share(bad, global_batch_size=8, num_workers=2, worker_index=0)


def test_worker_share_of_a_tuple_shares_each_array_alike():
    import numpy as np

    import tfae

    x = np.arange(20)[:, None]
    noisy, clean, weights = tfae.distribute.worker_share((x + 100, x, np.arange(20.0)), global_batch_size=8,
                                                          num_workers=2, worker_index=1)
    alone = tfae.distribute.worker_share(x, global_batch_size=8, num_workers=2, worker_index=1)
    np.testing.assert_array_equal(clean, alone)
    np.testing.assert_array_equal(noisy, alone + 100)
    np.testing.assert_array_equal(weights, alone[:, 0].astype(float))
    for bad, received in (((x, x[:10]), "x with lengths [20, 10]"), ((), "a tuple of 0 items"),
                          (tuple(np.arange(16.0).reshape(8, 2)), "a tuple of 8 items")):
        with pytest.raises(ValueError, match=re.escape(f"Received: {received}")):
            tfae.distribute.worker_share(bad, global_batch_size=8, num_workers=2, worker_index=0)


def test_multiworker_needs_the_jax_backend_and_says_so():
    import tfae

    with pytest.raises(ValueError, match="Expected the JAX backend .* Received: backend 'tensorflow'"):
        tfae.distribute.multiworker(coordinator="127.0.0.1:1", num_workers=2, worker_index=0)


@pytest.mark.slow
@needs_multiworker
def test_two_workers_killed_mid_training_resume_from_the_shared_backup_to_the_single_process_result(tmp_path):
    import numpy as np

    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "jax",
           "CHECK_BACKUP": str(tmp_path / "shared-backup")}
    run = [sys.executable, "-m", "tests.multiworker_check", str(tmp_path)]

    def workers(**extra):
        port = str(_free_port())
        started = [subprocess.Popen(run + ["worker", str(i), "2", port], cwd=REPO, env={**env, **extra},
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
        return [(worker, *worker.communicate(timeout=600)) for worker in started]

    for worker, _, stderr in workers(CHECK_CRASH_AT="1"):
        assert worker.returncode == 3, stderr[-3000:]  # both stopped when epoch 2 began
    for i, (worker, stdout, stderr) in enumerate(workers()):
        assert worker.returncode == 0 and f"OK worker{i}" in stdout, stderr[-3000:]
    single = subprocess.run(run + ["single"], cwd=REPO, env={**env, "CHECK_BACKUP": str(tmp_path / "b-single")},
                            capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]
    resumed, alone = dict(np.load(tmp_path / "worker0.npz")), dict(np.load(tmp_path / "single.npz"))
    assert len(resumed["loss"]) == 1 and len(alone["loss"]) == 2  # the resumed run ran epoch 2 only
    np.testing.assert_allclose(resumed["loss"], alone["loss"][1:], rtol=1e-5)
    for key in resumed:
        if key != "loss":
            np.testing.assert_allclose(resumed[key], alone[key], rtol=1e-5, atol=1e-6, err_msg=key)
    np.testing.assert_array_equal(np.load(tmp_path / "worker1.npz")["w0"], resumed["w0"])


@pytest.mark.slow
@needs_multiworker
def test_tfae_train_strategy_multiworker_runs_two_workers_and_only_the_chief_writes(tmp_path):
    port = str(_free_port())
    command = [sys.executable, "-m", "tfae", "train", "--epochs", "1", "--batch-size", "64", "--hidden-units", "16",
               "--latent-dim", "4", "--strategy", "multiworker", "--out"]
    workers = []
    for i in range(2):
        env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "jax",
               "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}", "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
               "KERAS_DISTRIBUTION_PROCESS_ID": str(i)}
        workers.append(subprocess.Popen(command + [str(tmp_path / f"out{i}")], cwd=tmp_path, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs[0][1][-3000:] + outputs[1][1][-3000:]
    assert (tmp_path / "out0" / "model.keras").is_file() and (tmp_path / "out0" / "history.json").is_file()
    assert not (tmp_path / "out1").exists()


@pytest.mark.slow
def test_tfae_train_strategy_mirrored_trains_under_the_strategy(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    from tfae import cli

    original, built = cli.build_model, []

    def spy(*args, **kwargs):
        built.append(original(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(cli, "build_model", spy)
    assert cli.main(["train", "--epochs", "1", "--batch-size", "128", "--hidden-units", "16", "--latent-dim", "4",
                     "--strategy", "mirrored", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "model.keras").is_file()
    assert isinstance(built[0].distribute_strategy, tf.distribute.MirroredStrategy)  # built in its scope
    assert built[0].optimizer.iterations.numpy() > 0


def test_outside_a_job_this_process_is_the_only_worker_and_the_chief():
    import numpy as np

    import tfae

    x = np.arange(10)[:, None]
    np.testing.assert_array_equal(tfae.distribute.worker_share(x, global_batch_size=4), x)
    assert tfae.distribute.worker_index() == 0 and tfae.distribute.is_chief()


@pytest.mark.slow
def test_the_family_trains_under_mirrored_strategy_and_deterministic_models_match_one_device():
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "tests.mirrored_family_check"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0 and "OK mirrored family" in result.stdout, result.stdout[-3000:] + result.stderr[-5000:]


def test_multiworker_names_the_versions_it_needs(monkeypatch):
    import tfae

    monkeypatch.setattr(keras, "version", lambda: "3.10.0")
    assert "Expected Keras >= 3.11 and JAX >= 0.5 for multi-worker training. Received: keras 3.10.0" in \
        tfae.distribute.unsupported_versions()
