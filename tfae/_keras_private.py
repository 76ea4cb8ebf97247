"""Every private Keras API tfae uses, each behind one function here.

There is no public hook for these; `tests/test_keras_private.py` checks each
one against the installed Keras, so a Keras release that changes one fails
that test by name instead of breaking training somewhere deeper.

- `Trainer._symbolic_build(data_batch=...)`: builds the model, its compiled
  loss and metrics and its optimizer from one real batch. Keras' `fit` does
  this itself by peeking at the first element of its input; the engine feeds
  Keras tokens instead of batches, so it builds from a real batch first.
- `keras.src.losses.loss.unscale_loss_for_distribution(value)`: undoes the
  per-replica scaling Keras applies to a reduced loss under a TensorFlow
  distribution strategy, as Keras' own loss tracker does, so a model's extra
  loss metrics (the VAE's reconstruction and KL terms) report per-example
  values on any number of replicas.
- `Model._initial_epoch`: the epoch Keras' `fit` starts from when a callback
  sets it in `on_train_begin`, as Keras' own `BackupAndRestore` does; tfae's
  atomic `tfae.callbacks.BackupAndRestore` resumes through it.
- `Model._jax_state`: the training state Keras' JAX `fit`, `evaluate` and
  `predict` assign to the model after every step, so that a callback can
  sync it into the variables. Assigned through `Layer.__setattr__`, it is
  walked by Keras' attribute tracker, leaf by leaf, at every step, though it
  holds arrays only, never a variable or layer to track; tfae's models store
  it as a plain attribute (`is_untracked_step_state`).
- `keras.src.backend.compute_output_spec(fn, x)`: runs `fn` on a symbolic
  batch, building every layer it calls. Keras' `build_from_config` builds a
  model without `build()` this way; tfae's models have a `build()`, so they
  call it for the layers a user's subclass adds and uses in its `call`.
- `Layer._flatten_layers(include_self=False)`: every layer inside a layer, at
  any depth. `Model.layers` lists the direct ones only, and a layer that only
  training calls may sit inside another (a user's encoder with an auxiliary
  head); Keras' own loops find unbuilt layers this way.
- `KerasTensor._keras_history` and `Operation._inbound_nodes`: which call of
  which layer made a symbolic tensor, and that call's inputs and outputs.
  A layer's public `output` is its first call's output only; a model's graph
  may hold another call (a layer shared with another model, a model called
  on its own before being nested), so `tfae.split_autoencoder` walks the
  model's own graph instead.
"""

from __future__ import annotations

from typing import Any

import keras

PRIVATE_APIS = (
    "keras.Model._symbolic_build",
    "keras.src.losses.loss.unscale_loss_for_distribution",
    "keras.Model._initial_epoch",
    "keras.Model._jax_state",
    "keras.src.backend.compute_output_spec",
    "keras.Layer._flatten_layers",
    "keras.KerasTensor._keras_history",
    "keras.Operation._inbound_nodes",
)

# Attributes Keras' own loops assign to the model at every step, holding arrays only (above).
_STEP_STATE_ATTRIBUTES = frozenset({"_jax_state"})


def symbolic_build(model: keras.Model, data_batch: Any) -> None:
    """Build `model`, its compiled loss, metrics and optimizer from one batch of `(x[, y[, sample_weight]])`."""
    model._symbolic_build(data_batch=data_batch)


def build_by_calling(model: keras.Model, input_shape: tuple[int | None, ...]) -> None:
    """Run `model.call` on a symbolic batch of `input_shape`, building every layer it calls (no variable changes)."""
    from keras.src import backend

    backend.compute_output_spec(model.call, keras.KerasTensor(input_shape, dtype=model.input_dtype))


def nested_layers(layer: keras.Layer) -> list[keras.Layer]:
    """Every layer inside `layer`, at any depth, without `layer` itself, each once."""
    return layer._flatten_layers(include_self=False, recursive=True)


def producing_call(tensor: keras.KerasTensor) -> tuple[Any, list, list]:
    """The layer (operation) whose call made the symbolic `tensor`, with that call's input and output tensors.

    An input tensor's layer is its `InputLayer`, whose call has no inputs.
    """
    history = tensor._keras_history
    node = history.operation._inbound_nodes[history.node_index]
    return history.operation, list(node.input_tensors), list(node.output_tensors)


def unscale_loss_for_distribution(value: Any) -> Any:
    """A reduced loss as one replica's per-example value: Keras' per-replica scaling undone (identity off-strategy)."""
    from keras.src.losses import loss

    return loss.unscale_loss_for_distribution(value)


def resume_from_epoch(model: keras.Model, epoch: int | None) -> None:
    """Make the `fit` now starting (called from `on_train_begin`) begin at `epoch`, as after a restart.

    Keras never resets it: `None` (from `on_train_end`) lets later `fit` calls start where they are told.
    """
    model._initial_epoch = epoch


def is_untracked_step_state(name: str) -> bool:
    """Whether attribute `name` of a model is the per-step state of Keras' loops, which needs no tracking."""
    return name in _STEP_STATE_ATTRIBUTES
