"""`AutoEncoder.fit` on arrays, TensorFlow backend: many steps per compiled program over resident data.

The fast path must be invisible: same steps, same weights, same logs, same
callbacks as Keras' own loop over the same batches.
"""

import keras
import numpy as np
import pytest

import tfae
from tfae import _backend

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow-only fast path")

tf = pytest.importorskip("tensorflow")


def tiny_model(**compile_kwargs):
    model = tfae.AutoEncoder(tfae.Encoder(8, hidden_units=(16,)), tfae.Decoder(784), input_shape=(784,))
    model.compile(**compile_kwargs)
    return model


def twin(model, **compile_kwargs):
    other = tiny_model(**compile_kwargs)
    other.set_weights(model.get_weights())
    return other


@pytest.mark.parametrize(
    "samples, batch_size, steps_per_execution",
    [
        (192, 32, 3),  # whole executions only
        (200, 32, 4),  # the last execution is short and ends in a short batch
        (229, 32, 7),  # the last execution is the short batch alone
        (100, 128, 64),  # one batch, smaller than batch_size
    ],
)
def test_array_fit_takes_the_same_steps_as_keras_own_loop(small_digits, samples, batch_size, steps_per_execution):
    (x, _), (x_val, _) = small_digits
    x = x[:samples]
    fast = tiny_model(steps_per_execution=steps_per_execution)
    keras_loop = twin(fast, steps_per_execution=steps_per_execution)

    fast_history = fast.fit(x, epochs=2, batch_size=batch_size, shuffle=False, validation_data=x_val, verbose=0)
    batches = tf.data.Dataset.from_tensor_slices(x).batch(batch_size)
    keras_history = keras_loop.fit(batches, epochs=2, validation_data=x_val, verbose=0)

    assert int(fast.optimizer.iterations) == int(keras_loop.optimizer.iterations) == 2 * -(-samples // batch_size)
    for key in ("loss", "mse", "val_loss", "val_mse"):
        np.testing.assert_allclose(fast_history.history[key], keras_history.history[key], rtol=1e-5, atol=1e-6)
    for fast_weight, keras_weight in zip(fast.get_weights(), keras_loop.get_weights()):
        np.testing.assert_allclose(fast_weight, keras_weight, rtol=1e-5, atol=1e-6)


def test_denoising_pairs_take_the_same_steps_as_keras_own_loop(small_digits, random_unit):
    (x, _), _ = small_digits
    noisy = np.clip(x + 0.3 * random_unit(*x.shape), 0.0, 1.0)
    fast = tiny_model(steps_per_execution=5)
    keras_loop = twin(fast, steps_per_execution=5)

    fast.fit(noisy, x, epochs=1, batch_size=48, shuffle=False, verbose=0)
    keras_loop.fit(tf.data.Dataset.from_tensor_slices((noisy, x)).batch(48), epochs=1, verbose=0)

    for fast_weight, keras_weight in zip(fast.get_weights(), keras_loop.get_weights()):
        np.testing.assert_allclose(fast_weight, keras_weight, rtol=1e-5, atol=1e-6)


def test_the_same_seed_gives_the_same_weights(small_digits):
    (x, _), _ = small_digits
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        model = tiny_model()
        model.fit(x, epochs=2, batch_size=64, verbose=0)
        weights.append(model.get_weights())
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)


def test_each_epoch_visits_every_sample_once_in_a_fresh_order():
    model = tiny_model(steps_per_execution=3)
    feed, steps = _backend.ResidentTraining(model).dataset(
        np.zeros((70, 784), "float32"), None, batch_size=8, shuffle=True
    )
    assert steps == 9  # 8 batches of 8 and one of 6
    elements = iter(feed)
    orders = []
    for _ in range(2):
        epoch = [next(elements) for _ in range(3)]  # ceil(9 / 3) executions
        assert [tuple(batches.shape) for batches, _ in epoch] == [(3, 8), (3, 8), (2, 8)]
        assert [tuple(last.shape) for _, last in epoch] == [(0,), (0,), (6,)]
        order = np.concatenate([np.concatenate([b.numpy().ravel(), last.numpy()]) for b, last in epoch])
        assert sorted(order) == list(range(70))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])


def test_unshuffled_feed_keeps_the_data_order():
    model = tiny_model(steps_per_execution=2)
    feed, _ = _backend.ResidentTraining(model).dataset(np.zeros((10, 784), "float32"), None, batch_size=4, shuffle=False)
    elements = iter(feed)
    first, second = next(elements), next(elements)
    assert first[0].numpy().tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]] and first[1].numpy().size == 0
    assert second[0].numpy().size == 0 and second[1].numpy().tolist() == [8, 9]


def test_callbacks_see_every_execution_and_can_stop_training(small_digits):
    (x, _), _ = small_digits
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, sorted(logs)))

        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch == 1

    model = tiny_model(steps_per_execution=4)
    history = model.fit(x, epochs=5, batch_size=32, callbacks=[Recorder()], verbose=0)

    assert len(history.history["loss"]) == 2
    assert [batch for batch, _ in seen] == [3, 7, 11, 15] * 2  # 16 steps per epoch, 4 per execution
    assert all(keys == ["loss", "mse"] for _, keys in seen)


def test_train_on_batch_and_dataset_fit_still_work_after_an_array_fit(small_digits):
    (x, _), _ = small_digits
    model = tiny_model()
    model.fit(x, epochs=1, batch_size=64, verbose=0)
    before = int(model.optimizer.iterations)
    model.train_on_batch(x[:32], x[:32])
    model.fit(tf.data.Dataset.from_tensor_slices(x).batch(128), epochs=1, verbose=0)
    model.fit(x, epochs=1, batch_size=64, verbose=0)
    assert int(model.optimizer.iterations) == before + 1 + 4 + 8


def test_recompiling_between_fits_trains_with_the_new_optimizer(small_digits):
    (x, _), _ = small_digits
    model = tiny_model()
    model.fit(x, epochs=1, batch_size=64, verbose=0)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    weights = model.get_weights()
    model.fit(x, epochs=1, batch_size=64, verbose=0)
    assert int(model.optimizer.iterations) == 8
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)  # a zero learning rate: the new optimizer ran


def test_a_subclass_train_step_runs_once_per_step(small_digits):
    (x, _), _ = small_digits

    steps = tf.Variable(0)

    class Counting(tfae.AutoEncoder):
        def train_step(self, data):
            steps.assign_add(1)
            return super().train_step(data)

    model = Counting(tfae.Encoder(8), tfae.Decoder(784), input_shape=(784,))
    model.compile(steps_per_execution=3)
    model.fit(x[:300], epochs=2, batch_size=64, verbose=0)
    assert int(steps.numpy()) == 2 * 5


def test_under_a_distribution_strategy_keras_own_loop_trains(small_digits):
    (x, _), _ = small_digits
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        model = tiny_model()
        history = model.fit(x, epochs=2, batch_size=64, verbose=0)
    assert model._resident_training is None
    assert history.history["loss"][1] < history.history["loss"][0]


def test_aligned_arrays_are_shared_and_others_copied():
    from tfae._backend import aligned_empty

    aligned = aligned_empty((8, 784), np.float32)
    aligned[...] = 0.5
    misaligned = aligned_empty((8 * 784 + 4,), np.float32)[4:].reshape(8, 784)  # 16 bytes off
    misaligned[...] = 0.5
    read_only = aligned.copy()
    read_only.flags.writeable = False

    tensors = {name: _backend._shared_tensor(a) for name, a in
               {"aligned": aligned, "misaligned": misaligned, "read_only": read_only}.items()}
    aligned[0, 0] = misaligned[0, 0] = 2.0

    assert float(tensors["aligned"][0, 0]) == 2.0  # the same memory
    assert float(tensors["misaligned"][0, 0]) == 0.5  # a copy
    assert float(tensors["read_only"][0, 0]) == 0.5


def test_a_misaligned_array_trains_like_an_aligned_one(small_digits):
    (x, _), _ = small_digits
    assert x.ctypes.data % 64 == 0
    from tfae._backend import aligned_empty

    misaligned = aligned_empty((x.size + 4,), np.float32)[4:].reshape(x.shape)
    misaligned[...] = x
    first = tiny_model()
    second = twin(first)
    first.fit(x, epochs=1, batch_size=64, shuffle=False, verbose=0)
    second.fit(misaligned, epochs=1, batch_size=64, shuffle=False, verbose=0)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_as_shareable_keeps_shareable_arrays_and_copies_the_rest_onto_an_aligned_buffer(mnist_sample):
    from tfae._backend import as_shareable, shareable

    (x, _), _ = mnist_sample
    assert shareable(x) and as_shareable(x) is x
    for other in (x[:, ::2], x.astype(np.float64), np.asfortranarray(x[:100])):
        copy = as_shareable(other)
        assert shareable(copy)
        np.testing.assert_array_equal(copy, other)
