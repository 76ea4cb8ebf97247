"""What `fit` and `evaluate` accept (`tfae._engine.boundary`): each check, its limits and its whole message."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tfae
from tfae._engine.boundary import _array, check_data

X = np.tile(np.array([0.0, 0.25, 0.5, 1.0], np.float32), (8, 1))  # both ends of [0, 1]
R = np.random.default_rng(0).uniform(size=(8, 4)).astype(np.float32)  # rows that differ


def _model(loss=None):
    ae = tfae.AutoEncoder(input_shape=(4,), latent_dim=2)
    ae.compile(**({} if loss is None else {"loss": loss}))
    return ae


def _refused(call, message):
    ae = _model()
    weights = ae.get_weights()
    with pytest.raises(ValueError) as caught:
        call(ae)
    assert str(caught.value) == message
    for before, after in zip(weights, ae.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)  # refused before any training


SCALE = ("Scale images to [0, 1] first (for example `x / 255`, or `tfae.datasets.load_mnist(normalize=True)`), or "
         "use another loss such as `loss=\"mse\"`.")


@pytest.mark.parametrize("call, received", [
    (lambda ae: ae.fit((X * 255).astype(np.uint8), verbose=0), "x with values in [0, 255] (dtype uint8)"),
    (lambda ae: ae.fit(X - 0.5, verbose=0), "x with values in [-0.5, 0.5] (dtype float32)"),
    (lambda ae: ae.fit(X, X * 3, verbose=0), "y with values in [0, 3] (dtype float32)"),
    (lambda ae: ae.fit(X, (X * 255).astype(np.uint8), verbose=0), "y with values in [0, 255] (dtype uint8)"),
    (lambda ae: ae.evaluate((X * 2).tolist(), verbose=0), "x with values in [0, 2] (dtype float32)"),  # a list: no dtype
    (lambda ae: ae.evaluate(X * 2, verbose=0), "x with values in [0, 2] (dtype float32)"),
    (lambda ae: ae.fit(X, validation_data=X * 2, verbose=0), "validation_data with values in [0, 2] (dtype float32)"),
    (lambda ae: ae.fit(X, validation_data=(X, X - 1), verbose=0), "validation_data[1] with values in [-1, 0] "
                                                                   "(dtype float32)"),
])
def test_binary_cross_entropy_refuses_targets_outside_the_unit_interval_with_the_whole_message(call, received):
    _refused(call, f"Expected targets in [0, 1] for the binary cross-entropy loss. Received: {received}. {SCALE}")


@pytest.mark.parametrize("call, received", [
    (lambda ae: ae.reconstruction_error((X * 255).astype(np.uint8)), "x with values in [0, 255] (dtype uint8)"),
    (lambda ae: ae.reconstruction_error(X, X * 3), "y with values in [0, 3] (dtype float32)"),
    (lambda ae: tfae.AutoEncoder(input_shape=(4,), latent_dim=2).reconstruction_error(X - 0.5),  # uncompiled
     "x with values in [-0.5, 0.5] (dtype float32)"),
    (lambda ae: tfae.AnomalyDetector(ae).fit((X * 255).astype(np.uint8)), "x with values in [0, 255] (dtype uint8)"),
])
def test_per_example_errors_refuse_what_evaluate_refuses(call, received):
    _refused(call, f"Expected targets in [0, 1] for the binary cross-entropy loss. Received: {received}. {SCALE}")


def test_per_example_errors_of_other_losses_take_any_targets():
    errors = _model("mse").reconstruction_error(X * 255)
    assert errors.shape == (8,) and (errors > 0).all()


def test_targets_at_both_ends_of_the_unit_interval_train_and_other_losses_take_any_targets():
    assert np.isfinite(_model().fit(X, X, epochs=1, verbose=0).history["loss"]).all()
    assert np.isfinite(_model("mse").fit(X, X * 10, epochs=1, verbose=0).history["loss"]).all()


def test_sample_weights_as_a_column_weigh_as_a_vector():
    weights = np.linspace(0.0, 2.0, 8).astype(np.float32)
    ae = _model()
    as_vector = ae.evaluate(R, sample_weight=weights, verbose=0, return_dict=True)
    assert ae.evaluate(R, sample_weight=weights[:, None], verbose=0, return_dict=True) == pytest.approx(as_vector,
                                                                                                         rel=1e-6)
    assert as_vector != pytest.approx(ae.evaluate(R, verbose=0, return_dict=True), rel=1e-3)  # the weights count


@pytest.mark.parametrize("call, message", [
    (lambda ae: ae.fit(None, verbose=0),
     "Expected `x` to be the data: an array, a tf.data.Dataset, a keras.utils.PyDataset or a generator. "
     "Received: x=None"),
    (lambda ae: ae.fit({}, verbose=0), "Expected `x` as a dict to map input names to arrays. Received: x={}"),
    (lambda ae: ae.fit({"x": X[:, :3]}, verbose=0),
     "Expected `x['x']` to have samples of shape (4,) (4 values each). Received: x['x'].shape=(8, 3)"),
    (lambda ae: ae.fit(X, {"x": X}, verbose=0),
     "Expected `y` to be an array of targets or None (a data set, generator or dict in `x` brings its own). "
     "Received: y of type dict"),
    (lambda ae: ae.fit(X, X[:, :3], verbose=0),
     "Expected `y` to have samples of shape (4,) (4 values each). Received: y.shape=(8, 3)"),
    (lambda ae: ae.fit(X, sample_weight=np.full(8, np.nan), verbose=0),
     "Expected `sample_weight` to hold finite values only. Received: sample_weight with NaN or infinite values"),
    (lambda ae: ae.fit(X, X[:5], verbose=0),
     "Expected `x`, `y` to hold the same number of samples. Received: len(x)=8, len(y)=5"),
    (lambda ae: ae.fit(X, sample_weight=np.ones(3), verbose=0),
     "Expected `x`, `sample_weight` to hold the same number of samples. Received: len(x)=8, len(sample_weight)=3"),
    (lambda ae: ae.evaluate(X, sample_weight=np.ones(3), verbose=0),
     "Expected `x`, `sample_weight` to hold the same number of samples. Received: len(x)=8, len(sample_weight)=3"),
    (lambda ae: ae.fit(X, validation_data=(X, X[:3]), verbose=0),
     "Expected `validation_data[0]`, `validation_data[1]` to hold the same number of samples. "
     "Received: len(validation_data[0])=8, len(validation_data[1])=3"),
    (lambda ae: ae.fit(X, sample_weight={"weights": np.ones(8)}, verbose=0),
     "Expected `sample_weight` to be an array of one weight per sample, or None. Received: sample_weight of type dict"),
    (lambda ae: ae.fit(X, sample_weight=np.ones((8, 2)), verbose=0),
     "Expected `sample_weight` to be a 1-D array of numbers, one weight per sample. "
     "Received: sample_weight with shape (8, 2) and dtype float64"),
    (lambda ae: ae.fit(np.zeros((8, 5), np.float32), verbose=0),
     "Expected `x` to have samples of shape (4,) (4 values each). Received: x.shape=(8, 5)"),
    (lambda ae: ae.fit(X, validation_data=(X[:, :3], X[:, :3]), verbose=0),
     "Expected `validation_data[0]` to have samples of shape (4,) (4 values each). "
     "Received: validation_data[0].shape=(8, 3)"),
    (lambda ae: ae.fit(X, validation_split=1.0, verbose=0),
     "Expected `validation_split` to be a float in [0, 1). Received: validation_split=1.0"),
    (lambda ae: ae.fit(X, validation_split=0.95, verbose=0),
     "Expected `validation_split` to leave samples for both training and validation. "
     "Received: validation_split=0.95 for 8 samples"),
    (lambda ae: ae.fit(X, validation_data=(X, X, np.ones(8), 1), verbose=0),
     "Expected `validation_data` to be the inputs `x_val`, or a tuple `(x_val,)`, `(x_val, y_val)` or "
     "`(x_val, y_val, sample_weight)`. Received: validation_data, a tuple of 4 items"),
    (lambda ae: ae.fit(X, validation_data=(), verbose=0),
     "Expected `validation_data` to be the inputs `x_val`, or a tuple `(x_val,)`, `(x_val, y_val)` or "
     "`(x_val, y_val, sample_weight)`. Received: validation_data, a tuple of 0 items"),
    (lambda ae: ae.fit(X, validation_data=X[:, :3], verbose=0),
     "Expected `validation_data` to have samples of shape (4,) (4 values each). "
     "Received: validation_data.shape=(8, 3)"),
])
def test_inconsistent_arrays_are_refused_with_the_whole_message(call, message):
    _refused(call, message)


@pytest.mark.parametrize("fraction", [0.875, 0.125])  # of 8 samples: 1 left to train on, then 1 to validate on
def test_a_validation_split_may_leave_a_single_sample_on_either_side(fraction):
    split_at = round(len(R) * (1 - fraction))
    first = _model()
    weights = first.get_weights()
    histories = []
    for ae, kwargs in ((first, {"x": R, "validation_split": fraction}),
                       (_model(), {"x": R[:split_at], "validation_data": R[split_at:]})):
        ae.set_weights(weights)
        histories.append(ae.fit(epochs=2, shuffle=False, verbose=0, **kwargs).history)
    assert histories[0] == histories[1]


@pytest.mark.parametrize("container", [tuple, list])  # Keras reads a list as it reads a tuple
def test_validation_data_with_its_own_targets_is_validated_against_them(container):
    ae = _model()
    y_val = R[::-1].copy()
    history = ae.fit(R, validation_data=container((R, y_val)), epochs=1, verbose=0).history
    assert history["val_loss"][0] == pytest.approx(ae.evaluate(R, y_val, verbose=0, return_dict=True)["loss"],
                                                   rel=1e-5)
    assert history["val_loss"][0] != pytest.approx(ae.evaluate(R, R, verbose=0, return_dict=True)["loss"], rel=1e-3)
    weights = np.arange(8, dtype=np.float32)
    history = ae.fit(R, validation_data=container((R, y_val, weights)), epochs=1, verbose=0).history
    expected = ae.evaluate(R, y_val, sample_weight=weights, verbose=0, return_dict=True)["loss"]
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("validation_data, x_val", [(R, R), ((R,), R), (R[:2], R[:2]), (R[:3], R[:3])],
                         ids=["x_val", "(x_val,)", "two samples", "three samples"])
def test_validation_data_of_inputs_alone_is_validated_against_those_inputs(validation_data, x_val):
    # An array of 2 or 3 samples is samples, not a Keras tuple `(x_val, y_val[, sample_weight])` of rows.
    ae = _model()
    history = ae.fit(X, validation_data=validation_data, epochs=1, verbose=0).history
    expected = ae.evaluate(x_val, x_val, verbose=0, return_dict=True)["loss"]
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("method", ["fit", "evaluate"])
@pytest.mark.parametrize("argument, keras_name", [("sample_weight", "sample_weights"), ("y", "y")])
def test_targets_or_sample_weights_beside_a_dataset_are_refused_as_keras_refuses_them(method, argument, keras_name):
    import tensorflow as tf

    ae = tfae.AutoEncoder(input_shape=(4,), latent_dim=2)
    ae.compile()
    dataset = tf.data.Dataset.from_tensor_slices(np.ones((8, 4), np.float32)).batch(4)
    given = {argument: np.ones(8) if argument == "sample_weight" else np.ones((8, 4), np.float32)}
    with pytest.raises(ValueError, match=rf"^When providing `x` as a tf.data.Dataset, `{keras_name}` should not be "
                                         r"passed"):
        getattr(ae, method)(dataset, verbose=0, **given)


def test_class_weights_without_targets_weigh_by_the_inputs_as_with_the_inputs_spelled_out_as_targets():
    # Keras fails on class weights without targets (an IndexError deep in its adapter); tfae's targets default to x.
    class_weight = {i: 1.0 + 3 * i for i in range(4)}
    start = _model().get_weights()

    def fit(y, class_weight):
        ae = _model()
        ae.set_weights(start)
        history = ae.fit(R, y, class_weight=class_weight, batch_size=4, epochs=2, shuffle=False, verbose=0).history
        return history, ae.get_weights()

    ours, our_weights = fit(None, class_weight)
    spelled_out, their_weights = fit(R.copy(), class_weight)
    assert ours == spelled_out
    for a, b in zip(our_weights, their_weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert fit(None, None)[0] != ours  # the class weights acted


def test_inputs_by_name_are_each_checked_and_converted_as_an_array():
    checked = _array({"a": [[0, 1]], "b": np.full((1, 2), 0.5)}, "x", None)
    assert set(checked) == {"a", "b"} and all(value.dtype == np.float32 for value in checked.values())
    np.testing.assert_array_equal(checked["a"], [[0.0, 1.0]])
    np.testing.assert_array_equal(checked["b"], [[0.5, 0.5]])
    with pytest.raises(ValueError) as error:
        _array({"a": [[0, 1]], "b": [[np.nan, 1]]}, "x", None)
    assert str(error.value) == "Expected `x['b']` to hold finite values only. Received: x['b'] with 1 NaN or infinite value(s)"


def test_sample_weights_are_held_as_float32_whatever_their_spelling():
    # The fast path holds the checked arrays for the whole `fit`: float64 weights would hold twice the memory.
    ae = _model()
    for weights in (np.arange(8), np.arange(8.0), np.arange(8.0)[:, None], list(range(8))):
        _, _, checked = check_data(ae, X, None, weights, feature_shape=(4,))
        assert checked.dtype == np.float32
        np.testing.assert_array_equal(checked, np.arange(8, dtype=np.float32))


def _loss_id(loss) -> str:
    return loss if isinstance(loss, str) else getattr(loss, "__name__", type(loss).__name__)


@pytest.mark.parametrize("loss", ["bce", "binary_crossentropy", "sigmoid_cross_entropy", keras.losses.BinaryCrossentropy(),
                                  keras.losses.binary_crossentropy, tfae.losses.SigmoidCrossEntropy()],
                         ids=_loss_id)
def test_every_spelling_of_binary_cross_entropy_refuses_targets_outside_the_unit_interval(loss):
    with pytest.raises(ValueError, match=r"^Expected targets in \[0, 1\] for the binary cross-entropy loss"):
        check_data(_model(loss), X, X * 3, None, feature_shape=(4,))


@pytest.mark.parametrize("loss", ["mse", "mae", keras.losses.MeanSquaredError(), keras.losses.mean_squared_error],
                         ids=_loss_id)
def test_every_spelling_of_another_loss_takes_targets_outside_the_unit_interval(loss):
    _, y, _ = check_data(_model(loss), X, X * 3, None, feature_shape=(4,))
    np.testing.assert_array_equal(y, X * 3)


def test_backend_tensors_as_inputs_and_targets_reach_keras_as_given():
    # Keras' own adapter takes the backend's tensors where they lie (a device, say): no copy into numpy.
    x, y = keras.ops.convert_to_tensor(X), keras.ops.convert_to_tensor(R)
    checked_x, checked_y, weights = check_data(_model(), x, y, None, feature_shape=(4,))
    assert checked_x is x and checked_y is y and weights is None
