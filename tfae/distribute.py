"""Data-parallel training past one machine, on Keras' JAX distribution API over `jax.distributed` processes.

Keras 3's own `fit` fails under TensorFlow's `MultiWorkerMirroredStrategy`
(an open Keras issue: "Attempt to convert a value (PerReplica...)"), so tfae
runs multi-worker training on the engine that works: every worker is a
process with `KERAS_BACKEND=jax`; `multiworker()` joins them into one JAX
runtime and sets a `keras.distribution.DataParallel` over all their devices;
each worker then calls `fit` on its own share of every global batch
(`worker_share`), and Keras' JAX trainer all-reduces the gradients. The
result equals one process training on the same global batches. Single
machine, several devices: `tf.distribute.MirroredStrategy` (TensorFlow
backend) or `keras.distribution.DataParallel` (JAX) work as they are.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np

from tfae import _validation

# Keras' own variables for `keras.distribution.initialize`, read when an argument is not given.
_ENV = {
    "coordinator": "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "num_workers": "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "worker_index": "KERAS_DISTRIBUTION_PROCESS_ID",
}


def multiworker(
    *, coordinator: str | None = None, num_workers: int | None = None, worker_index: int | None = None
) -> keras.distribution.DataParallel:
    """Join this process to a multi-worker job and train data-parallel across all the workers' devices.

    Call it in every worker, before building a model. Arguments not given
    come from Keras' variables `KERAS_DISTRIBUTION_JOB_ADDRESSES` (the
    coordinator, worker 0, as `host:port`), `KERAS_DISTRIBUTION_NUM_PROCESSES`
    and `KERAS_DISTRIBUTION_PROCESS_ID`. On CPUs the workers talk through
    gloo. Needs the JAX backend (`KERAS_BACKEND=jax`).

    Args:
        coordinator: `host:port` of worker 0, the same in every worker.
        num_workers: how many worker processes take part (at least 1).
        worker_index: this worker's index, `0 <= worker_index < num_workers`.

    Returns:
        The `keras.distribution.DataParallel` now set for this process. Its
        `auto_shard_dataset` is False: each worker feeds its own data
        (`worker_share`).

    Raises:
        ValueError: on another backend, or with a missing or bad argument.

    Example:

    ```python
    # worker.py, started as `KERAS_BACKEND=jax python worker.py INDEX` on each of two machines:
    if __name__ == "__main__":
        import sys

        tfae.distribute.multiworker(coordinator="10.0.0.1:1234", num_workers=2, worker_index=int(sys.argv[1]))
        ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=32)
        ae.compile()
        ae.fit(tfae.distribute.worker_share(x_train, global_batch_size=256), batch_size=128, shuffle=False)
        if tfae.distribute.is_chief():
            ae.save("ae.keras")
    ```
    """
    if keras.backend.backend() != "jax":
        raise ValueError("Expected the JAX backend for multi-worker training (set KERAS_BACKEND=jax in every "
                         f"worker). Received: backend {keras.backend.backend()!r}")
    too_old = unsupported_versions()
    if too_old:
        raise ValueError(too_old)
    given = {"coordinator": coordinator, "num_workers": num_workers, "worker_index": worker_index}
    for name, value in list(given.items()):
        if value is None and os.environ.get(_ENV[name]):
            value = os.environ[_ENV[name]]
            given[name] = value if name == "coordinator" else _from_env(name, value)
        if given[name] is None:
            raise ValueError(f"Expected `{name}` or the variable {_ENV[name]}. Received: {name}=None")
    coordinator = given["coordinator"]
    if not isinstance(coordinator, str) or ":" not in coordinator:
        raise ValueError(f"Expected `coordinator` as 'host:port'. Received: coordinator={coordinator!r}")
    num_workers = _validation.positive_int(given["num_workers"], "num_workers")
    worker_index = given["worker_index"]
    if (isinstance(worker_index, bool) or not isinstance(worker_index, numbers.Integral)
            or not 0 <= worker_index < num_workers):
        raise ValueError(f"Expected `worker_index` in [0, {num_workers}). Received: worker_index={worker_index!r}")
    worker_index = int(worker_index)
    import jax

    try:  # CPU devices all-reduce through gloo (GPUs use NCCL whatever this says); set before JAX starts
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, ValueError):  # a JAX without the option
        pass
    keras.distribution.initialize(job_addresses=coordinator, num_processes=num_workers, process_id=worker_index)
    distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices(),
                                                   auto_shard_dataset=False)
    keras.distribution.set_distribution(distribution)
    return distribution


# Oldest versions seen to work here: Keras 3.10 refuses arrays in any multi-process job (tf.data only),
# and JAX 0.4.30 cannot place a variable on the devices of several processes. Keras 3.11 with JAX 0.5.3
# trains two workers to the single-process result; newer releases were tested too (docs/scaling.md).
MIN_KERAS = (3, 11)
MIN_JAX = (0, 5)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def unsupported_versions() -> str | None:
    """Why this installation cannot train multi-worker (Keras or JAX too old), or None when it can.

    Example:

    ```python
    reason = tfae.distribute.unsupported_versions()   # None with current Keras and JAX
    ```
    """
    try:
        import jax
    except ImportError:
        return "Expected JAX for multi-worker training (pip install jax). Received: no jax installed"
    if _version(keras.version()) < MIN_KERAS or _version(jax.__version__) < MIN_JAX:
        return (f"Expected Keras >= {'.'.join(map(str, MIN_KERAS))} and JAX >= {'.'.join(map(str, MIN_JAX))} for "
                f"multi-worker training. Received: keras {keras.version()}, jax {jax.__version__}")
    return None


def _from_env(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"Expected an integer in {_ENV[name]}. Received: {_ENV[name]}={text!r}") from None


def worker_index() -> int:
    """This process's index in a multi-worker job (0 outside one).

    Example:

    ```python
    assert tfae.distribute.worker_index() == 0   # a lone process
    ```
    """
    return _processes()[1]


def num_workers() -> int:
    """How many worker processes the job has (1 outside one).

    Example:

    ```python
    assert tfae.distribute.num_workers() == 1   # a lone process
    ```
    """
    return _processes()[0]


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary folder, deleted on exit: where a worker other than the chief writes a save.

    Under a JAX distribution saving is collective (Keras gathers the weights
    across processes), so every worker must run the same save at the same
    point; only worker 0's files are kept.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    with tfae.distribute.scratch_folder() as folder:
        ae.save(folder / "ae.keras")      # taken part in, then thrown away
    ```
    """
    with tempfile.TemporaryDirectory() as scratch:
        yield Path(scratch)


def _processes() -> tuple[int, int]:
    """`(number of worker processes, this one's index)`: `(1, 0)` outside a JAX multi-process job."""
    if keras.backend.backend() == "jax" and keras.distribution.distribution() is not None:
        import jax

        return jax.process_count(), jax.process_index()
    return 1, 0


def is_chief() -> bool:
    """Whether this process should write the job's files (checkpoints, the model): worker 0, or a lone process.

    Example:

    ```python
    if tfae.distribute.is_chief():
        tfae.AutoEncoder(input_shape=(784,), latent_dim=8).save("ae.keras")
    ```
    """
    return worker_index() == 0


def gathered(value: int) -> list[int]:
    """Every worker's `value`, by worker index (`[value]` outside a job); a collective: all workers call it.

    Args:
        value: this worker's integer.

    Returns:
        A list of `num_workers` integers.

    Example:

    ```python
    assert tfae.distribute.gathered(3) == [3]   # a lone process
    ```
    """
    count, _ = _processes()
    if count == 1:
        return [int(value)]
    from jax.experimental import multihost_utils

    return [int(v) for v in np.asarray(multihost_utils.process_allgather(np.int32(value))).reshape(-1)]


def worker_share(x: np.ndarray | tuple, *, global_batch_size: int, num_workers: int | None = None,
                 worker_index: int | None = None) -> np.ndarray | tuple:
    """This worker's rows of every global batch of `x`, in order.

    Worker `i` of `n` gets rows `[i*b, (i+1)*b)` of each global batch, with
    `b = global_batch_size / n`; `fit(share, batch_size=b, shuffle=False)` on
    every worker then takes the same steps as one process's
    `fit(x, batch_size=global_batch_size, shuffle=False)`. (With
    `shuffle=True` each worker shuffles its own share: still data-parallel
    training, but other batches than one process would draw.)

    Args:
        x: the whole training array, the same in every worker, `(n, ...)`;
            or Keras' data tuple `(x, y)` or `(x, y, sample_weight)`, each
            array shared alike (samples go in a list or an array).
        global_batch_size: the batch all the workers take one step on
            together; a multiple of `num_workers`.
        num_workers: defaults to the job's number of processes (1 outside one).
        worker_index: defaults to this process's index (0 outside one).

    Returns:
        An array of `len(x) / num_workers` rows (a tuple of them for a tuple).

    Example:

    ```python
    x = np.arange(8)[:, None]
    assert tfae.distribute.worker_share(x, global_batch_size=4, num_workers=2, worker_index=1)[:, 0].tolist() \\
        == [2, 3, 6, 7]
    ```
    """
    count, index = _processes()
    num_workers = count if num_workers is None else num_workers
    worker_index = index if worker_index is None else worker_index
    num_workers = _validation.positive_int(num_workers, "num_workers")
    global_batch_size = _validation.positive_int(global_batch_size, "global_batch_size")
    if global_batch_size % num_workers:
        raise ValueError(f"Expected `global_batch_size` to be a multiple of num_workers={num_workers}. "
                         f"Received: global_batch_size={global_batch_size}")
    if (isinstance(worker_index, bool) or not isinstance(worker_index, numbers.Integral)
            or not 0 <= worker_index < num_workers):
        raise ValueError(f"Expected `worker_index` in [0, {num_workers}). Received: worker_index={worker_index!r}")
    worker_index = int(worker_index)
    if isinstance(x, tuple):  # Keras' data tuple (x, y[, sample_weight]): each array shared alike
        if len(x) not in (2, 3):
            raise ValueError("Expected `x` as a tuple to be (x, y) or (x, y, sample_weight), as Keras reads a "
                             f"tuple of data; pass samples as a list or an array. Received: a tuple of {len(x)} items")
        lengths = [len(_validation.numeric_array(part, f"x[{i}]")) for i, part in enumerate(x)]
        if len(set(lengths)) != 1:
            raise ValueError(f"Expected `x` as a tuple to hold arrays of the same number of samples. "
                             f"Received: x with lengths {lengths}")
        return tuple(worker_share(part, global_batch_size=global_batch_size, num_workers=num_workers,
                                  worker_index=worker_index) for part in x)
    x = _validation.numeric_array(x, "x")  # a list of samples too
    if x.ndim == 0:
        raise ValueError(f"Expected `x` to be an array of samples, (n, ...). Received: x of shape {x.shape}")
    rows = len(x) % global_batch_size
    if rows % num_workers:
        raise ValueError(f"Expected the last global batch ({rows} of len(x)={len(x)} rows) to split evenly among "
                         f"{num_workers} workers. Received: global_batch_size={global_batch_size}; drop "
                         f"{rows % num_workers} row(s) or pick another batch size")
    b = global_batch_size // num_workers
    full = len(x) - rows
    body = x[:full].reshape((-1, num_workers, b) + x.shape[1:])[:, worker_index].reshape((-1,) + x.shape[1:])
    tail = x[full:].reshape((num_workers, rows // num_workers) + x.shape[1:])[worker_index]
    return np.concatenate([body, tail])
