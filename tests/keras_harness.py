"""Keras' own layer test harness, isolated here because `keras.src.testing` is private."""

from keras.src import testing


def run_layer_test(layer_cls, **kwargs):
    """Run `keras.src.testing.TestCase.run_layer_test` outside a unittest class."""
    case = testing.TestCase(methodName="run_layer_test")
    case.run_layer_test(layer_cls, **kwargs)
