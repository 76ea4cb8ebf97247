"""Keras callbacks for watching an autoencoder train."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tfae import _errors, _validation, plotting


class ReconstructionImages(keras.callbacks.Callback):
    """Logs originals above their reconstructions to TensorBoard at the end of every `freq` epochs.

    The grid is the one `tfae.plotting.reconstruction_grid` draws, as an image
    summary named `name` with the epoch (counted from 0, as Keras' `TensorBoard`
    callback counts) as its step, in `log_dir/images`: give the `log_dir` of
    `keras.callbacks.TensorBoard` to see both side by side. The summaries are
    written with TensorFlow's `tf.summary` (TensorFlow is a tfae dependency), so
    the callback works under every Keras backend.

    Args:
        x: the samples to show, shaped `(m, *input_shape)`, values in [0, 1];
            the first `n` are used.
        log_dir: the TensorBoard log folder.
        n: how many samples to show.
        freq: log every `freq` epochs (the last epoch of `fit` is logged too).
        name: the image summary's tag.
        image_shape: `(h, w)` for flat non-square samples.

    Example:

    ```python
    import keras, tfae

    (x_train, _), (x_test, _) = tfae.datasets.load_mnist_sample()
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=32)
    ae.compile()
    ae.fit(x_train[:512], epochs=2, verbose=0, callbacks=[
        keras.callbacks.TensorBoard("logs"),
        tfae.callbacks.ReconstructionImages(x_test[:8], log_dir="logs"),
    ])
    ```

    Then `tensorboard --logdir logs` shows the grid under Images, one per epoch.
    The model's `reconstruct` is used when it has one (every tfae autoencoder),
    its `predict` otherwise, so a plain Keras autoencoder works too.
    """

    def __init__(
        self,
        x: Any,
        *,
        log_dir: str | os.PathLike = "logs",
        n: int = 8,
        freq: int = 1,
        name: str = "reconstructions",
        image_shape: tuple[int, int] | None = None,
    ):
        super().__init__()
        self.n = _validation.positive_int(n, "n")
        self.x = _validation.as_float_array(x, name="x")[: self.n]
        if self.x.ndim < 2 or self.x.shape[0] == 0:
            raise ValueError(f"Expected `x` to be a batch of samples (m, *input_shape), m >= 1. "
                             f"Received: x.shape={np.shape(x)}")
        if not isinstance(log_dir, (str, os.PathLike)):
            raise ValueError(f"Expected `log_dir` to be a path. Received: log_dir={log_dir!r}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"Expected `name` to be a non-empty string. Received: name={name!r}")
        self.log_dir = os.fspath(log_dir)
        self.freq = _validation.positive_int(freq, "freq")
        self.name = name
        self.image_shape = image_shape
        # Fail now, not after the first epoch, if the samples cannot be drawn as images.
        plotting._as_images(self.x, "x", image_shape)  # named as this callback's argument
        self._writer = None
        self._epochs = None

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs") if self.params else None

    def on_epoch_end(self, epoch, logs=None):
        last = self._epochs is not None and epoch + 1 == self._epochs
        if (epoch + 1) % self.freq == 0 or last:
            self.log(epoch)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def tiles(self) -> np.ndarray:
        """The grid as a uint8 array `(2 * (h + 2), n * (w + 2))`, from the model's current weights."""
        model = self.model
        run = getattr(model, "reconstruct", None)
        reconstructions = run(self.x) if callable(run) else model.predict(self.x, verbose=0)
        return plotting.reconstruction_tiles(
            self.x, np.reshape(np.asarray(reconstructions), self.x.shape), n=self.n, image_shape=self.image_shape
        )

    def log(self, step: int) -> None:
        """Write the grid at `step` (the epoch) now."""
        import tensorflow as tf

        if self._writer is None:  # opened on the first log of a `fit`, closed at its end
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "images"))
        with self._writer.as_default():
            tf.summary.image(self.name, self.tiles()[None, :, :, None], step=step)
        self._writer.flush()


def _numpy_copies(variables) -> list[np.ndarray]:
    """Each Keras variable's value, as a numpy array of its own.

    Keras' `Variable.__array__` takes no `copy` argument, for which numpy 2
    warns (`DeprecationWarning`, an error under `-W error`) on each
    conversion, `keras.ops.convert_to_numpy` included; nothing a user can act
    on, and Keras' own `fit` gives no such warning, so it is silenced here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword",
                                category=DeprecationWarning)
        return [np.array(variable) for variable in variables]


class StopOnNaN(keras.callbacks.Callback):
    """Stops training when the loss becomes NaN or infinite, and puts back the last good weights.

    Keras' own `TerminateOnNaN` stops, but leaves the model with the NaN
    weights that caused it. This callback copies the weights (and the
    optimizer's state) when the first epoch begins (after a resuming
    `BackupAndRestore` has loaded its backup) and after every epoch whose loss
    and weights are finite. At the end of an epoch whose loss (or `val_loss`)
    or weights are not, it restores that copy, stops training and warns,
    saying which epoch went wrong and which one the weights now come from.
    The epoch's entry stays in the history, as Keras recorded it.

    tfae's models add one to every `fit` (set `model.stop_on_nan = False` for
    Keras' behaviour, or pass your own); any Keras model can use it too.
    Checking at epoch ends keeps the engine's many-steps programs: the weights
    kept are those of the end of the last good epoch.

    Attributes:
        stopped_epoch: the epoch (counted from 0) whose loss was not finite, or None.
        restored_epoch: the epoch whose weights were put back (one before the
            first epoch run: those from before training), or None.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    ae.compile(optimizer=keras.optimizers.SGD(learning_rate=1e6), loss="mse")   # diverges
    ae.fit(x_train[:256], epochs=3, verbose=0)          # a RuntimeWarning says what happened
    assert all(np.isfinite(w).all() for w in ae.get_weights())
    ```
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopped_epoch: int | None = None
        self.restored_epoch: int | None = None
        self._kept: tuple[list, list] | None = None
        self._kept_epoch = -1

    def _state(self) -> tuple[list, list]:
        """Copies of the model's weights and the optimizer's variables, as numpy arrays."""
        optimizer = getattr(self.model, "optimizer", None)
        return _numpy_copies(self.model.weights), _numpy_copies(getattr(optimizer, "variables", []))

    def on_train_begin(self, logs=None):
        self.stopped_epoch = self.restored_epoch = None
        self._kept = None

    def on_epoch_begin(self, epoch, logs=None):
        # The first copy is taken here, after every callback's on_train_begin: a BackupAndRestore may
        # have loaded the weights of a resumed run by then.
        if self._kept is None:
            self._kept, self._kept_epoch = self._state(), epoch - 1

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        bad = [f"{name} became {logs[name]}" for name in ("loss", "val_loss")
               if name in logs and not np.isfinite(float(logs[name]))]
        state = self._state()
        if not bad and not all(np.isfinite(w).all() for w in state[0] if w.dtype.kind == "f"):
            # A loss is computed before each update: the epoch's last update can overflow unseen.
            bad = ["the weights became NaN or infinite"]
        if not bad:
            self._kept, self._kept_epoch = state, epoch
            return
        weights, optimizer_state = self._kept
        for variable, value in zip(self.model.weights, weights):
            variable.assign(value)
        optimizer = getattr(self.model, "optimizer", None)
        for variable, value in zip(getattr(optimizer, "variables", []), optimizer_state):
            variable.assign(value)
        self.model.stop_training = True
        self.stopped_epoch, self.restored_epoch = epoch, self._kept_epoch
        source = "before training" if self._kept_epoch < 0 else f"at the end of epoch {self._kept_epoch + 1}"
        warnings.warn(
            f"Training stopped: {' and '.join(bad)} in epoch {epoch + 1}. The weights and "
            f"optimizer state are those {source}, the last with a finite loss and weights. Lower the learning rate, "
            "or clip gradients (compile(optimizer=keras.optimizers.Adam(clipnorm=1.0))).",
            RuntimeWarning,
            stacklevel=_errors.users_frame(),
        )


class BackupAndRestore(keras.callbacks.Callback):
    """Keras' `BackupAndRestore`, written atomically: a kill at any moment never loses the backup.

    Keras' own callback writes the weights and a small JSON of the epoch as two
    files, in place: a process killed while writing either leaves a stub or a
    pair that disagree, and the restart fails or repeats an epoch on weights
    that already trained it. Here both are written into a new folder that
    replaces `backup_dir` (the previous backup is moved aside first and
    deleted after; a kill between the two moves leaves it aside, and the next
    start puts it back).

    Restarting the same `fit` with the same `backup_dir` continues from the
    epoch after the last one backed up, with the weights, optimizer state and
    random state of then (numpy's global generator, from which tfae's engine
    draws the shuffled orders, and the model's seed generators, which draw its
    noise): the epochs already run are not run again, and a seeded `fit` of
    arrays that is killed and resumed ends with the same weights as one that
    was not (with `save_freq="epoch"`). The backup is deleted
    when training ends (`delete_checkpoint=True`), so the next `fit` starts
    afresh. `tfae train --resume` uses it. In a multi-worker job
    (`tfae.distribute`) `backup_dir` must be on storage every worker sees:
    worker 0 writes it, every worker reads it, and a start where the workers
    see different backups is refused.

    After `fit`, `history` holds every finished epoch's logs as `History.history`
    does (`{name: [value per epoch]}`), those of the epochs run before a restart
    included (the backup keeps them): what `fit` returns covers only the epochs
    it ran itself.

    Args:
        backup_dir: the folder of the backup: new, or one this callback wrote
            (anything else is refused before training starts).
        save_freq: `"epoch"` (back up at the end of every epoch; this keeps the
            engine's many-steps programs) or an integer: back up every
            `save_freq` batches as well, as Keras does (a restart then repeats
            the interrupted epoch from the weights of its last backup).
        delete_checkpoint: delete the backup when training ends.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8)
    ae.compile()
    backup = tfae.callbacks.BackupAndRestore("backup")
    ae.fit(x_train[:256], epochs=2, callbacks=[backup], verbose=0)   # killed? run it again: it resumes
    ```
    """

    _STATE_FILE = "training_state.json"
    _WEIGHTS_FILE = "model.weights.h5"

    def __init__(self, backup_dir: str | os.PathLike, *, save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        backup_dir = _validation.path(backup_dir, "backup_dir")
        if not (isinstance(save_freq, str) and save_freq == "epoch"):
            save_freq = _validation.positive_int(save_freq, "save_freq")
        self.backup_dir = Path(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._epoch = 0
        self._batches = 0
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        from tfae import _files, _keras_private, distribute

        self._epoch = self._batches = 0
        self.history = {}
        if distribute.is_chief():
            _files.recover_folder(self.backup_dir)
            _check_backup_dir(self.backup_dir)
        distribute.gathered(0)  # the others read the folder once the chief has put it right
        state = self._backed_up_state()
        epoch = None if state is None else state["epoch"]
        seen = distribute.gathered(-1 if epoch is None else epoch)
        if len(set(seen)) > 1:  # every worker must load the same backup, or their steps would differ
            raise ValueError(f"Expected every worker to see the same backup in '{self.backup_dir}' (shared "
                             f"storage). Received: next epochs {seen} (-1: no backup), by worker index")
        if epoch is None:
            _keras_private.resume_from_epoch(self.model, None)
            return
        if not self.model.built:
            raise ValueError("Expected a built model to restore a backup into. Received: an unbuilt "
                             f"{type(self.model).__name__}; call it on a batch or give `input_shape` first")
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(self.backup_dir / self._WEIGHTS_FILE)
        except ValueError as error:  # Keras lists every layer that did not fit, over many lines
            summary = str(error).strip().splitlines()[0].rstrip(":")
            raise ValueError(f"Cannot resume from the backup in '{self.backup_dir}': its weights do not fit this "
                             f"model ({summary}); resume with the model it was written for, or delete the folder "
                             "to start afresh") from None
        self._restore_random_state(state["random"])
        self.history = state["history"]
        self._epoch = epoch
        _keras_private.resume_from_epoch(self.model, epoch)

    def _backed_up_state(self) -> dict | None:
        """The backup's training state (`epoch`; `random`, None in older backups; `history`, empty in older
        backups), or None when there is no backup."""
        import json

        state_file = self.backup_dir / self._STATE_FILE
        if not state_file.is_file():
            return None
        try:
            state = json.loads(state_file.read_text())
            history = {str(name): [float(value) for value in values]
                       for name, values in state.get("history", {}).items()}
            return {"epoch": int(state["epoch"]), "random": state.get("random"), "history": history}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"Cannot resume from the backup in '{self.backup_dir}': {state_file.name} is "
                             f"damaged ({error}); delete the folder to start afresh") from None

    def _seed_states(self) -> list:
        """The model's seed generator states: the variables Keras tracks that are not weights."""
        weights = {id(variable) for variable in self.model.weights}
        return [variable for variable in self.model.variables if id(variable) not in weights]

    def _random_state(self) -> dict:
        kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
        return {"numpy": [kind, keys.tolist(), int(position), int(has_gauss), float(cached_gaussian)],
                "seed_generators": [state.tolist() for state in _numpy_copies(self._seed_states())]}

    def _restore_random_state(self, saved: dict | None) -> None:
        if saved is None:  # a backup written before the random state was kept: resume with today's
            return
        states = self._seed_states()
        try:
            kind, keys, position, has_gauss, cached_gaussian = saved["numpy"]
            numpy_state = (kind, np.asarray(keys, np.uint32), int(position), int(has_gauss), float(cached_gaussian))
            if len(saved["seed_generators"]) != len(states):
                raise ValueError(f"{len(saved['seed_generators'])} seed generator states for a model with "
                                 f"{len(states)}")
            values = [np.asarray(value).astype(state.dtype) for state, value in zip(states, saved["seed_generators"])]
            np.random.set_state(numpy_state)
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"Cannot resume from the backup in '{self.backup_dir}': the random state in "
                             f"{self._STATE_FILE} does not fit this model ({error}); delete the folder to start "
                             "afresh") from None
        for state, value in zip(states, values):
            state.assign(value)

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._back_up(self._epoch)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self._back_up(epoch + 1)

    def on_train_end(self, logs=None):
        from tfae import _keras_private, distribute

        _keras_private.resume_from_epoch(self.model, None)  # Keras would start every later fit there too
        if (self.delete_checkpoint and distribute.is_chief() and self.backup_dir.is_dir()
                and _is_backup(self.backup_dir)):
            import shutil

            shutil.rmtree(self.backup_dir)

    def _back_up(self, next_epoch: int) -> None:
        import json

        from tfae import _files, distribute

        state = {"epoch": next_epoch, "random": self._random_state(), "history": self.history}

        def write(folder: Path) -> None:
            self.model.save_weights(folder / self._WEIGHTS_FILE)
            (folder / self._STATE_FILE).write_text(json.dumps(state))

        if distribute.is_chief():
            _files.write_folder(self.backup_dir, write, replaceable=_is_backup)
        else:
            with distribute.scratch_folder() as scratch:
                write(scratch)


def _is_backup(folder: Path) -> bool:
    """Whether `folder` holds nothing but what `BackupAndRestore` writes."""
    names = {BackupAndRestore._STATE_FILE, BackupAndRestore._WEIGHTS_FILE}
    return all(entry.name in names for entry in folder.iterdir())


def _check_backup_dir(folder: Path) -> None:
    """Refuse a `backup_dir` that is not a new folder or a backup, before any training (and any deleting)."""
    from tfae import _files

    if _files.holds_other_files(folder, _is_backup):
        what = "holds other files" if folder.is_dir() else "is a file"
        raise ValueError("Expected `backup_dir` to be a new folder or one BackupAndRestore wrote. "
                         f"Received: backup_dir={str(folder)!r}, which {what}")
