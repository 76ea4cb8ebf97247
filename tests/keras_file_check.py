"""Writes tfae models as `.keras` files, or loads files another backend wrote and checks them, on the backend
KERAS_BACKEND names. Run by tests/test_backends.py, since a process has one Keras backend:

    python tests/keras_file_check.py save FOLDER            # FOLDER/NAME.keras with its inputs and outputs
    python tests/keras_file_check.py load FOLDER [FOLDER...]  # each model gives the outputs recorded with it
"""

import sys
from pathlib import Path

import keras
import numpy as np

import tfae


def models():
    """{name: (model, samples)}: a few of the family, trained one epoch so their files hold optimizer state."""
    rng = np.random.default_rng(0)
    flat, images = rng.random((32, 12), np.float32), rng.random((32, 8, 8, 1), np.float32)
    made = {
        "dense": (tfae.AutoEncoder(input_shape=(12,), latent_dim=3, hidden_units=(8,), dropout=0.1), flat),
        "tied": (tfae.AutoEncoder(input_shape=(12,), latent_dim=3, hidden_units=(8,), tied=True), flat),
        "conv": (tfae.AutoEncoder(tfae.ConvEncoder(4, filters=(4,)), tfae.ConvDecoder((8, 8, 1), filters=(4,)),
                                  input_shape=(8, 8, 1)), images),
        "vae": (tfae.VariationalAutoEncoder(input_shape=(12,), latent_dim=2, hidden_units=(8,), seed=0), flat),
        "plain": (keras.Sequential([keras.Input((12,)), keras.layers.Dense(3), keras.layers.Dense(12)]), flat),
    }
    for model, x in made.values():
        model.compile() if isinstance(model, tfae.AutoEncoder) else model.compile(optimizer="adam", loss="mse")
        model.fit(x, x, epochs=1, batch_size=16, verbose=0)
    return made


def outputs(model, x):
    if not isinstance(model, tfae.AutoEncoder):
        return {"predict": model.predict(x, verbose=0)}
    return {"encode": model.encode(x), "reconstruct": model.decode(model.encode(x))}


def save(folder: Path) -> None:
    keras.utils.set_random_seed(0)
    for name, (model, x) in models().items():
        model.save(folder / f"{name}.keras")
        np.save(folder / f"{name}.x.npy", x)
        for key, value in outputs(model, x).items():
            np.save(folder / f"{name}.{key}.npy", value)
        np.save(folder / f"{name}.iterations.npy", keras.ops.convert_to_numpy(model.optimizer.iterations))


def load(folder: Path) -> None:
    for path in sorted(folder.glob("*.keras")):
        name = path.name[: -len(".keras")]
        # tfae's models through Keras' own loader; any other model through tfae's.
        model = tfae.load_model(path) if name == "plain" else keras.models.load_model(path)
        x = np.load(folder / f"{name}.x.npy")
        for key, value in outputs(model, x).items():
            np.testing.assert_allclose(value, np.load(folder / f"{name}.{key}.npy"), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{path} {key}")
        iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        assert iterations == int(np.load(folder / f"{name}.iterations.npy")), (path, iterations)
        if name not in ("conv", "plain"):  # tfae's dense layers: XLA as tfae chooses it on this backend
            fresh = type(model).from_config(model.get_config())
            fresh.compile()
            assert model.jit_compile == fresh.jit_compile, (path, model.jit_compile, fresh.jit_compile)
        model.fit(x, x, epochs=1, batch_size=16, verbose=0)  # the loaded optimizer state trains on
        assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == iterations + 2, path
        print("loaded", path, flush=True)


if __name__ == "__main__":
    mode, folders = sys.argv[1], [Path(arg) for arg in sys.argv[2:]]
    save(folders[0]) if mode == "save" else [load(folder) for folder in folders]
    print("OK", keras.backend.backend(), mode)
