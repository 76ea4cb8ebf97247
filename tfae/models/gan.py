"""`GAN`: a generative adversarial network trained with Keras' own `fit`, whose generator can be a tfae decoder."""

from __future__ import annotations

import inspect
from typing import Any

import keras
import numpy as np

from tfae import _engine, _validation
from tfae.layers import OutputActivation
from tfae.models._adversarial import TwoPlayers, check_discriminator, discriminate
from tfae.models._building import BuiltAfterInit, build_called_layers, compile_for_loading
from tfae.models._config import deserialized, serialized
from tfae.models._presets import Presets
from tfae.models._prior import prior_codes
from tfae.models._saving import AtomicSaving, deserialize_compile_config
from tfae.models._training import FastTraining


@keras.saving.register_keras_serializable(package="tfae")
class GAN(TwoPlayers, AtomicSaving, Presets, FastTraining, BuiltAfterInit, keras.Model):
    """A GAN: a generator maps Gaussian codes to samples, a discriminator tells them from real ones.

    The generator may be any Keras layer from `(n, latent_dim)` codes to
    samples, such as a `tfae.Decoder` or the decoder of a trained
    autoencoder (`ae.decoder`: its trained weights are the starting point;
    the layer is shared, so training the GAN changes `ae` too).
    Training is Keras' own `fit` on real samples, on every backend: each step
    updates both players from one loss (`tfae.models._adversarial`): the
    discriminator's cross-entropy on real (label 1) and generated (label 0)
    samples, plus the generator's non-saturating `-log D(G(z))`. `fit` and
    `evaluate` report both as `discriminator_loss` and `generator_loss`;
    `loss` is their sum. `sample_weight` weights the real samples' term.

    >>> gan = tfae.GAN(ae.decoder, discriminator, latent_dim=ae.latent_dim)
    >>> gan.compile()
    >>> gan.fit(x_train, epochs=5)
    >>> images = gan.generate(16, seed=0)

    Args:
        generator: a Keras layer mapping codes `(n, latent_dim)` to samples.
        discriminator: a Keras layer mapping samples to one logit each,
            `(n, 1)`, with no sigmoid.
        latent_dim: size of the generator's codes, drawn from N(0, I); for a
            built generator (`ae.decoder`), the code size it takes.
        seed: int or None. Seed of the code noise in training.
        **kwargs: base model arguments (`name`, `dtype`, `trainable`).

    Input shape:
        `(batch_size, *sample_shape)`: real samples.

    Output shape:
        A dict of logits, each `(batch_size, 1)`: `"real"` (the real samples),
        `"fake"` (generated samples, for the discriminator's loss), `"fooled"`
        (the same samples, for the generator's). Generate with `generate` or
        `generator` itself.

    Example:

    ```python
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=16, hidden_units=(64,))
    ae.compile()
    ae.fit(x_train, epochs=1, verbose=0)                  # the decoder: a warm-started generator
    discriminator = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    gan = tfae.GAN(ae.decoder, discriminator, latent_dim=ae.latent_dim, seed=0)
    gan.compile()
    gan.fit(x_train, epochs=1, batch_size=128, verbose=0)
    assert gan.generate(16, seed=0).shape == (16, 784)
    ```
    """

    def __init__(
        self,
        generator: keras.layers.Layer,
        discriminator: keras.layers.Layer,
        *,
        latent_dim: int,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        generator = _validation.layer(generator, "generator")
        discriminator = _validation.layer(discriminator, "discriminator")
        latent_dim = _validation.positive_int(latent_dim, "latent_dim")
        expected = _code_size(generator)
        if expected is not None and expected != latent_dim:
            raise ValueError(
                f"Expected `latent_dim` to be the size of the codes generator {generator.name!r} takes "
                f"({expected}). Received: latent_dim={latent_dim}"
            )
        seed = _validation.seed(seed)
        kwargs.setdefault("name", "gan")
        super().__init__(**kwargs)
        # === Layers ===
        self.generator = generator
        self.discriminator = discriminator
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._init_players()
        # === Config ===
        self.latent_dim = latent_dim
        self.seed = seed
        self.sample_shape = None

    def _build_after_init(self) -> None:
        """Builds the model once every `__init__` has run (see `BuiltAfterInit`)."""
        if not self.built:
            self.build(self._generated_shape())

    def _generated_shape(self) -> tuple[int | None, ...]:
        try:
            samples = self.generator(keras.KerasTensor((None, self.latent_dim), dtype=self.compute_dtype))
        except (ValueError, TypeError) as error:  # a generator whose code size no input spec states
            raise ValueError(
                f"Expected a generator that takes codes of shape (batch_size, latent_dim). Received: "
                f"latent_dim={self.latent_dim}, on which generator {self.generator.name!r} failed (the error above)"
            ) from error
        return tuple(samples.shape)

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        generated = self._generated_shape()
        if input_shape[1:] != generated[1:]:
            raise ValueError(
                f"Expected real samples of the generator's output shape (batch_size, *{generated[1:]}). "
                f"Received: input_shape={input_shape}"
            )
        check_discriminator(self.discriminator(keras.KerasTensor(generated, dtype=self.compute_dtype)), "sample")
        self.sample_shape = tuple(generated[1:])
        self.built = True
        build_called_layers(self, generated, own=(self.generator, self.discriminator))

    def fit(self, x=None, *args, **kwargs):
        """Trains the GAN on real samples `x`: `keras.Model.fit`, as for every tfae model.

        Real samples given as an array that a sigmoid generator (a tfae
        decoder's default) cannot produce, such as 0-255 pixels, are refused:
        the discriminator would tell them apart from any generated sample, and
        nothing would be learnt.
        """
        self._check_real_range(x)
        return super().fit(x, *args, **kwargs)

    fit.__signature__ = inspect.signature(FastTraining.fit)  # `help()` shows `fit`'s arguments, not *args

    def _check_real_range(self, x: Any) -> None:
        if not (isinstance(self.generator, OutputActivation) and self.generator.output_is_sigmoid):
            return
        if not (isinstance(x, np.ndarray) and x.dtype.kind in "biuf" and x.size):
            return  # other data, empty or not numbers: `fit`'s own checks answer
        low, high = _validation.value_range(x)
        if np.isfinite([low, high]).all() and (low < 0.0 or high > 1.0):  # NaN, inf: `fit`'s own message
            raise ValueError(
                f"Expected real samples in [0, 1], the range of the sigmoid output of generator "
                f"{self.generator.name!r}. Received: x with values in [{low:g}, {high:g}] (dtype {x.dtype}). "
                "Scale images to [0, 1] first (for example `x / 255`)."
            )

    def call(self, inputs, training=None):
        codes = keras.random.normal((keras.ops.shape(inputs)[0], self.latent_dim), dtype=self.compute_dtype,
                                    seed=self.seed_generator)
        fake = self.generator(codes, training=training)
        real, fake, fooled = discriminate(self.discriminator, inputs, fake, training=training)
        return {"real": real, "fake": fake, "fooled": fooled}

    def compute_output_shape(self, input_shape):
        return {key: (input_shape[0], 1) for key in ("real", "fake", "fooled")}

    # ------------------------------------------------------------------ training
    def compile(self, optimizer: Any = None, **kwargs: Any) -> None:
        """Configures training: `keras.Model.compile` with the GAN's own loss.

        Args:
            optimizer: one optimizer for both players (its state is per
                variable). Defaults to `Adam(2e-4, beta_1=0.5)`, the DCGAN
                setting. A `global_clipnorm` spans both players' gradients
                (use `clipnorm`, per variable, to clip each player alone).
            **kwargs: other `keras.Model.compile` arguments (`jit_compile`,
                `steps_per_execution`, `run_eagerly`); not `loss` or `metrics`:
                the losses are the GAN's.
        """
        for key in ("loss", "metrics", "loss_weights", "weighted_metrics"):
            if kwargs.get(key) is not None:
                raise ValueError(
                    f"A GAN's losses are its own (discriminator and generator cross-entropies). "
                    f"Received: {key}={kwargs[key]!r}"
                )
        if optimizer is None:
            optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        _engine.forget(self)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config: dict[str, Any]) -> None:
        config = deserialize_compile_config(config)
        compile_for_loading(self)(**{k: v for k, v in config.items() if v is not None})
        self.optimizer.build(self.trainable_variables)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The discriminator's loss plus the generator's, each also reported on its own."""
        discriminator_loss, generator_loss = self._player_losses(
            y_pred["real"], y_pred["fake"], y_pred["fooled"], real_weight=sample_weight)
        total = discriminator_loss + generator_loss
        if self.losses:  # regularizers of either player
            total = total + super().compute_loss(x, y, y_pred, sample_weight, training=training)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return self.get_metrics_result()

    # ---------------------------------------------------------------- generation
    def generate(self, n: int, *, seed: int | None = None, batch_size: int | None = None) -> np.ndarray:
        """`n` new samples: codes drawn from N(0, I) (numpy's generator, `seed`), through the generator."""
        return _engine.infer(self, "generate", self.generator, prior_codes(n, self.latent_dim, seed), name="codes",
                             feature_shape=(self.latent_dim,), batch_size=batch_size)

    # ------------------------------------------------------------- serialization
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "generator": serialized(self.generator),
            "discriminator": serialized(self.discriminator),
            "latent_dim": self.latent_dim,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None):
        return cls(**deserialized(config, ("generator", "discriminator"), custom_objects))


def _code_size(generator: keras.layers.Layer) -> int | None:
    """The code size a built generator states (its one input's last axis), or None where it states none."""
    inputs = getattr(generator, "inputs", None) if isinstance(generator, keras.Model) else None
    if inputs is not None and len(inputs) == 1:
        return inputs[0].shape[-1]
    spec = generator.input_spec
    if isinstance(spec, (list, tuple)):
        spec = spec[0] if len(spec) == 1 else None
    if spec is None:
        return None
    if spec.shape is not None:
        return spec.shape[-1]
    return (spec.axes or {}).get(-1)
