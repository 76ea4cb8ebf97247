"""Train the presets tfae ships (`tfae/presets/<name>/`) on the full MNIST, measure them, write docs/presets.md.

    python -m benchmarks.presets                 # every preset, the epochs below
    python -m benchmarks.presets --only mnist_vae

Each preset is trained with `fit` on the 60,000 training digits (TensorFlow
backend), then measured with `tfae.presets.measure` on the 10,000 test digits
and on the 2,000 test digits of the sample tfae ships; both go into its
`metadata.json` (`tests/test_presets.py` checks them again), beside a picture
in `docs/images/`.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfae  # noqa: E402
from benchmarks.run import DEFAULT_DATA, REPO  # noqa: E402

IMAGES = (28, 28, 1)


def _conv_autoencoder(**kwargs):
    return tfae.AutoEncoder(tfae.ConvEncoder(16, filters=(32, 64)), tfae.ConvDecoder(IMAGES, filters=(64, 32)),
                            input_shape=IMAGES, **kwargs)


# name: (description, model factory, epochs, batch size, measurement noise)
PRESETS = {
    "mnist_dense": ("The article's dense autoencoder, 784-256-128-256-784, 128-d code",
                    lambda: tfae.AutoEncoder(input_shape=(784,), latent_dim=128, hidden_units=(256,),
                                             name="mnist_dense"), 20, 256, None),
    "mnist_conv": ("A small convolutional autoencoder, 28x28x1 -> 16-d code (ConvEncoder/ConvDecoder, 32-64 filters)",
                   lambda: _conv_autoencoder(name="mnist_conv"), 10, 128, None),
    "mnist_denoising": ("The convolutional autoencoder trained to remove Gaussian noise (std 0.3)",
                        lambda: _conv_autoencoder(noise="gaussian", noise_level=0.3, name="mnist_denoising"),
                        10, 128, 0.3),
    "mnist_vae": ("A convolutional VAE with a 2-d latent space (samples, latent plots)",
                  lambda: tfae.VariationalAutoEncoder(tfae.ConvEncoder(4, filters=(32, 64)),
                                                      tfae.ConvDecoder(IMAGES, filters=(64, 32)),
                                                      input_shape=IMAGES, seed=0, name="mnist_vae"), 20, 128, None),
}


def picture(model, x, name: str, noise_level) -> None:
    folder = REPO / "docs" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "sample"):
        tfae.plotting.image_grid(model.sample(40, seed=0), columns=10, path=folder / f"preset_{name}.png")
        return
    inputs = x[:10].reshape((-1,) + model.sample_shape)
    if noise_level is not None:
        noise = np.random.default_rng(0).standard_normal(inputs.shape).astype("float32")
        inputs = np.clip(inputs + noise_level * noise, 0, 1)
    tfae.plotting.image_grid(np.concatenate([x[:10].reshape(10, -1), inputs.reshape(10, -1),
                                             model.reconstruct(inputs).reshape(10, -1)]),
                             columns=10, path=folder / f"preset_{name}.png")


def build(name: str) -> dict:
    description, make, epochs, batch_size, noise_level = PRESETS[name]
    (x, _), (x_test, _) = tfae.datasets.load_mnist(DEFAULT_DATA, download=False)
    _, (x_sample, _) = tfae.datasets.load_mnist_sample()
    keras.utils.set_random_seed(0)
    model = make()
    model.compile()
    start = time.perf_counter()
    model.fit(x.reshape((-1,) + model.sample_shape), epochs=epochs, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - start
    metadata = {
        "description": description,
        "training_data": "MNIST, 60,000 training digits, float32 in [0, 1]",
        "epochs": epochs,
        "batch_size": batch_size,
        "training_seconds": round(seconds, 1),
        "measured_with": "tfae.presets.measure" + ("" if noise_level is None else f"(noise_level={noise_level})"),
        "noise_level": noise_level,
        "test": tfae.presets.measure(model, x_test, noise_level=noise_level),
        "sample_test": tfae.presets.measure(model, x_sample, noise_level=noise_level),
    }
    model.save_to_preset(REPO / "tfae" / "presets" / name, metadata=metadata)
    picture(model, x_test, name, noise_level)
    return metadata


def write_doc() -> None:
    rows = []
    for name in tfae.list_presets():
        info = tfae.presets.metadata(name)
        test = info["test"]
        loss = f"{test['loss']:.2f}" if "loss" in test else ""
        rows.append(f"| `{name}` | {info['description']} | {info['parameters']:,} | {info['epochs']} | "
                    f"{test['bce']:.4f} | {test['mse']:.4f} | {loss} | ![{name}](images/preset_{name}.png) |")
    table = "\n".join(rows)
    path = REPO / "docs" / "presets.md"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("<!-- presets -->"), text.index("<!-- /presets -->")
    path.write_text(text[:start] + "<!-- presets -->\n" + HEADER + table + "\n" + text[end:], encoding="utf-8")


HEADER = ("| preset | what | parameters | epochs | test BCE | test MSE | test -ELBO (nats) | picture |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- |\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PRESETS))
    args = parser.parse_args(argv)
    for name in args.only.split(","):
        print(name, build(name), flush=True)
    write_doc()


if __name__ == "__main__":
    main()
