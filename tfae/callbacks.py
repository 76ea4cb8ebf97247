"""Keras callbacks for watching an autoencoder train."""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from tfae import _validation, plotting


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
        plotting.reconstruction_tiles(self.x, self.x, n=self.n, image_shape=image_shape)
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
