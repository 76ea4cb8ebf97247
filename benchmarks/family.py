"""Quality and speed of the autoencoder family on full MNIST, next to the published Keras references.

    python -m benchmarks.family                      # the epochs of docs/family.md's table
    python -m benchmarks.family --quick              # 6,000 samples, 1 epoch each: a smoke run
    python -m benchmarks.family --only conv,vae      # some rows

TensorFlow backend. Speed: each tfae model and the same architecture written
as the keras-io example writes it (plain `fit`, or the VAE's custom
`train_step`) train one epoch in turn, repeat after repeat, same batch size;
the median epoch time is reported and the ratio taken within the run. Quality:
the tfae model trains for the given epochs and its test loss is reported next to
the reference's (which used more epochs). Anomaly detection: one dense
autoencoder per digit, trained on that digit; ROC AUC of its scores for that
digit against the others on the test set. Results go to
`benchmarks/results/family.json` and the printed table into docs/family.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfae  # noqa: E402
from benchmarks.run import DEFAULT_DATA, RESULTS, bce_mse  # noqa: E402

BATCH = 128
PICTURES = RESULTS.parent.parent / "docs" / "images"


def picture(name: str, images=None, *, columns: int = 10, codes=None, labels=None, title: str = "") -> None:
    """Write `docs/images/<name>.png`: an image grid, or a latent scatter of `codes` (full runs only)."""
    if not PICTURE_RUN:
        return
    PICTURES.mkdir(parents=True, exist_ok=True)
    if codes is not None:
        tfae.plotting.latent_scatter(codes, labels, path=PICTURES / f"{name}.png", title=title)
    else:
        tfae.plotting.image_grid(images, columns=columns, path=PICTURES / f"{name}.png")


PICTURE_RUN = False


# -------------------------------------------------------------- keras-io models
def keras_io_conv_autoencoder() -> keras.Model:
    """keras-io "Convolutional autoencoder for image denoising" (Santiago Valdarrama), as written there."""
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inputs)
    x = keras.layers.MaxPooling2D((2, 2), padding="same")(x)
    x = keras.layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = keras.layers.MaxPooling2D((2, 2), padding="same")(x)
    x = keras.layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = keras.layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    outputs = keras.layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs)


def keras_blog_dense_autoencoder(hidden_units: tuple[int, ...], latent_dim: int) -> keras.Model:
    """The Keras blog's dense autoencoders ("Building Autoencoders in Keras"): relu layers, a sigmoid output."""
    inputs = keras.Input((784,))
    x = inputs
    for units in (*hidden_units, latent_dim, *reversed(hidden_units)):
        x = keras.layers.Dense(units, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(784, activation="sigmoid")(x))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def conv_halves() -> tuple[keras.Model, keras.Model]:
    """The same architecture as an encoder (to the 7x7x32 maps, flattened) and a decoder."""
    model = keras_io_conv_autoencoder()
    encoder = keras.Sequential([keras.Input((28, 28, 1)), *model.layers[1:5], keras.layers.Flatten()], name="encoder")
    decoder = keras.Sequential([keras.Input((7 * 7 * 32,)), keras.layers.Reshape((7, 7, 32)), *model.layers[5:]],
                               name="decoder")
    return encoder, decoder


def vae_halves(latent_dim: int = 2) -> tuple[keras.Model, keras.Model]:
    """keras-io "Variational AutoEncoder" (fchollet) encoder and decoder; the encoder outputs mean and log-variance."""
    encoder = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu", strides=2, padding="same"),
        keras.layers.Conv2D(64, 3, activation="relu", strides=2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(2 * latent_dim, name="bottleneck"),
    ], name="encoder")
    decoder = keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(7 * 7 * 64, activation="relu"),
        keras.layers.Reshape((7, 7, 64)),
        keras.layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same"),
        keras.layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same"),
        keras.layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same"),
    ], name="decoder")
    return encoder, decoder


class KerasIoVAE(keras.Model):
    """The keras-io VAE's model: a TensorFlow `train_step` with a GradientTape, as the example writes it."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            moments = self.encoder(data)
            z_mean, z_log_var = moments[:, :2], moments[:, 2:]
            eps = keras.random.normal(keras.ops.shape(z_mean), seed=self.seed_generator)
            z = z_mean + keras.ops.exp(0.5 * z_log_var) * eps
            reconstruction = self.decoder(z)
            reconstruction_loss = keras.ops.mean(keras.ops.sum(
                keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var))
            total_loss = reconstruction_loss + keras.ops.mean(keras.ops.sum(kl_loss, axis=1))
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        return {"loss": self.total_loss_tracker.result()}


# ------------------------------------------------------------------ measurement
def epoch_seconds(models: dict, x, repeats: int, batch_size: int = BATCH) -> dict[str, float]:
    """Median seconds of one epoch per model, trained in turn (a first full epoch each warms up and compiles)."""
    for model in models.values():
        model.fit(x, epochs=1, batch_size=batch_size, verbose=0)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(x, epochs=1, batch_size=batch_size, verbose=0)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def train_rest(model, x, epochs: int, repeats: int, epoch_s: float, batch_size: int = BATCH):
    """Train `model` for what is left of `epochs` after `epoch_seconds` (a warm-up and `repeats` timed epochs).

    Returns `(history, wall)`: the rest's history and the wall time of all `epochs`, the timed ones counted
    at their median.
    """
    start = time.perf_counter()
    history = model.fit(x, epochs=max(0, epochs - repeats - 1), batch_size=batch_size, verbose=0).history
    return history, time.perf_counter() - start + epoch_s * (repeats + 1)


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive outscores a negative (ties count half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def row_conv(data, epochs, repeats, *, noise=False):
    x, xt = data["images"], data["test_images"]
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    reference = keras_io_conv_autoencoder()
    reference.compile(optimizer="adam", loss="binary_crossentropy")
    encoder, decoder = conv_halves()
    ae = tfae.AutoEncoder(encoder, decoder, noise="gaussian" if noise else None, noise_level=0.4)
    ae.compile()
    if noise:  # keras-io's fixed noisy copies, clipped to [0, 1]
        x_in = np.clip(x + 0.4 * rng.standard_normal(x.shape), 0, 1).astype("float32")
        reference_models = {"keras-io": _Paired(reference, x_in, x), "tfae": ae}
    else:
        reference_models = {"keras-io": _Paired(reference, x, x), "tfae": ae}
    speed = epoch_seconds(reference_models, x, repeats)
    _, wall = train_rest(ae, x, epochs, repeats, speed["tfae"])
    inputs = np.clip(xt + 0.4 * rng.standard_normal(xt.shape), 0, 1).astype("float32") if noise else xt
    reconstructions = ae.reconstruct(inputs)
    bce, mse = bce_mse(xt, reconstructions)
    rows = [xt[:10], inputs[:10], reconstructions[:10]] if noise else [xt[:10], reconstructions[:10]]
    picture("denoising" if noise else "conv", np.concatenate(rows))
    return {"test_bce": bce, "test_mse": mse, "epochs": epochs, "wall_s": wall,
            "epoch_s_tfae": speed["tfae"], "epoch_s_reference": speed["keras-io"]}


class _Paired:
    """A plain Keras model trained on fixed `(inputs, targets)` whatever `fit` is handed (for `epoch_seconds`)."""

    def __init__(self, model, inputs, targets):
        self.model, self.inputs, self.targets = model, inputs, targets

    def fit(self, x, **kwargs):
        n = len(x)
        return self.model.fit(self.inputs[:n], self.targets[:n], **kwargs)


def row_vae(data, epochs, repeats):
    x = np.concatenate([data["images"], data["test_images"]])  # keras-io trains on all 70,000 digits
    keras.utils.set_random_seed(0)
    reference = KerasIoVAE(*vae_halves())
    reference.compile(optimizer=keras.optimizers.Adam())
    vae = tfae.VariationalAutoEncoder(*vae_halves(), seed=0)
    vae.compile()
    speed = epoch_seconds({"keras-io": reference, "tfae": vae}, x, repeats)
    history, wall = train_rest(vae, x, epochs, repeats, speed["tfae"])
    last = {key: values[-1] for key, values in history.items()} if history else {}
    picture("vae_samples", vae.sample(40, seed=0))
    picture("vae_latent", codes=vae.encode(data["test_images"]), labels=data["test_labels"],
            title="VAE codes of the test digits (means)")
    return {"total_loss": last.get("loss"), "reconstruction_loss": last.get("reconstruction_loss"),
            "kl_loss": last.get("kl_loss"), "epochs": epochs, "wall_s": wall,
            "epoch_s_tfae": speed["tfae"], "epoch_s_reference": speed["keras-io"]}


def row_dense(data, epochs, repeats, hidden_units, latent_dim, reference_epochs):
    """The blog's dense model in tfae, timed against the blog's plain Keras code (batch 256, as the blog)."""
    x, xt = data["flat"], data["test_flat"]
    keras.utils.set_random_seed(0)
    reference = keras_blog_dense_autoencoder(hidden_units, latent_dim)
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=latent_dim, hidden_units=hidden_units,
                          latent_activation="relu")
    ae.compile()
    speed = epoch_seconds({"keras blog": _Paired(reference, x, x), "tfae": ae}, x, repeats, batch_size=256)
    _, wall = train_rest(ae, x, epochs, repeats, speed["tfae"], batch_size=256)
    reconstructions = ae.reconstruct(xt)
    bce, mse = bce_mse(xt, reconstructions)
    picture(f"dense_{'_'.join(map(str, (*hidden_units, latent_dim)))}", np.concatenate([xt[:10], reconstructions[:10]]))
    return {"test_bce": bce, "test_mse": mse, "epochs": epochs, "wall_s": wall,
            "epoch_s_tfae": speed["tfae"], "epoch_s_reference": speed["keras blog"],
            "reference_epochs": reference_epochs}


def row_aae(data, epochs):
    x, xt = data["flat"], data["test_flat"]
    keras.utils.set_random_seed(0)
    aae = tfae.AdversarialAutoEncoder(input_shape=(784,), latent_dim=2, hidden_units=(512, 256), seed=0)
    aae.compile()
    start = time.perf_counter()
    aae.fit(x, epochs=epochs, batch_size=BATCH, verbose=0)
    wall = time.perf_counter() - start
    result = aae.evaluate(xt, verbose=0, return_dict=True)
    codes = aae.encode(xt)
    picture("aae_samples", aae.sample(40, seed=0))
    picture("aae_latent", codes=codes, labels=data["test_labels"], title="AAE codes of the test digits")
    return {"reconstruction_nats": result["reconstruction_loss"], "code_mean": codes.mean(0).tolist(),
            "code_std": codes.std(0).tolist(), "epochs": epochs, "wall_s": wall}


def row_anomaly(data, epochs):
    x, y, xt, yt = data["flat"], data["labels"], data["test_flat"], data["test_labels"]
    aucs = {}
    start = time.perf_counter()
    for digit in range(10):
        keras.utils.set_random_seed(digit)
        ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=16, hidden_units=(128,))
        detector = tfae.AnomalyDetector(ae).fit(x[y == digit], epochs=epochs, batch_size=BATCH, verbose=0)
        # the digit is the normal class: its ROC AUC is that of "anomalous" scores for the other digits
        aucs[str(digit)] = roc_auc(detector.decision_function(xt), yt != digit)
    return {"roc_auc": aucs, "epochs": epochs, "wall_s": time.perf_counter() - start}


ROWS = {
    "conv": lambda d, a: row_conv(d, a.epochs or 10, a.repeats),
    "denoising": lambda d, a: row_conv(d, a.epochs or 10, a.repeats, noise=True),
    "vae": lambda d, a: row_vae(d, a.epochs or 15, a.repeats),
    "dense32": lambda d, a: row_dense(d, a.epochs or 50, a.repeats, (), 32, reference_epochs=50),
    "deep": lambda d, a: row_dense(d, a.epochs or 100, a.repeats, (128, 64), 32, reference_epochs=100),
    "aae": lambda d, a: row_aae(d, a.epochs or 10),
    "anomaly": lambda d, a: row_anomaly(d, a.epochs or 5),
}


def load(quick: bool) -> dict:
    (x, y), (xt, yt) = tfae.datasets.load_mnist(DEFAULT_DATA, download=False)
    if quick:
        x, y, xt, yt = x[:6000], y[:6000], xt[:1000], yt[:1000]
    return {"flat": x, "labels": y, "test_flat": xt, "test_labels": yt,
            "images": x.reshape(-1, 28, 28, 1), "test_images": xt.reshape(-1, 28, 28, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(ROWS))
    parser.add_argument("--epochs", type=int, default=None, help="the same epoch count for every row")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per contender")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.repeats = args.epochs or 3, 1
    global PICTURE_RUN
    PICTURE_RUN = not args.quick
    data = load(args.quick)
    report = {"keras": keras.__version__, "backend": keras.backend.backend(), "quick": args.quick,
              "cpus": os.cpu_count(), "rows": {}}
    for name in args.only.split(","):
        report["rows"][name] = ROWS[name](data, args)
        print(name, json.dumps(report["rows"][name]), flush=True)
    if not args.quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / "family.json"
        previous = json.loads(path.read_text()) if path.exists() else {"rows": {}}
        previous["rows"].update(report["rows"])
        report["rows"] = previous["rows"]
        path.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
