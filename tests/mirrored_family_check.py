"""Every model of the family under `tf.distribute.MirroredStrategy` on two logical CPUs, against one device.

Run in a subprocess by tests/test_distributed.py (logical devices must be set up
before TensorFlow starts). Deterministic models must match one device on the same
global batches; models that draw random numbers in training (noise, dropout, the
VAE's samples, the adversarial players' draws) draw them per replica under a
strategy, so they cannot match draw for draw: their weights must stay finite and
every logged loss within 25 % of one device's (a loss term scaled by the number
of replicas would be off by 2x). Prints OK at the end.
"""

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tests import conformance as c  # noqa: E402
from tests.test_family_engine import MODELS  # noqa: E402

DETERMINISTIC = ("sparse", "tied", "conv")
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
for name in sorted(MODELS):
    results = {}
    for where in ("single", "mirrored"):
        keras.utils.set_random_seed(7)
        if where == "single":
            model = MODELS[name]()
            model.compile()
        else:
            with strategy.scope():
                model = MODELS[name]()
                model.compile()
        rng = np.random.default_rng(0)
        x = rng.uniform(size=(64, *model.sample_shape)).astype("float32")
        if where == "single":
            initial = model.get_weights()
        else:
            model.set_weights(initial)
        history = model.fit(x, epochs=3, batch_size=16, shuffle=False, verbose=0).history
        results[where] = {"history": history, "weights": model.get_weights()}
    mirrored = results["mirrored"]
    assert all(np.isfinite(w).all() for w in mirrored["weights"]), name
    if name in DETERMINISTIC:
        c.assert_same(mirrored, results["single"], 1e-5, f"{name} under MirroredStrategy vs one device")
    else:  # other draws, same model and data: every loss of the history within 25 % of one device's
        for key, values in mirrored["history"].items():
            single = np.asarray(results["single"]["history"][key])
            assert np.isfinite(values).all(), (name, key, values)
            assert np.allclose(values, single, rtol=0.25, atol=1e-3), (name, key, values, single.tolist())
    print(f"ok {name}", flush=True)
print("OK mirrored family")
