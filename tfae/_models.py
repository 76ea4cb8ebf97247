"""`AutoEncoder`: a `keras.Model` with first-class `encode`, `decode` and `reconstruct`."""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from tfae import _backend, _validation
from tfae._layers import Decoder, Encoder

# The decoder's logits, handed from `call` to `compute_loss` of the same step.
# Keras passes only the model's output to `compute_loss`; recovering logits from
# sigmoid outputs loses everything past |logit| ~ 17 in float32, which is exactly
# where saturated pixels live. The slot is per thread because TensorFlow's
# distribution strategies run one replica per thread, and it is keyed by the
# output tensor so a stale entry can never be used for another step's output.
_pending_logits = threading.local()


def _remember_logits(outputs, logits) -> None:
    _pending_logits.entry = (outputs, logits)


def _recall_logits(outputs):
    entry = getattr(_pending_logits, "entry", None)
    _pending_logits.entry = None
    if entry is not None and entry[0] is outputs:
        return entry[1]
    return None


@keras.saving.register_keras_serializable(package="tfae")
class SigmoidCrossEntropy(keras.losses.Loss):
    """Per-element sigmoid cross-entropy of a reconstruction, averaged over elements.

    An `AutoEncoder` whose decoder ends in a sigmoid computes this loss from the
    decoder's logits (`softplus(l) - y * l`, exact for targets of 0 and 1 and
    for saturated units). Called on probabilities alone, as Keras losses are,
    it falls back to Keras' clipped binary cross-entropy.
    """

    def __init__(self, name: str = "sigmoid_cross_entropy", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return keras.losses.binary_crossentropy(y_true, y_pred)

    @staticmethod
    def from_logits(y_true, logits, sample_weight=None):
        """The same loss from logits, reduced like Keras' `sum_over_batch_size`."""
        logits = ops.cast(logits, "float32")
        y_true = ops.cast(ops.reshape(y_true, ops.shape(logits)), "float32")
        per_element = ops.softplus(logits) - y_true * logits
        per_sample = ops.mean(ops.reshape(per_element, (ops.shape(logits)[0], -1)), axis=-1)
        if sample_weight is not None:
            per_sample = per_sample * ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        return ops.mean(per_sample)


_DEFAULT_LOSS = "sigmoid_cross_entropy"


def _resolve_loss(loss: Any) -> Any:
    if isinstance(loss, str) and loss == _DEFAULT_LOSS:
        return SigmoidCrossEntropy()
    return loss


def _split_off_validation(x: np.ndarray, y: np.ndarray | None, fraction: Any):
    """Keras' `validation_split` on arrays: the last `fraction` of the samples, before any shuffling."""
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(f"Expected `validation_split` to be a number in (0, 1). Received: validation_split={fraction!r}")
    split_at = int(math.floor(len(x) * (1.0 - fraction)))
    if split_at == 0 or split_at == len(x):
        raise ValueError(
            f"Expected `validation_split` to leave samples for both training and validation. "
            f"Received: validation_split={fraction!r} for {len(x)} samples"
        )
    if y is None:
        return x[:split_at], None, (x[split_at:],)
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])


@keras.saving.register_keras_serializable(package="tfae")
class AutoEncoder(keras.Model):
    """A dense autoencoder: `decoder(encoder(x))`, with `encode`, `decode` and `reconstruct`.

    Build it from shapes (the decoder mirrors the encoder's hidden units):

    >>> ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=128, hidden_units=(256,))

    or from any two Keras layers with the same contract (samples -> codes ->
    samples):

    >>> ae = tfae.AutoEncoder(tfae.Encoder(32), tfae.Decoder((28, 28, 1)))

    Training needs inputs only: `ae.fit(x)` reconstructs `x`; `ae.fit(x_noisy,
    x_clean)` trains a denoiser. `compile()` defaults to Adam(1e-3), sigmoid
    cross-entropy computed from the decoder's logits (averaged over pixels, like
    Keras' `binary_crossentropy`) and an MSE metric.

    `encode`, `decode` and `reconstruct` accept numpy arrays, lists and
    `tf.data` datasets (run in compiled fixed-size batches, numpy out), backend
    tensors (a differentiable call, a tensor out) and symbolic Keras tensors (a
    node of a functional model).

    Args:
        encoder: a Keras layer mapping samples to latent vectors, or `None` to
            build a `tfae.Encoder` from `latent_dim` and `hidden_units`.
        decoder: a Keras layer mapping latent vectors to samples, or `None` to
            build a `tfae.Decoder` mirroring the encoder (needs `input_shape`).
        input_shape: shape of one sample, e.g. `(784,)` or `(28, 28, 1)`. When
            given, the model is built at once; otherwise on first use.
        latent_dim: size of the code, when `encoder` is `None`.
        hidden_units: hidden Dense units of the encoder, input side first; the
            decoder uses them reversed.
        activation: activation of the hidden layers. Defaults to `"relu"`.
        latent_activation: activation of the code. Defaults to `None` (linear).
        output_activation: activation of the reconstruction. Defaults to
            `"sigmoid"`, for data in [0, 1].
        dropout: dropout rate after each hidden layer, in training.
        **kwargs: base model arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, *input_shape)`.

    Output shape:
        `(batch_size, *input_shape)`: the reconstruction.
    """

    def __init__(
        self,
        encoder: keras.layers.Layer | None = None,
        decoder: keras.layers.Layer | None = None,
        *,
        input_shape: int | Sequence[int] | None = None,
        latent_dim: int | None = None,
        hidden_units: int | Sequence[int] = (),
        activation: Any = "relu",
        latent_activation: Any = None,
        output_activation: Any = "sigmoid",
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", "autoencoder")
        super().__init__(**kwargs)
        sample_shape = None if input_shape is None else _validation.shape_tuple(input_shape, "input_shape")
        hidden_units = _validation.units_tuple(hidden_units, "hidden_units")
        for value, name in ((encoder, "encoder"), (decoder, "decoder")):
            if value is not None and not isinstance(value, keras.layers.Layer):
                raise ValueError(
                    f"Expected `{name}` to be a Keras layer or None. "
                    f"Received: {name} of type {type(value).__name__}"
                )
        if encoder is not None and latent_dim is not None:
            raise ValueError(
                "Pass either `encoder` or `latent_dim`, not both: the encoder fixes the code size. "
                f"Received: latent_dim={latent_dim!r} with encoder={encoder.name!r}"
            )

        # === Layers ===
        self._owns_encoder = encoder is None
        self._owns_decoder = decoder is None
        if encoder is None:
            if latent_dim is None:
                raise ValueError(
                    "Expected `latent_dim` (an integer > 0) when no `encoder` is given. "
                    "Received: latent_dim=None"
                )
            encoder = Encoder(
                latent_dim,
                hidden_units=hidden_units,
                activation=activation,
                latent_activation=latent_activation,
                dropout=dropout,
                dtype=self.dtype_policy,
                name="encoder",
            )
        if decoder is None:
            if sample_shape is None:
                raise ValueError(
                    "Expected `input_shape` when no `decoder` is given: the decoder must know "
                    "what shape to reconstruct. Received: input_shape=None"
                )
            decoder = Decoder(
                sample_shape,
                hidden_units=tuple(reversed(hidden_units)),
                activation=activation,
                output_activation=output_activation,
                dropout=dropout,
                dtype=self.dtype_policy,
                name="decoder",
            )
        self.encoder = encoder
        self.decoder = decoder

        # === Config ===
        self.sample_shape = sample_shape
        self.latent_dim = latent_dim
        self.hidden_units = hidden_units
        self.activation = activation
        self.latent_activation = latent_activation
        self.output_activation = output_activation
        self.dropout = dropout
        self._runners: dict[str, _backend.BatchedRunner] = {}

        if sample_shape is not None:
            self.build((None,) + sample_shape)

    # ------------------------------------------------------------------ building
    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        if len(input_shape) < 2 or any(dim is None for dim in input_shape[1:]):
            raise ValueError(
                "Expected an input shape with a batch axis and known sample axes, "
                f"e.g. (None, 784). Received: input_shape={input_shape}"
            )
        sample_shape = input_shape[1:]
        if self.sample_shape is not None and sample_shape != self.sample_shape:
            raise ValueError(
                f"Expected inputs of shape (batch_size, *{self.sample_shape}). "
                f"Received: input_shape={input_shape}"
            )
        # Calling the halves symbolically builds layers of any kind (a Sequential,
        # a user's custom layer) and tells us the code and output shapes.
        code = self.encoder(keras.KerasTensor((None,) + sample_shape, dtype=self.compute_dtype))
        reconstruction = self.decoder(code)
        if tuple(code.shape[1:]) == () or len(code.shape) != 2:
            raise ValueError(
                f"Expected the encoder to output latent vectors of shape (batch_size, latent_dim). "
                f"Received: encoder output shape={code.shape}"
            )
        if tuple(reconstruction.shape[1:]) != sample_shape:
            raise ValueError(
                "Expected the decoder to reconstruct samples of the input's shape "
                f"{sample_shape}. Received: decoder output shape={tuple(reconstruction.shape)}"
            )
        self.sample_shape = sample_shape
        self.code_dim = int(code.shape[-1])
        self.built = True

    @property
    def bottleneck(self) -> keras.layers.Layer:
        """The layer named `"bottleneck"` inside the encoder (the code layer)."""
        layer = getattr(self.encoder, "bottleneck", None)
        if isinstance(layer, keras.layers.Layer):
            return layer
        if hasattr(self.encoder, "get_layer"):
            try:
                return self.encoder.get_layer("bottleneck")
            except ValueError:
                pass
        raise AttributeError(
            f"The encoder '{self.encoder.name}' has no layer named 'bottleneck'."
        )

    # -------------------------------------------------------------- forward pass
    @property
    def _fuses_sigmoid(self) -> bool:
        return isinstance(self.decoder, Decoder) and self.decoder.output_is_sigmoid

    def call(self, inputs, training=None):
        code = self.encoder(inputs, training=training)
        if not self._fuses_sigmoid:
            return self.decoder(code, training=training)
        logits = self.decoder(code, training=training, return_logits=True)
        outputs = ops.sigmoid(logits)
        _remember_logits(outputs, logits)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    # ------------------------------------------------------------------ training
    def compile(
        self,
        optimizer: Any = "adam",
        loss: Any = _DEFAULT_LOSS,
        metrics: Any = ("mse",),
        **kwargs: Any,
    ) -> None:
        """Configures training. Same arguments as `keras.Model.compile`, with autoencoder defaults.

        Args:
            optimizer: defaults to `"adam"` (learning rate 1e-3).
            loss: defaults to `"sigmoid_cross_entropy"`, computed from the
                decoder's logits when the decoder ends in a sigmoid. Any Keras
                loss works (`"mse"`, a `keras.losses.Loss`); targets default to
                the inputs.
            metrics: defaults to `("mse",)`.
            **kwargs: any other `keras.Model.compile` argument. Unless given,
                `steps_per_execution` defaults to 64 and, for tfae's own
                layers on the TensorFlow and JAX backends, `jit_compile` to
                `True` (Keras' "auto" leaves XLA off on CPU TensorFlow).
        """
        if isinstance(metrics, tuple):
            metrics = list(metrics)
        kwargs = _backend.training_defaults(self, kwargs)
        self._resident_training = None  # its programs were traced for the previous optimizer
        super().compile(optimizer=optimizer, loss=_resolve_loss(loss), metrics=metrics, **kwargs)

    def compile_from_config(self, config: dict[str, Any]) -> None:
        # Keras skips recompiling models that override `compile()` on load, which
        # would drop the optimizer state; our `compile` takes Keras' arguments.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y is None:
            y = x
        logits = _recall_logits(y_pred)
        if logits is None or not isinstance(self.loss, SigmoidCrossEntropy):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        loss = SigmoidCrossEntropy.from_logits(y, logits, sample_weight)
        for extra in self.losses:
            loss = loss + self._aggregate_additional_loss(extra)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)

    def _checked(self, x: Any, name: str) -> Any:
        """Validate numpy-like training data up front; tensors and datasets pass through."""
        if x is None or _backend.is_dataset(x) or _backend.is_backend_tensor(x):
            return x
        if isinstance(x, (dict, keras.utils.PyDataset)) or callable(getattr(x, "__next__", None)):
            return x
        return _validation.as_float_array(x, name=name, feature_shape=self.sample_shape)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """Trains the model; `y` defaults to `x`, `validation_data` may be inputs alone.

        Same arguments as `keras.Model.fit`. In-memory arrays are validated up
        front and, on the TensorFlow and JAX backends, trained on by one
        compiled program per `steps_per_execution` steps over data held by the
        backend (see `tfae._backend.ResidentTraining`).
        """
        x = self._checked(x, "x")
        y = self._checked(y, "y")
        if y is x:
            y = None  # the default target: one copy of the data on the fast path, not two
        validation_data = self._validation_inputs(validation_data)
        arrays = isinstance(x, np.ndarray) and (y is None or isinstance(y, np.ndarray)) and not args
        if arrays and "validation_split" in kwargs:
            fraction = kwargs.pop("validation_split")
            if fraction and validation_data is None:  # Keras ignores it when validation_data is given
                x, y, validation_data = _split_off_validation(x, y, fraction)
        resident = None
        if (
            arrays
            and not {"sample_weight", "steps_per_epoch", "class_weight"} & set(kwargs)
            and kwargs.get("shuffle", True) in (True, False)
            and self.compiled
            and (kind := _backend.resident_training_kind(self)) is not None
        ):
            resident = getattr(self, "_resident_training", None)
            if resident is None:
                resident = self._resident_training = kind(self)
            x, kwargs["steps_per_epoch"] = resident.dataset(
                x, y, batch_size=_validation.batch_size(kwargs.pop("batch_size", None) or 32),
                shuffle=kwargs.get("shuffle", True),
            )
            y = None
            kwargs["shuffle"] = False  # the feed shuffles; Keras refuses to shuffle datasets
        if resident is None:
            return super().fit(x, y, *args, validation_data=validation_data, **kwargs)
        # Keras reuses `train_function` in `train_on_batch` too, which feeds
        # batches rather than this feed's indices: install it for this call only.
        self.train_function = resident
        try:
            return super().fit(x, None, validation_data=validation_data, **kwargs)
        finally:
            self.train_function = None
            resident.release()

    def _validation_inputs(self, validation_data: Any) -> Any:
        """Keras' `validation_data`, with inputs alone accepted and arrays validated."""
        if isinstance(validation_data, tuple) and len(validation_data) == 1:
            validation_data = validation_data[0]  # Keras' spelling of "inputs only"
        if validation_data is None or _backend.is_dataset(validation_data):
            return validation_data
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and not (
            isinstance(validation_data, list) and np.ndim(validation_data) > 1
        ):
            return tuple(
                self._checked(part, f"validation_data[{i}]") if i < 2 else part
                for i, part in enumerate(validation_data)
            )
        return (self._checked(validation_data, "validation_data"),)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """Evaluates the model; `y` defaults to `x`."""
        return super().evaluate(self._checked(x, "x"), self._checked(y, "y"), *args, **kwargs)

    # ------------------------------------------------------------ encode/decode
    def _apply(self, key: str, layer: keras.layers.Layer, x: Any, *, name: str,
               feature_shape: tuple[int, ...] | None, batch_size: int | None, **call_kwargs):
        if _backend.is_symbolic(x) or _backend.is_backend_tensor(x):
            return layer(x, **call_kwargs)
        if _backend.is_dataset(x):
            x = _backend.dataset_inputs(x)
        array = _validation.as_float_array(x, name=name, feature_shape=feature_shape)
        runner = self._runners.get(key)
        if runner is None:
            runner = self._runners[key] = _backend.BatchedRunner(layer, **call_kwargs)
        return runner(array, batch_size)

    def _ensure_built(self, x: Any) -> Any:
        """Build from the first data seen (a dataset is read into memory first); returns the data."""
        if _backend.is_dataset(x):
            x = _backend.dataset_inputs(x)
        if not self.built:
            shape = getattr(x, "shape", None) or np.shape(np.asarray(x))
            self.build((None,) + tuple(shape[1:]))
        return x

    def encode(self, x: Any, *, batch_size: int | None = None):
        """Maps samples to latent codes.

        Args:
            x: samples of shape `(n, *input_shape)` (a flat `(n, prod(input_shape))`
                array is accepted too): numpy array, list, `tf.data` dataset,
                backend tensor or symbolic Keras tensor.
            batch_size: batch size for array inputs. Defaults to
                `min(n, 1024)`.

        Returns:
            Codes of shape `(n, latent_dim)`: numpy for array inputs, otherwise
            a tensor of the same kind as `x`.
        """
        x = self._ensure_built(x)
        return self._apply("encode", self.encoder, x, name="x", feature_shape=self.sample_shape,
                           batch_size=batch_size)

    def decode(self, z: Any, *, batch_size: int | None = None):
        """Maps latent codes to samples (values in [0, 1] with the default sigmoid output).

        Args:
            z: codes of shape `(n, latent_dim)`, of the same kinds `encode` takes.
            batch_size: batch size for array inputs. Defaults to `min(n, 1024)`.

        Returns:
            Samples of shape `(n, *input_shape)`.
        """
        self._require_built("decode")
        return self._apply("decode", self.decoder, z, name="z", feature_shape=(self.code_dim,),
                           batch_size=batch_size)

    def reconstruct(self, x: Any, *, batch_size: int | None = None):
        """`decode(encode(x))` in one pass. Same inputs and outputs as `encode`."""
        x = self._ensure_built(x)
        return self._apply("reconstruct", self, x, name="x", feature_shape=self.sample_shape,
                           batch_size=batch_size)

    def _require_built(self, method: str) -> None:
        if not self.built:
            raise ValueError(
                f"`{method}()` needs a built model: pass `input_shape=` to AutoEncoder, or call "
                "`fit`, `encode` or the model on data first."
            )

    # ------------------------------------------------------------- serialization
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        serialize = _validation.serialize_activation
        config.update(
            {
                "encoder": None if self._owns_encoder else keras.saving.serialize_keras_object(self.encoder),
                "decoder": None if self._owns_decoder else keras.saving.serialize_keras_object(self.decoder),
                "input_shape": None if self.sample_shape is None else list(self.sample_shape),
                "latent_dim": self.latent_dim,
                "hidden_units": list(self.hidden_units),
                "activation": serialize(self.activation),
                "latent_activation": serialize(self.latent_activation),
                "output_activation": serialize(self.output_activation),
                "dropout": self.dropout,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None):
        config = dict(config)
        for key in ("encoder", "decoder"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects=custom_objects)
        return cls(**config)
