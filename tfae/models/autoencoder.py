"""`AutoEncoder`: a `keras.Model` with first-class `encode`, `decode` and `reconstruct`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from tfae import _engine, _validation, losses
from tfae.layers import XLA_LAYERS, Corruption, Decoder, Encoder, OutputActivation, TiedDecoder
from tfae.layers.noise import check_noise
from tfae.losses import SigmoidCrossEntropy
from tfae.models._building import (
    BuiltAfterInit,
    build_called_layers,
    compile_for_loading,
    overridden_outside_tfae,
)
from tfae.models._config import deserialized, serialized
from tfae.models._presets import Presets
from tfae.models._saving import AtomicSaving, deserialize_compile_config
from tfae.models._training import FastTraining, Handoff

_DEFAULT_LOSS = "sigmoid_cross_entropy"


def _probability_logits(probabilities):
    """The logits of probabilities clipped to [epsilon, 1 - epsilon], as Keras' binary cross-entropy clips them."""
    epsilon = keras.config.epsilon()
    p = ops.clip(ops.convert_to_tensor(probabilities), epsilon, 1.0 - epsilon)
    return ops.log(p) - ops.log1p(-p)


def _check_reconstruction_shape(output_shape: tuple[int | None, ...], sample_shape: tuple[int, ...]) -> None:
    """Refuse a decoder whose output `(batch_size, *shape)` is not of the input's sample shape."""
    if tuple(output_shape[1:]) != sample_shape:
        raise ValueError(
            "Expected the decoder to reconstruct samples of the input's shape "
            f"{sample_shape}. Received: decoder output shape={output_shape}"
        )


@keras.saving.register_keras_serializable(package="tfae")
class AutoEncoder(AtomicSaving, Presets, FastTraining, BuiltAfterInit, keras.Model):
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

    `encode`, `decode` and `reconstruct` accept numpy arrays, lists, batched
    `tf.data` datasets and `keras.utils.PyDataset`s (their inputs; run in
    compiled fixed-size batches, numpy out), backend
    tensors (a differentiable call, a tensor out) and symbolic Keras tensors (a
    node of a functional model).

    Args:
        encoder: a Keras layer mapping samples to latent vectors, or `None` to
            build a `tfae.Encoder` from `latent_dim` and `hidden_units`.
        decoder: a Keras layer mapping latent vectors to samples, or `None` to
            build a `tfae.Decoder` mirroring the encoder (needs `input_shape`).
        input_shape: shape of one sample, e.g. `(784,)` or `(28, 28, 1)`. When
            given, the model is built at once; otherwise on first use.
        latent_dim: size of the code, when `encoder` is `None`. Once built,
            the attribute `latent_dim` is the code size whichever encoder
            made it (the config keeps what was passed).
        hidden_units: hidden Dense units of the encoder, input side first; the
            decoder uses them reversed.
        activation: activation of the hidden layers. Defaults to `"relu"`.
        latent_activation: activation of the code. Defaults to `None` (linear).
        output_activation: activation of the reconstruction. Defaults to
            `"sigmoid"`, for data in [0, 1].
        dropout: dropout rate after each hidden layer, in training.
        noise: `None`, `"gaussian"` or `"masking"`: a denoising autoencoder
            corrupts its inputs in training only (a `tfae.layers.Corruption`
            layer named `"corruption"`) and learns to reconstruct the clean
            ones (the targets, which default to the inputs).
        noise_level: float in (0, 1): the Gaussian noise's standard deviation
            or the masking probability. Defaults to 0.3.
        sparsity: float >= 0. Weight of an L1 penalty on the code, averaged
            over the batch (`sparsity * mean_batch(sum |z|)`), added to the
            loss in `fit` and `evaluate`: a sparse autoencoder. Defaults to 0.
        tied: bool. Build the decoder as a `tfae.TiedDecoder` that reuses the
            encoder's kernels transposed (needs the encoder built from
            `latent_dim` and `input_shape`). Defaults to `False`.
        **kwargs: base model arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, *input_shape)`.

    Output shape:
        `(batch_size, *input_shape)`: the reconstruction.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=32, hidden_units=(64,))
    ae.compile()
    ae.fit(x_train, epochs=1, batch_size=128, verbose=0)
    codes = ae.encode(x_test)                   # (256, 32)
    assert ae.decode(codes).shape == (256, 784) and ae.bottleneck.name == "bottleneck"
    ```
    """

    _default_name = "autoencoder"
    # The default loss sums each sample's cross-entropy (nats, as a likelihood) rather than averaging it:
    # the generative models weigh it against a per-sample term (a KL, a discriminator's verdict).
    _sums_reconstruction = False

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
        noise: str | None = None,
        noise_level: float = 0.3,
        sparsity: float = 0.0,
        tied: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", self._default_name)
        super().__init__(**kwargs)
        sample_shape = None if input_shape is None else _validation.shape_tuple(input_shape, "input_shape")
        hidden_units = _validation.units_tuple(hidden_units, "hidden_units")
        encoder = _validation.layer(encoder, "encoder", optional=True)
        decoder = _validation.layer(decoder, "decoder", optional=True)
        noise, noise_level = check_noise(noise, noise_level)
        sparsity = _validation.non_negative_float(sparsity, "sparsity")
        tied = _validation.boolean(tied, "tied")
        if tied and (encoder is not None or decoder is not None):
            raise ValueError(
                "Expected no `encoder` or `decoder` with `tied=True`: the model builds a tfae.Encoder and "
                f"the TiedDecoder that mirrors it. Received: encoder={encoder!r}, decoder={decoder!r}"
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
            encoder = self._default_encoder(
                _validation.positive_int(latent_dim, "latent_dim"),
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
            if tied:
                decoder = TiedDecoder(encoder, output_shape=sample_shape, output_activation=output_activation,
                                      dtype=self.dtype_policy, name="decoder")
            else:
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
        self.corruption = None if noise is None else Corruption(noise, noise_level, dtype=self.dtype_policy)

        # === Config ===
        self.sample_shape = sample_shape
        self.latent_dim = latent_dim
        self.hidden_units = hidden_units
        self.activation = activation
        self.latent_activation = latent_activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.noise = noise
        self.noise_level = noise_level
        self.sparsity = sparsity
        self.tied = tied
        object.__setattr__(self, "_logits", Handoff())  # the decoder's logits, from `call` to `compute_loss`

    def _build_after_init(self) -> None:
        """Builds a model given `input_shape`, once every `__init__` has run (see `BuiltAfterInit`)."""
        if getattr(self, "sample_shape", None) is not None and not self.built:
            self.build((None,) + self.sample_shape)

    def _default_encoder(self, latent_dim: int, **kwargs: Any) -> keras.layers.Layer:
        """The encoder built from shapes; a subclass may make the code wider (a VAE's moments)."""
        return Encoder(latent_dim, **kwargs)

    def _latent_code(self, encoder_output):
        """The code the decoder takes, from the encoder's output (the same here; a VAE's mean)."""
        return encoder_output

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
        # A decoder that declares its output shape is checked before the encoder builds: an encoder built for
        # the wrong width could not be built again for the right one.
        if isinstance(self.decoder, OutputActivation):
            _check_reconstruction_shape((None, *self.decoder.target_shape), sample_shape)
        # Calling the halves symbolically builds layers of any kind (a Sequential,
        # a user's custom layer) and tells us the code and output shapes.
        code = self.encoder(keras.KerasTensor((None,) + sample_shape, dtype=self.compute_dtype))
        if tuple(code.shape[1:]) == () or len(code.shape) != 2:
            raise ValueError(
                f"Expected the encoder to output latent vectors of shape (batch_size, latent_dim). "
                f"Received: encoder output shape={code.shape}"
            )
        code = self._latent_code(code)
        _check_reconstruction_shape(tuple(self.decoder(code).shape), sample_shape)
        self.sample_shape = sample_shape
        self.latent_dim = int(code.shape[-1])  # the code size, whichever encoder made it
        self.built = True
        build_called_layers(self, input_shape, own=self._sublayers())

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
        return isinstance(self.decoder, OutputActivation) and self.decoder.output_is_sigmoid

    def _corrupt(self, inputs, training):
        return inputs if self.corruption is None else self.corruption(inputs, training=training)

    def _penalize(self, code) -> None:
        """The sparsity penalty of `code`, added as a loss (not on symbolic tensors: nothing to add then).

        Computed in Keras' loss dtype (`floatx`): under mixed precision a float16 penalty could not be added
        to the float32 compiled loss (Keras' own L1 activity regularizer fails there), and its sum over a
        large batch could overflow float16.
        """
        if self.sparsity and not _validation.is_symbolic(code):
            code = ops.cast(code, keras.config.floatx())
            batch = ops.cast(ops.shape(code)[0], code.dtype)
            self.add_loss(self.sparsity * ops.sum(ops.abs(code)) / batch)

    def _reconstruct(self, code, training, return_logits: bool = False):
        """Decode `code`; leaves the logits beside the output for `compute_loss` (see there)."""
        if not self._fuses_sigmoid:
            if return_logits:
                raise ValueError(
                    "`return_logits=True` needs a decoder that ends in tfae's sigmoid (a tfae.Decoder, ConvDecoder or "
                    f"TiedDecoder with output_activation='sigmoid'). Received: decoder={self.decoder.name!r}"
                )
            return self.decoder(code, training=training)
        logits = self.decoder(code, training=training, return_logits=True)
        if return_logits:
            return logits
        outputs = ops.sigmoid(logits)
        self._logits.leave(outputs, logits)
        return outputs

    def call(self, inputs, training=None, return_logits=False):
        code = self.encoder(self._corrupt(inputs, training), training=training)
        self._penalize(code)
        return self._reconstruct(code, training, return_logits)

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
            loss: defaults to `"sigmoid_cross_entropy"`: a
                `tfae.losses.SigmoidCrossEntropy` computed from the decoder's
                logits when the decoder ends in a sigmoid, else Keras' binary
                cross-entropy of the reconstruction. Any Keras loss works
                (`"mse"`, a `keras.losses.Loss`); targets default to the inputs.
            metrics: defaults to `("mse",)`.
            **kwargs: any other `keras.Model.compile` argument, with Keras'
                defaults, except `jit_compile`: for tfae's dense layers
                (`Encoder`, `Decoder`, `TiedDecoder`) on the TensorFlow and
                JAX backends it defaults to `True` (Keras' "auto" leaves XLA
                off on CPU TensorFlow); conv halves keep Keras' "auto".
        """
        if isinstance(metrics, tuple):
            metrics = list(metrics)
        if isinstance(loss, str) and loss == _DEFAULT_LOSS:
            if self._sums_reconstruction:
                loss = SigmoidCrossEntropy(feature_reduction="sum")
            else:
                loss = SigmoidCrossEntropy() if self._fuses_sigmoid else keras.losses.BinaryCrossentropy()
        # tfae's dense layers are known to gain from XLA; any other keeps Keras' "auto".
        resolves_auto = (kwargs.get("jit_compile", "auto") == "auto" and not kwargs.get("run_eagerly")
                         and all(isinstance(layer, XLA_LAYERS) for layer in self._sublayers()))
        if resolves_auto:
            kwargs["jit_compile"] = _engine.default_jit_compile()
        _engine.forget(self)  # its programs were traced for the previous optimizer
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        object.__setattr__(self, "_tfae_resolved_auto_jit_compile", resolves_auto)  # not a tracked Keras attribute

    def get_compile_config(self) -> dict[str, Any] | None:
        # tfae's choice for "auto" holds for this backend and device only: saved as "auto", it is made again
        # where the model is loaded (off on PyTorch, Keras' choice under a distribution strategy).
        config = super().get_compile_config()
        if config is not None and getattr(self, "_tfae_resolved_auto_jit_compile", False):
            config["jit_compile"] = "auto"
        return config

    def compile_from_config(self, config: dict[str, Any]) -> None:
        # Keras skips recompiling models that override `compile()` on load, which
        # would drop the optimizer state; our `compile` takes Keras' arguments.
        config = deserialize_compile_config(config)
        compile_for_loading(self)(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _sublayers(self) -> tuple[keras.layers.Layer, ...]:
        """The layers whose kind decides the default `jit_compile`."""
        return (self.encoder, self.decoder)

    def _loss_takes_logits(self) -> bool:
        return isinstance(losses._single_loss(self.loss), SigmoidCrossEntropy)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras' `compute_loss`, with `y` defaulting to `x` and the sigmoid cross-entropy given logits.

        Keras hands `compute_loss` only the model's output, and a float32
        sigmoid output cannot give back logits beyond |l| ~ 17. `call` leaves
        the logits beside the output it returns (per model and thread); they
        are used only when `y_pred` is that very output, so a stale entry can
        never be taken for another step's. Without them (a decoder that does
        not end in tfae's sigmoid) the logits of the clipped probabilities are
        used, as Keras' binary cross-entropy does on JAX and PyTorch. Everything else (reductions,
        `loss_weights`, `sample_weight`, added losses, per-replica scaling) is
        Keras' own `compute_loss`.
        """
        if y is None:
            y = x
        logits = self._logits.take(y_pred)
        if self._loss_takes_logits():
            if logits is not None:
                y_pred = logits
            else:
                # Probabilities only (a decoder of another kind, Keras' symbolic build).
                y_pred = _probability_logits(y_pred)
        return super().compute_loss(x, y, y_pred, sample_weight, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)

    # ------------------------------------------------------------ encode/decode
    def _ensure_built(self, x: Any) -> Any:
        """Build from the first data seen (a dataset is read into memory first); returns the data."""
        if _engine.is_batches(x):
            x = _engine.dataset_inputs(x, feature_shape=self.sample_shape)
        if not self.built:
            shape = getattr(x, "shape", None) or np.shape(np.asarray(x))
            _engine.build(self, (None,) + tuple(shape[1:]))
        return x

    def encode(self, x: Any, *, batch_size: int | None = None):
        """Maps samples to latent codes.

        Args:
            x: samples of shape `(n, *input_shape)` (a flat `(n, prod(input_shape))`
                array is accepted too): numpy array, list, batched `tf.data`
                dataset or `keras.utils.PyDataset` (the inputs of each batch),
                backend tensor or symbolic Keras tensor.
            batch_size: batch size for array inputs. Defaults to 1024
                (a shorter array runs as one batch, padded to a power of two).

        Returns:
            Codes of shape `(n, latent_dim)`: numpy for array inputs, otherwise
            a tensor of the same kind as `x`.
        """
        x = self._ensure_built(x)
        return _engine.infer(self, "encode", self.encoder, x, name="x", feature_shape=self.sample_shape,
                           batch_size=batch_size)

    def decode(self, z: Any, *, batch_size: int | None = None):
        """Maps latent codes to samples (values in [0, 1] with the default sigmoid output).

        Args:
            z: codes of shape `(n, latent_dim)`, of the same kinds `encode` takes.
            batch_size: batch size for array inputs. Defaults to 1024
                (a shorter array runs as one batch, padded to a power of two).

        Returns:
            Samples of shape `(n, *input_shape)`.
        """
        self._require_built("decode")
        return _engine.infer(self, "decode", self.decoder, z, name="z", feature_shape=(self.latent_dim,),
                           batch_size=batch_size)

    def reconstruct(self, x: Any, *, batch_size: int | None = None):
        """`decode(encode(x))` in one pass. Same inputs and outputs as `encode`."""
        x = self._ensure_built(x)
        return _engine.infer(self, "reconstruct", self, x, name="x", feature_shape=self.sample_shape,
                           batch_size=batch_size)

    def interpolate(self, x_a: Any, x_b: Any, steps: int = 8, *, batch_size: int | None = None) -> np.ndarray:
        """Decoded codes along the straight line from `encode(x_a)` to `encode(x_b)`, both ends included.

        Args:
            x_a, x_b: one sample each (shape `input_shape`), or batches of the
                same length `n` (shape `(n, *input_shape)`), as numpy arrays or lists.
            steps: int >= 2. Points on each line. Defaults to 8.
            batch_size: as for `encode`.

        Returns:
            numpy array of shape `(steps, *input_shape)` for single samples,
            `(n, steps, *input_shape)` for batches; `[..., 0, ...]` decodes
            `x_a`'s code and `[..., -1, ...]` `x_b`'s.
        """
        steps = _validation.positive_int(steps, "steps")
        if steps < 2:
            raise ValueError(f"Expected `steps` to be an integer >= 2 (both ends). Received: steps={steps!r}")
        a = _validation.numeric_array(x_a, "x_a").astype(np.float32)
        b = _validation.numeric_array(x_b, "x_b").astype(np.float32)
        if a.shape != b.shape:
            raise ValueError(f"Expected `x_a` and `x_b` of the same shape. Received: x_a.shape={a.shape}, "
                             f"x_b.shape={b.shape}")
        self._ensure_built(a if a.ndim > 1 else a[None])
        # One sample, shaped or flat; else a batch, each sample of any shape `encode` takes (the same size).
        size = math.prod(self.sample_shape)
        single = a.shape in (self.sample_shape, (size,))
        if not single and (a.ndim < 2 or math.prod(a.shape[1:]) != size):
            raise ValueError(
                f"Expected `x_a` and `x_b` to be one sample of shape {self.sample_shape} ({size} values), or a "
                f"batch of them of shape (n, *{self.sample_shape}). Received: x_a.shape={a.shape}"
            )
        codes = self.encode(np.concatenate([a[None], b[None]]) if single else np.concatenate([a, b]),
                            batch_size=batch_size)
        z_a, z_b = np.split(codes, 2)
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
        line = (1.0 - t) * z_a[:, None, :] + t * z_b[:, None, :]  # (n, steps, latent)
        samples = self.decode(line.reshape(-1, line.shape[-1]), batch_size=batch_size)
        samples = samples.reshape((len(z_a), steps) + samples.shape[1:])
        return samples[0] if single else samples

    def reconstruction_error(self, x: Any, y: Any = None, *, reduction: str = "mean",
                             batch_size: int | None = None) -> np.ndarray:
        """The compiled loss of each example's reconstruction (without regularization terms).

        With the default loss (or any `tfae.losses.SigmoidCrossEntropy`) it
        is the sigmoid cross-entropy of each element, computed from the
        decoder's logits exactly as in training, reduced over the example.
        Any other loss (`"mse"`, `"categorical_crossentropy"`,
        `keras.losses.CosineSimilarity()`, a function) is applied to each
        example whole, as `evaluate` applies it, and its values (one per
        position but the last axis, for Keras' losses) are averaged. An
        uncompiled model uses the default loss.

        Args:
            x: samples, as `encode` takes them (arrays, lists, datasets).
            y: targets (a denoiser's clean samples); defaults to `x`.
            reduction: `"mean"` or `"sum"` over each example's elements. The
                mean is what `evaluate` gives for one example with Keras'
                losses and AutoEncoder's default; the sum is that mean times
                the number of elements in an example: for a loss of each
                element (binary cross-entropy, mse) the sum over the elements,
                such as the VariationalAutoEncoder's default (its
                `reconstruction_loss`).
            batch_size: as for `encode`.

        Returns:
            numpy array of shape `(n,)`: higher means worse reconstructed. In
            the loss's dtype (float32 under mixed precision, as Keras
            computes losses).

        Raises:
            ValueError: with a binary cross-entropy loss, for targets outside
                [0, 1] (0-255 pixels), as `evaluate` refuses them; for a loss
                that does not give one value per example (a mean over the
                whole batch).
        """
        _validation.one_of(reduction, "reduction", ("mean", "sum"))
        x = given_x = self._ensure_built(x)
        x = _validation.as_float_array(x, name="x", feature_shape=self.sample_shape)
        y, given_y = (x, given_x) if y is None else (
            _validation.as_float_array(y, name="y", feature_shape=self.sample_shape), y)
        if len(y) != len(x):
            raise ValueError(f"Expected `y` to have one target per sample of `x` ({len(x)}). "
                             f"Received: y with {len(y)} samples")
        loss = losses._single_loss(self.loss) if self.compiled else _DEFAULT_LOSS
        if loss is None:
            raise ValueError("Expected a model compiled with a loss: `reconstruction_error()` applies it to each "
                             "example (`compile()` gives the default). Received: a model compiled with loss=None")
        _engine.check_unit_targets(loss, y, "x" if given_y is given_x else "y", given_y)  # as `evaluate` refuses
        # Keras computes a loss in its own dtype (floatx unless given), not the model's: float32 under mixed precision.
        dtype = loss.dtype if isinstance(loss, keras.losses.Loss) else keras.config.floatx()
        if isinstance(loss, SigmoidCrossEntropy) or (loss == _DEFAULT_LOSS and self._fuses_sigmoid):
            targets = y.reshape(len(y), -1).astype(dtype)
            if self._fuses_sigmoid and not overridden_outside_tfae(self, "call"):
                logits = _engine.infer(self, "logits", self, x, name="x", feature_shape=self.sample_shape,
                                       batch_size=batch_size, return_logits=True).reshape(len(x), -1)
            elif self._fuses_sigmoid:
                logits = self._logits_of_call(x, batch_size).reshape(len(x), -1)
            else:  # as compute_loss: the logits of the clipped probabilities
                reconstruction = self.reconstruct(x, batch_size=batch_size).reshape(len(x), -1)
                logits = _probability_logits(reconstruction)
            logits = keras.ops.convert_to_numpy(logits).astype(dtype)
            elements = keras.ops.convert_to_numpy(losses._sigmoid_cross_entropy_elements(targets, logits))
            elements = elements.reshape(len(x), -1)
            return elements.mean(axis=1) if reduction == "mean" else elements.sum(axis=1)
        # Any other loss sees each example whole and the model's output tensor, as in `evaluate`: a loss of the
        # last axis (categorical cross-entropy, cosine similarity) is not the mean of its values on single
        # elements, and on TensorFlow Keras' cross-entropies read the logits a sigmoid's or softmax's output keeps.
        function = loss.call if isinstance(loss, keras.losses.Loss) else keras.losses.get(
            "binary_crossentropy" if loss == _DEFAULT_LOSS else loss)  # `call`: before any reduction over the batch
        means = []
        for rows, output in self._outputs_of_call(x, batch_size):
            output = ops.convert_to_tensor(output, dtype=dtype)  # as Keras' `Loss.__call__` converts it
            values = ops.convert_to_numpy(function(ops.convert_to_tensor(y[rows], dtype=dtype), output))
            if values.ndim == 0 or values.shape[0] != output.shape[0]:
                raise ValueError(
                    f"Expected `loss` to give one value per example or more (as Keras' losses give one per example "
                    f"and position but the last axis), so that `reconstruction_error()` can tell examples apart. "
                    f"Received: loss={loss!r} giving values of shape {values.shape} for {output.shape[0]} examples"
                )
            means.append(values.reshape(len(values), -1).mean(axis=1))
        means = np.concatenate(means)
        # The sum over an example's elements: for a loss of each element (mse, binary cross-entropy), whose
        # value at a position is the mean over the last axis, that sum is the mean times the example's size.
        return means if reduction == "mean" else means * np.asarray(math.prod(self.sample_shape), dtype=means.dtype)

    def _logits_of_call(self, x: np.ndarray, batch_size: int | None) -> np.ndarray:
        """The logits `compute_loss` takes for the output of a user's `call`, batch by batch.

        A user's `call` may return the decoder's output (its logits are then
        the exact ones, left beside it), or change it (a layer after the
        decoder: then the logits of its clipped probabilities), as in training.
        """
        parts = []
        for _, output in self._outputs_of_call(x, batch_size):
            logits = self._logits.take(output)
            parts.append(keras.ops.convert_to_numpy(_probability_logits(output) if logits is None else logits))
        return np.concatenate(parts)

    def _outputs_of_call(self, x: np.ndarray, batch_size: int | None):
        """`(rows, self(x[rows], training=False))` batch by batch: each output the backend tensor a loss gets."""
        batch_size = _engine.DEFAULT_BATCH_SIZE if batch_size is None else _validation.batch_size(batch_size)
        for start in range(0, len(x), batch_size):
            rows = slice(start, start + batch_size)
            yield rows, self(x[rows], training=False)

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
                "encoder": serialized(self.encoder, owned=self._owns_encoder),
                "decoder": serialized(self.decoder, owned=self._owns_decoder),
                "input_shape": None if self.sample_shape is None else list(self.sample_shape),
                "latent_dim": self.latent_dim if self._owns_encoder else None,  # else the encoder's
                "hidden_units": list(self.hidden_units),
                "activation": serialize(self.activation),
                "latent_activation": serialize(self.latent_activation),
                "output_activation": serialize(self.output_activation),
                "dropout": self.dropout,
                "noise": self.noise,
                "noise_level": self.noise_level,
                "sparsity": self.sparsity,
                "tied": self.tied,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None):
        return cls(**deserialized(config, ("encoder", "decoder"), custom_objects))
