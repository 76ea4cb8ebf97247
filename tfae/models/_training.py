"""`fit`, `evaluate` and `make_train_function` shared by tfae's models: arrays checked, then the engine.

A model that mixes in `FastTraining` (before `keras.Model`) and sets
`sample_shape` gets the checks of `tfae._engine.boundary` and the engine's
fast path, with Keras' semantics; `y is None` means "the targets are the
inputs" (an autoencoder's default, ignored by models that need no targets).
"""

from __future__ import annotations

import threading

import keras

from tfae import _engine, _keras_private, _validation
from tfae._engine.training import callback_list


class FastTraining:
    """`keras.Model.fit` / `evaluate` with checked arrays, `y` defaulting to `x`, and the engine's fast path."""

    sample_shape: tuple[int, ...] | None
    # A NaN loss stops `fit` and restores the last good weights (tfae.callbacks.StopOnNaN); False: Keras' way.
    stop_on_nan: bool = True

    def __setattr__(self, name, value):
        if _keras_private.is_untracked_step_state(name):
            # Keras' attribute tracker would walk the whole training state at every step, to track nothing.
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def make_train_function(self, force: bool = False):
        return _engine.make_train_function(self, super().make_train_function, force)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
            validation_freq=1):
        """Trains the model: `keras.Model.fit`, with `y` defaulting to `x` and `validation_data` inputs alone.

        Same arguments and results as `keras.Model.fit`. Arrays are checked up
        front (shapes, finite values, matching lengths, targets in [0, 1] for
        the cross-entropy losses); on the TensorFlow and JAX backends, training
        on arrays runs many steps per compiled program over data the backend
        holds, with Keras' semantics (see docs/keras.md). A NaN or infinite
        loss stops training with a warning and the last good weights
        (`tfae.callbacks.StopOnNaN`; `model.stop_on_nan = False` turns it off).
        """
        epochs = _validation.non_negative_int(epochs, "epochs")
        initial_epoch = _validation.non_negative_int(initial_epoch, "initial_epoch")
        validation_split = _validation.unit_interval(validation_split, "validation_split")
        if batch_size is not None:
            batch_size = _validation.batch_size(batch_size)
        x, y, sample_weight = _engine.check_data(self, x, y, sample_weight, feature_shape=self.sample_shape)
        callbacks = _with_nan_guard(callbacks) if self.stop_on_nan else callbacks
        arguments = dict(
            batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split,
            validation_data=_engine.check_validation_data(self, validation_data, feature_shape=self.sample_shape),
            shuffle=shuffle, class_weight=class_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq,
        )
        return _engine.fit(self, super().fit, x, y, sample_weight, arguments)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Evaluates the model: `keras.Model.evaluate`, with `y` defaulting to `x`."""
        if batch_size is not None:
            batch_size = _validation.batch_size(batch_size)
        x, y, sample_weight = _engine.check_data(self, x, y, sample_weight, feature_shape=self.sample_shape)
        return super().evaluate(x, _engine.keras_targets(x, y, sample_weight), batch_size=batch_size,
                                verbose=verbose, sample_weight=sample_weight, steps=steps, callbacks=callbacks,
                                return_dict=return_dict, **kwargs)


def _with_nan_guard(callbacks):
    """A `StopOnNaN` before the user's callbacks (so checkpoints see the restored weights), unless they
    already stop on NaN their own way."""
    from tfae.callbacks import StopOnNaN

    if isinstance(callbacks, keras.callbacks.CallbackList):
        return callbacks  # Keras' own container: used as given
    listed = callback_list(callbacks)
    if any(isinstance(c, (StopOnNaN, keras.callbacks.TerminateOnNaN)) for c in listed):
        return callbacks
    return [StopOnNaN(), *listed]


def track(tracker: keras.metrics.Mean, loss, batch) -> None:
    """Report a loss term that Keras' `Loss` reduced (and scaled per replica) as the batch's mean."""
    tracker.update_state(_keras_private.unscale_loss_for_distribution(loss), sample_weight=batch)


class Handoff:
    """A value `call` leaves for `compute_loss` of the same step, beside the output it returns.

    Keras hands `compute_loss` only the model's output; what else the step
    computed (logits, a KL term, a discriminator's verdicts) is left here,
    per thread (TensorFlow's strategies run one replica per thread), and
    taken only for that very output, so a stale value is never taken for
    another step's.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def leave(self, output, value) -> None:
        self._local.entry = (output, value)

    def take(self, output):
        """The value left beside `output`, or None (another call's output, or none left); clears it."""
        entry = getattr(self._local, "entry", None)
        self._local.entry = None
        return entry[1] if entry is not None and entry[0] is output else None
