import glob

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfae


def logged_images(log_dir, tag="reconstructions"):
    """{step: image} of the image summaries named `tag` under `log_dir/images`."""
    images = {}
    for path in glob.glob(str(log_dir / "images" / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    width, height, png = tf.make_ndarray(value.tensor)
                    image = tf.io.decode_png(png).numpy()[..., 0]
                    assert image.shape == (int(height), int(width))
                    images[event.step] = image
    return images


@pytest.fixture(scope="module")
def digits():
    (x_train, _), (x_test, _) = tfae.datasets.load_mnist_sample()
    return x_train[:256], x_test[:6]


def test_reconstruction_images_logs_the_grid_of_every_epoch_to_tensorboard(tmp_path, digits):
    x_train, shown = digits
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(16,))
    ae.compile()
    callback = tfae.callbacks.ReconstructionImages(shown, log_dir=tmp_path, n=4)
    ae.fit(x_train, epochs=3, batch_size=64, verbose=0, callbacks=[callback])
    images = logged_images(tmp_path)
    assert sorted(images) == [0, 1, 2]
    final = tfae.plotting.reconstruction_tiles(shown[:4], ae.reconstruct(shown[:4]))
    np.testing.assert_array_equal(images[2], final)        # the last epoch's weights
    assert not np.array_equal(images[0], images[2])        # the pictures follow the training
    np.testing.assert_array_equal(images[2][:30], tfae.plotting.tile_images(shown[:4], columns=4))


def test_reconstruction_images_logs_every_freq_epochs_and_the_last(tmp_path, digits):
    x_train, shown = digits
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=())
    ae.compile()
    callback = tfae.callbacks.ReconstructionImages(shown, log_dir=tmp_path, freq=2, name="digits")
    ae.fit(x_train, epochs=5, batch_size=128, verbose=0, callbacks=[callback])
    assert sorted(logged_images(tmp_path, "digits")) == [1, 3, 4]


def test_reconstruction_images_works_with_a_plain_keras_autoencoder(tmp_path, digits):
    import keras

    x_train, shown = digits
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(8, name="bottleneck"),
                              keras.layers.Dense(784, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(x_train, x_train, epochs=1, verbose=0,
              callbacks=[tfae.callbacks.ReconstructionImages(shown, log_dir=tmp_path)])
    expected = tfae.plotting.reconstruction_tiles(shown, model.predict(shown, verbose=0), n=8)
    np.testing.assert_array_equal(logged_images(tmp_path)[0], expected)


def test_reconstruction_images_checks_its_arguments_up_front(tmp_path):
    with pytest.raises(ValueError, match="Received: n=0"):
        tfae.callbacks.ReconstructionImages(np.zeros((4, 784)), n=0)
    with pytest.raises(ValueError, match="Received: freq=-1"):
        tfae.callbacks.ReconstructionImages(np.zeros((4, 784)), freq=-1)
    with pytest.raises(ValueError) as error:
        tfae.callbacks.ReconstructionImages(np.zeros((4, 10)))
    assert str(error.value) == ("Expected `image_shape` that fits the 10 values of each sample of `x` (square images "
                                "are found by themselves). Received: image_shape=None, x.shape=(4, 10)")
    with pytest.raises(ValueError, match="Received: x.shape"):
        tfae.callbacks.ReconstructionImages(np.zeros((0, 784)))
    with pytest.raises(ValueError, match="Received: log_dir=3"):
        tfae.callbacks.ReconstructionImages(np.zeros((4, 784)), log_dir=3)


def test_reconstruction_images_warns_up_front_about_pixels_in_0_to_255():
    with pytest.warns(UserWarning, match=r"Received: x with values in \[0, 255\]$"):
        tfae.callbacks.ReconstructionImages(np.linspace(0.0, 255.0, 4 * 784).reshape(4, 784))


class _RecordWeights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.by_epoch = {}

    def on_epoch_end(self, epoch, logs=None):
        self.by_epoch[epoch] = ([np.array(w) for w in self.model.weights],
                                int(self.model.optimizer.iterations.numpy()))


def _diverging_at_third_epoch():
    # A finite learning rate for two epochs, then one that overflows the weights.
    return keras.callbacks.LearningRateScheduler(lambda epoch, lr: 1e-3 if epoch < 2 else 1e30)


def test_a_nan_loss_stops_fit_and_restores_the_last_good_epochs_weights(small_digits):
    (x, _), _ = small_digits
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(16,))
    ae.compile(optimizer=keras.optimizers.SGD(), loss="mse")
    record = _RecordWeights()
    with pytest.warns(RuntimeWarning, match=r"loss became nan in epoch 3\. .* those at the end of epoch 2") as caught:
        history = ae.fit(x, epochs=6, batch_size=64, callbacks=[_diverging_at_third_epoch(), record], verbose=0)
    assert [w.filename for w in caught if w.category is RuntimeWarning] == [__file__]  # the `fit` line, not Keras'
    assert len(history.history["loss"]) == 3 and not np.isfinite(history.history["loss"][-1])
    kept_weights, kept_steps = record.by_epoch[1]
    for weight, kept in zip(ae.weights, kept_weights):
        np.testing.assert_array_equal(np.array(weight), kept)
    assert int(ae.optimizer.iterations.numpy()) == kept_steps == 16
    assert np.isfinite(ae.evaluate(x, verbose=0)).all()


def test_without_the_guard_a_nan_loss_trains_on_to_non_finite_weights(small_digits):
    (x, _), _ = small_digits
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=8, hidden_units=(16,))
    ae.stop_on_nan = False
    ae.compile(optimizer=keras.optimizers.SGD(), loss="mse")
    history = ae.fit(x, epochs=4, batch_size=64, callbacks=[_diverging_at_third_epoch()], verbose=0)
    assert len(history.history["loss"]) == 4
    assert not all(np.isfinite(np.array(w)).all() for w in ae.weights)


def test_the_guard_works_for_a_plain_keras_model_and_a_nan_in_the_first_epoch():
    x = np.random.default_rng(0).random((64, 4), np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e30), loss="mse")
    before = [np.array(w) for w in model.weights]
    guard = tfae.callbacks.StopOnNaN()
    with pytest.warns(RuntimeWarning, match="those before training"):
        model.fit(x, x, epochs=3, batch_size=8, callbacks=[guard], verbose=0)
    assert (guard.stopped_epoch, guard.restored_epoch) == (0, -1)
    for weight, kept in zip(model.weights, before):
        np.testing.assert_array_equal(np.array(weight), kept)
