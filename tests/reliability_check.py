"""Child processes for tests/test_reliability.py: a seeded run, or a soak of train/save/load/encode rounds.

`python -m tests.reliability_check seeded OUT.npz`: seeded training, weights and codes saved.
`python -m tests.reliability_check soak ROUNDS FOLDER`: prints the resident memory (MiB) after each round.
"""

import os
import sys

import keras
import numpy as np

import tfae


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


(x_train, _), (x_test, _) = tfae.datasets.load_mnist_sample()
if sys.argv[1] == "seeded":
    keras.utils.set_random_seed(0)
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(32,), noise="gaussian", noise_level=0.2)
    ae.compile()
    ae.fit(x_train[:512], epochs=2, batch_size=32, shuffle=True, verbose=0)
    weights = {f"w{i}": w for i, w in enumerate(ae.get_weights())}
    np.savez(sys.argv[2], codes=ae.encode(x_test[:64]), **weights)
else:
    rounds, folder = int(sys.argv[2]), sys.argv[3]
    path = os.path.join(folder, "ae.keras")
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(32,))
    ae.compile()
    for i in range(rounds):
        ae.fit(x_train[:64], epochs=1, batch_size=64, verbose=0)  # a step of the long-lived model
        ae.save(path)
        loaded = tfae.load_model(path)
        np.testing.assert_array_equal(loaded.encode(x_test[:32]), ae.encode(x_test[:32]))
        del loaded
        keras.backend.clear_session()  # a long-running service drops what it loaded
        print(f"{i} {rss_mib():.1f}", flush=True)
