"""Every private Keras API tfae uses, each behind one function here.

There is no public hook for these; `tests/test_keras_private.py` checks each
one against the installed Keras, so a Keras release that changes one fails
that test by name instead of breaking training somewhere deeper.

- `Trainer._symbolic_build(data_batch=...)`: builds the model, its compiled
  loss and metrics and its optimizer from one real batch. Keras' `fit` does
  this itself by peeking at the first element of its input; the engine feeds
  Keras tokens instead of batches, so it builds from a real batch first.
"""

from __future__ import annotations

from typing import Any

import keras

PRIVATE_APIS = ("keras.Model._symbolic_build",)


def symbolic_build(model: keras.Model, data_batch: Any) -> None:
    """Build `model`, its compiled loss, metrics and optimizer from one batch of `(x[, y[, sample_weight]])`."""
    model._symbolic_build(data_batch=data_batch)
