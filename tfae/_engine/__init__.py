"""The engine: the one place where tfae bypasses Keras' own loops, behind two hooks.

- Training: `fit(model, keras_fit, x, y, sample_weight, arguments)` and
  `make_train_function(...)`, which a model's `fit` and
  `make_train_function` delegate to (`training.py`; per backend
  `tensorflow.py`, `jax.py`).
- Inference: `infer(model, key, layer, x, ...)` runs a layer over arrays in
  compiled, bucketed batches (`inference.py`).

What `fit`/`evaluate` accept is checked in `boundary.py`. The engine never
changes a result: it runs the model's own `train_step` and hands anything it
cannot reproduce exactly to Keras' own loop (docs/keras.md).
"""

from tfae._engine.boundary import check_data, check_unit_targets, check_validation_data, keras_targets
from tfae._engine.inference import DEFAULT_BATCH_SIZE, dataset_inputs, infer, is_batches
from tfae._engine.training import build, default_jit_compile, fit, forget, make_train_function

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "build",
    "check_data",
    "check_unit_targets",
    "check_validation_data",
    "dataset_inputs",
    "default_jit_compile",
    "fit",
    "forget",
    "infer",
    "is_batches",
    "keras_targets",
    "make_train_function",
]
