"""tfae under `tf.distribute.MirroredStrategy` on two logical CPUs, against plain Keras and one device.

Run in a subprocess by tests/test_distributed.py: logical devices must be
configured before TensorFlow starts. Prints OK at the end.
"""

import tempfile

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from tests import conformance as c  # noqa: E402

d = c.data(n=96)
keras.utils.set_random_seed(0)
single = c.tfae_model({})  # one device: the reference
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    ours = c.tfae_model({})  # tfae's defaults
    ours.set_weights(single.get_weights())
    theirs = c.plain_model(single, {"jit_compile": "auto"})

arguments = dict(epochs=2, batch_size=16, shuffle=False, verbose=0)
results = {}
for name, model, y in (("single", single, None), ("tfae", ours, None), ("keras", theirs, d["x"])):
    history = model.fit(d["x"], y, validation_data=(d["x_val"], d["x_val"]), sample_weight=d["w"], **arguments)
    evaluation = model.evaluate(d["x_val"], d["x_val"], verbose=0, return_dict=True)
    results[name] = {"history": history.history, "weights": model.get_weights(), "evaluate": evaluation}

c.assert_same(results["tfae"], results["keras"], 1e-5, "tfae vs keras under MirroredStrategy")
c.assert_same(results["tfae"], results["single"], 1e-5, "tfae under MirroredStrategy vs one device")

# A file saved on one device (where tfae chose XLA for "auto") loads under the strategy, which makes that
# choice again (XLA cannot reach mirrored variables), and trains on as the one-device model does.
with tempfile.TemporaryDirectory() as folder:
    single.save(f"{folder}/single.keras")
    with strategy.scope():
        loaded = keras.models.load_model(f"{folder}/single.keras")
for name, model in (("single", single), ("loaded", loaded)):
    history = model.fit(d["x"], sample_weight=d["w"], **arguments)
    results[name] = {"history": history.history, "weights": model.get_weights()}
c.assert_same(results["loaded"], results["single"], 1e-5, "a one-device file loaded under MirroredStrategy")
print("OK mirrored")
