"""`tfae._errors.reason`: the line of an error from below (TensorFlow, Keras, zipfile) that tfae's messages quote."""

import re
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfae
from tfae import _errors


def test_the_reason_is_the_first_non_blank_line_stripped():
    assert _errors.reason(ValueError("\n  truncated record  \n  at offset 12")) == "truncated record"


def test_tensorflows_graph_trace_around_the_reason_is_left_out():
    graph_error = ("Graph execution error:\n\nDetected at node 'save/RestoreV2' defined at (most recent call last):\n"
                   '    File "train.py", line 8, in <module>\nNode: \'save/RestoreV2\'\n'
                   "Original stack trace for 'save/RestoreV2':\n"
                   "Read less bytes than requested\n\t [[{{node save/RestoreV2}}]]")
    assert _errors.reason(tf.errors.OutOfRangeError(None, None, graph_error)) == "Read less bytes than requested"


def test_an_eager_ops_decorations_are_left_out():
    error = tf.errors.InvalidArgumentError(
        None, None, "{{function_node __wrapped__DecodeImageV2_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
                    "Unknown image file format. One of JPEG, PNG, GIF, BMP required. [Op:DecodeImageV2]")
    assert _errors.reason(error) == "Unknown image file format. One of JPEG, PNG, GIF, BMP required."


def test_an_error_without_a_reason_is_named_by_its_type():
    assert _errors.reason(tf.errors.DataLossError(None, None, "")) == "DataLossError"
    assert _errors.reason(ValueError(" \n\t[[{{node a}}]]\n")) == "ValueError"
    assert _errors.reason(KeyError(), typed=True) == "KeyError"


def test_typed_puts_the_errors_type_before_its_reason():
    assert _errors.reason(zipfile.BadZipFile("File is not a zip file"), typed=True) == "BadZipFile: File is not a zip file"


def test_a_reason_is_cut_at_max_reason_characters():
    assert _errors.MAX_REASON == 300
    assert _errors.reason(ValueError("x" * 1000 + "\nnext")) == "x" * 300
    assert _errors.reason(ValueError("y" * 300)) == "y" * 300
    assert _errors.reason(ValueError("z" * 1000), typed=True) == "ValueError: " + "z" * 300


def test_load_model_names_a_damaged_file_by_its_errors_type_and_reason(tmp_path):
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
        archive.writestr("notes.txt", "no model in here")
    with pytest.raises(tfae.ModelFileError) as caught:
        tfae.load_model(tmp_path / "bad.keras")
    assert str(caught.value) == (f"Cannot load the model in '{tmp_path / 'bad.keras'}': "
                                 "KeyError: \"There is no item named 'config.json' in the archive\"")


def test_load_model_says_a_file_with_code_needs_safe_mode_off(tmp_path):
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs)).save(tmp_path / "lambda.keras")
    with pytest.raises(tfae.ModelFileError) as caught:
        tfae.load_model(tmp_path / "lambda.keras")
    assert str(caught.value) == (f"Cannot load the model in '{tmp_path / 'lambda.keras'}': it holds code (such as a "
                                 "Lambda layer) that safe mode will not run; pass safe_mode=False only if you trust "
                                 "the file")


def test_load_images_quotes_tensorflows_reason_for_an_unreadable_image(tmp_path):
    tfae.plotting.write_png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "b.png").write_bytes(b"not an image at all")
    with pytest.raises(ValueError) as caught:
        tfae.datasets.load_images(tmp_path)
    # TensorFlow's list of formats grows with its versions.
    assert re.fullmatch(re.escape(f"Expected a readable image. Received: {tmp_path / 'b.png'} ") +
                        r"\(Unknown image file format\. One of JPEG, [A-Za-z, ]+ required\.\)", str(caught.value))


def test_a_safe_mode_refusal_is_told_from_other_errors():
    assert _errors.refused_by_safe_mode(ValueError("... override this error by passing `safe_mode=False` ..."))
    assert _errors.refused_by_safe_mode(ValueError("or calling `keras.config.enable_Unsafe_deserialization()`"))
    assert not _errors.refused_by_safe_mode(ValueError("Layer 'dense' expected 2 variables, but received 0"))
