"""Warm-start a GAN from an autoencoder's decoder, on the MNIST sample tfae ships.

1. Train a dense `tfae.AutoEncoder` on the sample's training digits.
2. Build `tfae.GAN(ae.decoder, discriminator)`: the trained decoder is the
   generator's starting point.
3. Train the GAN with `fit` and write sample grids before and after.

    python examples/gan_from_autoencoder.py --out runs/gan

Any Keras 3 backend works (`KERAS_BACKEND=jax python examples/...`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras

import tfae


def discriminator(*, units: int) -> keras.Model:
    """Digits to one logit each: real (high) or generated (low)."""
    return keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(units, name="hidden_0"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Dense(units // 2, name="hidden_1"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Dense(1, name="logit"),
    ], name="discriminator")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/gan"), help="folder for the PNG grids")
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--ae-epochs", type=int, default=10)
    parser.add_argument("--gan-epochs", type=int, default=20)
    parser.add_argument("--samples", type=int, default=None, help="training digits to use (default: all 8,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    (x, _), _ = tfae.datasets.load_mnist_sample()
    x = x[: args.samples]
    args.out.mkdir(parents=True, exist_ok=True)

    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=args.latent_dim, hidden_units=(256,))
    ae.compile()
    ae.fit(x, epochs=args.ae_epochs, batch_size=128, verbose=0)

    gan = tfae.GAN(ae.decoder, discriminator(units=256), latent_dim=args.latent_dim, seed=args.seed)
    tfae.plotting.image_grid(gan.generate(40, seed=1), columns=10, path=args.out / "samples_before.png")
    gan.compile()
    history = gan.fit(x, epochs=args.gan_epochs, batch_size=128, verbose=0).history
    tfae.plotting.image_grid(gan.generate(40, seed=1), columns=10, path=args.out / "samples_after.png")
    gan.save(args.out / "gan.keras")
    result = {key: float(values[-1]) for key, values in history.items()}
    print(" ".join(f"{key}={value:.4f}" for key, value in sorted(result.items())), f"-> {args.out}")
    return result


if __name__ == "__main__":
    main()
