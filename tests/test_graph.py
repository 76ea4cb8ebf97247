import inspect
import json
import re
import threading
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfae
from benchmarks.article import ArticleAutoEncoder

v1 = tf.compat.v1


@pytest.fixture
def digits(small_digits):
    (x_train, _), (x_test, _) = small_digits
    return x_train[:256], x_test[:64]


def test_defaults_are_the_articles_configuration_and_train(digits):
    x_train, x_test = digits
    with tfae.GraphAutoEncoder(input_dim=784, latent_dim=128, seed=0) as g:
        history = g.fit(x_train, epochs=3, batch_size=64, verbose=0, validation_data=x_test)
        assert history["loss"][-1] < history["loss"][0]
        assert len(history["val_loss"]) == 3
        z = g.encode(x_test)
        x_hat = g.decode(z)
        assert z.shape == (64, 128) and (z >= 0).all()  # a relu code, as in the article
        assert x_hat.shape == (64, 784) and 0 <= x_hat.min() and x_hat.max() <= 1
        assert g.evaluate(x_test) == pytest.approx(history["val_loss"][-1], rel=1e-5)
        kernels = [w for w in g.get_weights() if w.ndim == 2]
        assert [k.shape for k in kernels] == [(784, 128), (128, 784)]
        assert g.optimizer == "rmsprop" and g.learning_rate == 0.005


def test_same_weights_give_the_article_graphs_costs_step_by_step(digits):
    x_train, _ = digits
    article = ArticleAutoEncoder(seed=0)
    with tfae.GraphAutoEncoder(784, 128, seed=1) as g:
        article.set_weights(g.get_weights())
        np.testing.assert_allclose(
            g.session.run(g.cost, {g.X: x_train[:64]}),
            article.session.run(article.cost, {article.X: x_train[:64]}),
            rtol=1e-5,
        )
        # Three in-graph steps on one batch each: history holds each step's cost.
        ours = g.fit(x_train[:64], epochs=3, batch_size=64, shuffle=False, verbose=0)["loss"]
        theirs = article.train(x_train[:64], epochs=3, batch_size=64, shuffle=False)
        np.testing.assert_allclose(np.array(ours) * 64, theirs, rtol=1e-4)
        # A whole epoch of several in-graph steps lands on the article's weights.
        ours = g.fit(x_train, epochs=1, batch_size=64, shuffle=False, verbose=0)["loss"][0]
        theirs = article.train(x_train, epochs=1, batch_size=64, shuffle=False)
        assert ours * len(x_train) == pytest.approx(sum(theirs), rel=1e-4)
        for a, b in zip(g.get_weights(), article.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
    article.close()


@pytest.mark.parametrize("steps_per_execution, jit_compile", [(None, True), (1, True), (3, True), (None, False)])
def test_steps_per_execution_and_xla_do_not_change_the_result(digits, steps_per_execution, jit_compile):
    x_train, _ = digits
    with tfae.GraphAutoEncoder(784, 16, seed=3) as reference, tfae.GraphAutoEncoder(784, 16, seed=3) as g:
        expected = reference.fit(x_train[:200], epochs=2, batch_size=64, verbose=0, steps_per_execution=1,
                                 jit_compile=False)
        got = g.fit(x_train[:200], epochs=2, batch_size=64, verbose=0, steps_per_execution=steps_per_execution,
                    jit_compile=jit_compile)
        np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)


@pytest.mark.parametrize("layout", ["misaligned", "fortran", "float64", "read_only"])
def test_fit_trains_the_same_on_arrays_of_any_layout_and_leaves_them_alone(digits, layout):
    # The training set is fed to every session.run in place when it can be, copied once otherwise.
    from tfae._memory import aligned_empty

    x_train, _ = digits
    x = x_train[:200]
    if layout == "misaligned":
        other = aligned_empty((x.size + 4,), np.float32)[4:].reshape(x.shape)
        other[...] = x
    elif layout == "fortran":
        other = np.asfortranarray(x)
    elif layout == "float64":
        other = x.astype(np.float64)
    else:
        other = x.copy()
        other.flags.writeable = False
    before = other.copy()
    with tfae.GraphAutoEncoder(784, 16, seed=3) as reference, tfae.GraphAutoEncoder(784, 16, seed=3) as g:
        expected = reference.fit(x, epochs=2, batch_size=32, verbose=0)
        got = g.fit(other, epochs=2, batch_size=32, verbose=0)
        np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-6)
        for a, b in zip(g.get_weights(), reference.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_array_equal(other, before)


def test_fit_by_default_trains_one_shuffled_epoch_in_batches_of_64_with_xla_and_a_progress_bar(capsys):
    x = np.random.default_rng(0).random((64 * 40 + 5, 4), dtype=np.float32)
    with tfae.GraphAutoEncoder(4, 2, seed=0) as default, tfae.GraphAutoEncoder(4, 2, seed=0) as explicit:
        history = default.fit(x)
        out = capsys.readouterr().out
        assert out.startswith("Epoch 1/1\n") and "\r" in out  # a progress bar, redrawn in place
        assert history == explicit.fit(x, epochs=1, batch_size=64, shuffle=True, verbose=0)
        for a, b in zip(default.get_weights(), explicit.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        # 40 full batches: one XLA program of 32 steps and one of 8, the last 5 rows in a fed step.
        programs = sorted(op.name for op in default.graph.get_operations() if op.type == "Placeholder"
                          and "/order_" in op.name)
        assert programs == ["graph_autoencoder/order_32x64", "graph_autoencoder/order_8x64"]
        assert default.graph.get_tensor_by_name("graph_autoencoder/order_32x64:0").shape == (32 * 64,)


@pytest.mark.parametrize("n, steps", [(96, "12/12"), (97, "13/13")])  # 12 full batches, and a last one of 1 row
def test_fit_shows_each_epoch_on_a_progress_bar_ending_at_its_loss(capsys, n, steps):
    x = np.random.default_rng(0).random((n, 4), dtype=np.float32)
    with tfae.GraphAutoEncoder(4, 2, seed=0) as g:
        history = g.fit(x, epochs=2, batch_size=8, steps_per_execution=4, validation_data=x[:10], verbose=1)
    out = re.sub(r"\x1b\[[0-9;]*m|\x08", "", capsys.readouterr().out)
    epochs = out.split("Epoch ")[1:]
    assert [epoch.split("\n", 1)[0] for epoch in epochs] == ["1/2", "2/2"]
    for epoch, loss, val_loss in zip(epochs, history["loss"], history["val_loss"], strict=True):
        *_, last = epoch.split("\r")  # the bar's last drawing
        assert last.startswith(steps + " ") and re.search(rf"- loss: {loss:.4f} *\n", last)
        assert last.endswith(f"val_loss: {val_loss:.4f}\n")


def test_fit_with_verbose_2_prints_one_line_per_epoch(capsys):
    x = np.random.default_rng(0).random((97, 4), dtype=np.float32)
    with tfae.GraphAutoEncoder(4, 2, seed=0) as g:
        history = g.fit(x, epochs=2, batch_size=8, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert "\r" not in "".join(lines) and lines[0::2] == ["Epoch 1/2", "Epoch 2/2"]
    for line, loss in zip(lines[1::2], history["loss"], strict=True):
        assert line.startswith("13/13 - ") and line.endswith(f"- loss: {loss:.4f}")


def test_shuffle_trains_in_an_order_drawn_from_the_models_seed():
    x = np.random.default_rng(0).random((64, 6), dtype=np.float32)

    def trained(seed, **kwargs):
        with tfae.GraphAutoEncoder(6, 2, seed=seed) as g:
            g.fit(x, epochs=2, batch_size=8, verbose=0, **kwargs)
            return g.get_weights()[0]

    shuffled = trained(0, shuffle=True)
    np.testing.assert_array_equal(trained(0, shuffle=True), shuffled)  # the seed fixes the orders
    assert not np.allclose(trained(0, shuffle=False), shuffled)


def test_fit_without_xla_builds_no_compiled_program():
    x = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    with tfae.GraphAutoEncoder(4, 2, seed=0) as g:
        g.fit(x, batch_size=8, verbose=0, jit_compile=False)
        assert not [op for op in g.graph.get_operations() if "/order_" in op.name]


def test_a_program_xla_refuses_is_trained_without_xla_with_one_warning(monkeypatch):
    x = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    with tfae.GraphAutoEncoder(4, 2, seed=0) as g, tfae.GraphAutoEncoder(4, 2, seed=0) as reference:
        run, compiled_calls = g.session.run, []

        def refuse_compiled(fetches, feed_dict=None, **kwargs):
            if any(fetches is total for _, total in g._compiled.values()):
                compiled_calls.append(fetches)
                raise tf.errors.InvalidArgumentError(None, None, "Graph execution error:\n\nunsupported op: Foo")
            return run(fetches, feed_dict, **kwargs)

        monkeypatch.setattr(g.session, "run", refuse_compiled)
        with pytest.warns(RuntimeWarning) as caught:
            first = g.fit(x, epochs=2, batch_size=8, steps_per_execution=4, verbose=0)
            second = g.fit(x, epochs=1, batch_size=8, steps_per_execution=4, verbose=0)
        assert [str(w.message) for w in caught] == [
            "XLA could not compile the training steps of GraphAutoEncoder 'graph_autoencoder' (unsupported op: Foo); "
            "training goes on without XLA, as with `jit_compile=False`."]
        assert caught[0].filename == __file__  # points at the caller of fit, not inside tfae
        assert len(compiled_calls) == 1  # tried once, not at every call
        expected = reference.fit(x, epochs=2, batch_size=8, steps_per_execution=4, verbose=0, jit_compile=False)
        assert first == expected
        assert second == reference.fit(x, epochs=1, batch_size=8, steps_per_execution=4, verbose=0,
                                       jit_compile=False)


def test_a_compiled_fit_runs_its_xla_program_without_falling_back():
    x = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    with tfae.GraphAutoEncoder(4, 2, seed=0) as g, warnings.catch_warnings():
        warnings.simplefilter("error")
        g.fit(x, batch_size=8, verbose=0)
        assert not g._xla_failed


def test_same_seed_gives_the_same_model():
    a = tfae.GraphAutoEncoder(20, 4, hidden_units=(8,), seed=7)
    b = tfae.GraphAutoEncoder(20, 4, hidden_units=(8,), seed=7)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    a.close()
    b.close()


def test_save_and_load_restore_identical_outputs_and_saving_twice_is_safe(tmp_path, digits):
    x_train, x_test = digits
    with tfae.GraphAutoEncoder(784, 32, hidden_units=(64,), optimizer="adam", seed=0) as g:
        g.fit(x_train, epochs=1, batch_size=64, verbose=0)
        g.save(tmp_path / "ckpt")
        g.fit(x_train, epochs=1, batch_size=64, verbose=0)
        g.save(tmp_path / "ckpt")
        expected = g.reconstruct(x_test)
        after = g.fit(x_train, epochs=1, batch_size=64, shuffle=False, verbose=0)
    with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as restored:
        assert restored.get_config() == g.get_config()
        np.testing.assert_array_equal(restored.reconstruct(x_test), expected)
        # The optimizer state came back too: training continues identically.
        again = restored.fit(x_train, epochs=1, batch_size=64, shuffle=False, verbose=0)
        np.testing.assert_allclose(again["loss"], after["loss"], rtol=1e-5)


def test_cross_entropy_refuses_inputs_outside_the_unit_interval_and_mse_takes_them():
    pixels = np.tile(np.array([0, 128, 255], np.uint8), (4, 1))
    with tfae.GraphAutoEncoder(3, 2, hidden_units=()) as g:
        for call, name in [(lambda: g.fit(pixels, verbose=0), "x"), (lambda: g.evaluate(pixels), "x"),
                           (lambda: g.fit(pixels / 255, validation_data=pixels, verbose=0), "validation_data")]:
            with pytest.raises(ValueError) as caught:
                call()
            assert str(caught.value).startswith("Expected targets in [0, 1] for the binary cross-entropy loss. "
                                                f"Received: {name} with values in [0, 255] (dtype uint8).")
        assert len(g.fit(pixels / 255, verbose=0)["loss"]) == 1
    with tfae.GraphAutoEncoder(3, 2, hidden_units=(), loss="mse") as g:
        assert g.evaluate(pixels) > 0


def test_missing_or_corrupt_checkpoint_is_a_clear_error(tmp_path, digits):
    with pytest.raises(FileNotFoundError, match="graph_autoencoder.json is missing"):
        tfae.GraphAutoEncoder.load(tmp_path / "nothing")
    with tfae.GraphAutoEncoder(784, 8) as g:
        g.save(tmp_path / "ckpt")
    data_file = next((tmp_path / "ckpt").glob("model.ckpt.data*"))
    data_file.write_bytes(b"garbage")
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")  # TensorFlow's reason, without its node and stack trace
    assert str(caught.value) == (f"Cannot restore the checkpoint in '{tmp_path / 'ckpt'}' (model.ckpt.*): "
                                 "Read less bytes than requested")
    index_file = tmp_path / "ckpt" / "model.ckpt.index"
    index_file.write_bytes(index_file.read_bytes()[:20])
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")
    assert str(caught.value) == (f"Cannot restore the checkpoint in '{tmp_path / 'ckpt'}' (model.ckpt.*): "
                                 "file is too short to be an sstable")
    (tmp_path / "ckpt" / "graph_autoencoder.json").write_text("{not json")
    with pytest.raises(ValueError, match="graph_autoencoder.json': not valid JSON"):
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")


@pytest.mark.parametrize("text, reason", [
    ('["GraphAutoEncoder"]', 'expected an object with "class_name": "GraphAutoEncoder"'),
    ('{"class_name": "AutoEncoder", "config": {}}', 'expected an object with "class_name": "GraphAutoEncoder"'),
    ('{"class_name": "GraphAutoEncoder", "config": [784, 8]}', 'expected "config" to be an object. Received: list'),
    ('{"class_name": "GraphAutoEncoder", "scope": "../other", "config": {"input_dim": 784, "latent_dim": 8}}',
     "expected \"scope\" to be a TensorFlow name scope. Received: scope='../other'"),
    ('{"class_name": "GraphAutoEncoder", "scope": 3, "config": {"input_dim": 784, "latent_dim": 8}}',
     'expected "scope" to be a TensorFlow name scope. Received: scope=3'),
    ('{"class_name": "GraphAutoEncoder", "config": {"input_dim": 784}}', "missing field(s) ['latent_dim']"),
    ('{"class_name": "GraphAutoEncoder", "config": {"input_dim": 784, "latent_dim": 8, "hidden_units": [0]}}',
     "Expected `hidden_units` to be a sequence of positive integers. Received: hidden_units=[0]"),
])
def test_a_config_file_not_written_by_save_is_refused_saying_why(tmp_path, text, reason):
    with tfae.GraphAutoEncoder(784, 8) as g:
        g.save(tmp_path / "ckpt")
    (tmp_path / "ckpt" / "graph_autoencoder.json").write_text(text)
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")
    config_file = tmp_path / "ckpt" / "graph_autoencoder.json"
    assert str(caught.value) == f"Cannot load a GraphAutoEncoder from '{config_file}': {reason}"


def test_a_config_file_without_the_optional_fields_loads_with_their_defaults(tmp_path):
    with tfae.GraphAutoEncoder(784, 8, seed=0) as g:
        g.save(tmp_path / "ckpt")
        weights = g.get_weights()
    (tmp_path / "ckpt" / "graph_autoencoder.json").write_text(
        '{"class_name": "GraphAutoEncoder", "config": {"input_dim": 784, "latent_dim": 8}}')
    with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as restored:
        assert restored.name == "graph_autoencoder" and restored.hidden_units == ()
        for restored_weight, weight in zip(restored.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(restored_weight, weight)


def edit_config(folder, **fields):
    file = folder / "graph_autoencoder.json"
    saved = json.loads(file.read_text())
    saved["config"].update(fields)
    file.write_text(json.dumps(saved))


@pytest.mark.parametrize("fields, message", [
    ({"latent_dim": 4}, r"variable 'encoder_1/kernel' has shape \(16, 8\) but the config .* gives \(16, 4\)"),
    ({"hidden_units": [16, 8]}, r"has no variable 'encoder_2/kernel'"),
    ({"input_dim": 2**30}, r"'encoder_0/kernel' has shape \(784, 16\)"),  # checked before 4 GiB is built
    ({"input_dim": 2**40}, r"Received: input_dim=1099511627776"),
    ({"latent_dim": -3}, r"Received: latent_dim=-3"),
    ({"latent_dim": "8"}, r"Received: latent_dim='8'"),
    ({"hidden_units": [16.5]}, r"hidden_units"),
    ({"learning_rate": "fast"}, r"Received: learning_rate='fast'"),
    ({"optimizer": "adagrad"}, r"Received: optimizer='adagrad'"),
    ({"seed": -1}, r"Received: seed=-1"),
    ({"code_dim": 8}, r"unknown field\(s\) \['code_dim'\]"),
    ({"optimizer": "adam"}, r"\(model.ckpt.\*\): the checkpoint has no variable for 'optimizer/encoder_0_kernel_m'$"),
])
def test_an_edited_config_is_refused_naming_the_file_and_field(tmp_path, fields, message):
    with tfae.GraphAutoEncoder(784, 8, hidden_units=(16,)) as g:
        g.save(tmp_path / "ckpt")
    edit_config(tmp_path / "ckpt", **fields)
    with pytest.raises(ValueError, match=message) as caught:
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")
    assert str(tmp_path / "ckpt") in str(caught.value)


def test_a_checkpoint_from_another_model_is_refused_not_loaded_at_the_wrong_size(tmp_path):
    with tfae.GraphAutoEncoder(784, 8) as small, tfae.GraphAutoEncoder(784, 16) as large:
        small.save(tmp_path / "small")
        large.save(tmp_path / "large")
    for name in ("graph_autoencoder.json",):
        (tmp_path / "small" / name).write_bytes((tmp_path / "large" / name).read_bytes())
    with pytest.raises(ValueError, match=r"'encoder_0/kernel' has shape \(784, 8\) but the config"):
        tfae.GraphAutoEncoder.load(tmp_path / "small")


def test_a_save_is_the_checkpoint_files_and_an_indented_json_config_under_any_scope(tmp_path):
    with tfae.GraphAutoEncoder(10, 3, hidden_units=(4,), name="lab/ae", seed=1) as g:
        g.save(tmp_path / "ckpt")
        config, weights = g.get_config(), g.get_weights()
    assert sorted(f.name for f in (tmp_path / "ckpt").iterdir()) == [
        "checkpoint", "graph_autoencoder.json", "model.ckpt.data-00000-of-00001", "model.ckpt.index"]  # no meta graph
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")) == str(tmp_path / "ckpt" / "model.ckpt")
    assert (tmp_path / "ckpt" / "graph_autoencoder.json").read_text() == json.dumps(
        {"class_name": "GraphAutoEncoder", "scope": "lab/ae", "config": config}, indent=2)
    with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as restored:  # a scope with "/" in it comes back
        assert restored.name == "lab/ae"
        for restored_weight, weight in zip(restored.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(restored_weight, weight)


@pytest.mark.parametrize("optimizer, state", [
    ("rmsprop", ["{}_ms"]),
    ("adam", ["{}_m", "{}_v"]),
    ("sgd", []),
])
def test_a_checkpoint_holds_the_weights_and_the_optimizers_state_under_stable_names(tmp_path, optimizer, state):
    with tfae.GraphAutoEncoder(10, 3, optimizer=optimizer) as g:
        g.save(tmp_path / "ckpt")
    weights = [f"{half}_0/{kind}" for half in ("encoder", "decoder") for kind in ("kernel", "bias")]
    expected = weights + [f"optimizer/{slot.format(w.replace('/', '_'))}" for w in weights for slot in state]
    expected += ["optimizer/step"] if optimizer == "adam" else []
    saved = v1.train.NewCheckpointReader(str(tmp_path / "ckpt" / "model.ckpt")).get_variable_to_shape_map()
    assert sorted(saved) == sorted(f"graph_autoencoder/{name}" for name in expected)  # saves of older versions load


def test_the_graphs_inputs_are_found_by_name_in_the_models_scope():
    with tfae.GraphAutoEncoder(10, 3, name="lab/ae") as g:
        assert g.graph.get_tensor_by_name("lab/ae/X:0") is g.X
        assert g.graph.get_tensor_by_name("lab/ae/X_hat:0") is g.X_hat
        named = {op.name for op in g.graph.get_operations() if op.type == "Placeholder" and "Placeholder" not in op.name}
        assert named == {"lab/ae/X", "lab/ae/train_data", "lab/ae/order", "lab/ae/batch_size"}  # as TensorBoard shows them


def test_only_the_kernels_and_biases_are_trainable_variables_of_the_graph():
    with tfae.GraphAutoEncoder(10, 3, hidden_units=(4,), optimizer="adam") as g:
        trainable = g.graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
        assert [v.name for v in trainable] == [v.name for v in g.variables]  # a TF1 optimizer without var_list


def test_one_save_loads_twice_into_one_graph_under_two_scopes(tmp_path):
    with tfae.GraphAutoEncoder(10, 3, seed=1) as g:
        g.fit(np.random.default_rng(0).random((16, 10), dtype=np.float32), epochs=1, batch_size=8, verbose=0)
        g.save(tmp_path / "ckpt")
        weights = g.get_weights()
    graph = tf.Graph()
    session = v1.Session(graph=graph)
    first = tfae.GraphAutoEncoder.load(tmp_path / "ckpt", graph=graph, session=session)
    second = tfae.GraphAutoEncoder.load(tmp_path / "ckpt", graph=graph, session=session)
    assert (first.name, second.name) == ("graph_autoencoder", "graph_autoencoder_1")
    for model in (first, second):
        for restored_weight, weight in zip(model.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(restored_weight, weight)
    session.close()


def test_a_checkpoint_written_by_the_users_own_saver_with_variables_of_its_own_loads(tmp_path):
    with tfae.GraphAutoEncoder(10, 3, seed=1) as g:
        g.save(tmp_path / "ckpt")  # the config file
        g.set_weights([w + 1 for w in g.get_weights()])
        with g.graph.as_default():
            step = v1.Variable(7, name="global_step")  # a variable outside any model's scope
            g.session.run(step.initializer)
            v1.train.Saver().save(g.session, str(tmp_path / "ckpt" / "model.ckpt"), write_meta_graph=False)
        weights = g.get_weights()
    with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as restored:
        for restored_weight, weight in zip(restored.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(restored_weight, weight)


def _rewrite_checkpoint(prefix, change):
    """Writes the checkpoint at `prefix` again, each variable's value passed through `change(name, value)`."""
    reader = v1.train.NewCheckpointReader(prefix)
    graph = tf.Graph()
    with graph.as_default():
        variables = {name: v1.Variable(change(name, reader.get_tensor(name)), name=name.replace("/", "_"))
                     for name in reader.get_variable_to_shape_map()}
        saver = v1.train.Saver(var_list=variables)
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            saver.save(session, prefix, write_meta_graph=False)


@pytest.mark.parametrize("optimizer, slot, message", [
    ("rmsprop", "optimizer/encoder_0_kernel_ms", "variable 'optimizer/encoder_0_kernel_ms' has shape (3, 10), "
                                                 "expected (10, 3)"),
    ("adam", "optimizer/step", "variable 'optimizer/step' holds NaN or infinite values"),
])
def test_a_checkpoint_whose_optimizer_state_does_not_fit_is_refused(tmp_path, optimizer, slot, message):
    with tfae.GraphAutoEncoder(10, 3, optimizer=optimizer) as g:
        g.save(tmp_path / "ckpt")
    prefix = str(tmp_path / "ckpt" / "model.ckpt")
    _rewrite_checkpoint(prefix, lambda name, value: value if not name.endswith(slot) else
                        value.T.copy() if value.ndim == 2 else np.full_like(value, np.inf))
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")
    assert str(caught.value) == f"Cannot restore the checkpoint in '{tmp_path / 'ckpt'}' (model.ckpt.*): {message}"


def test_a_checkpoint_holding_non_finite_weights_is_refused(tmp_path):
    with tfae.GraphAutoEncoder(784, 8) as g:
        weights = g.get_weights()
        weights[0][0, 0] = np.nan
        g.set_weights(weights)
        g.save(tmp_path / "ckpt")
    with pytest.raises(ValueError, match="'encoder_0/kernel' holds NaN or infinite values"):
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")


def test_save_replaces_the_folder_whole_and_never_a_folder_of_other_files(tmp_path, monkeypatch):
    with tfae.GraphAutoEncoder(784, 8, seed=0) as g:
        g.save(tmp_path / "ckpt")
        first = {f.name: f.read_bytes() for f in (tmp_path / "ckpt").iterdir()}
        g.fit(np.random.default_rng(0).random((64, 784), np.float32), epochs=1, batch_size=32, verbose=0)
        # A save that dies half-way through writing leaves the previous save as it was.
        original = g._saver.save

        def dies(*args, **kwargs):
            original(*args, **kwargs)
            raise KeyboardInterrupt

        monkeypatch.setattr(g._saver, "save", dies)
        with pytest.raises(KeyboardInterrupt):
            g.save(tmp_path / "ckpt")
        assert {f.name: f.read_bytes() for f in (tmp_path / "ckpt").iterdir()} == first
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # nothing left beside it
        monkeypatch.undo()
        g.save(tmp_path / "ckpt")
        trained = g.get_weights()
        assert {f.name: f.read_bytes() for f in (tmp_path / "ckpt").iterdir()} != first
        (tmp_path / "thesis").mkdir()
        (tmp_path / "thesis" / "chapter1.tex").write_text("years of work")
        with pytest.raises(ValueError, match="holds other files"):
            g.save(tmp_path / "thesis")
    assert (tmp_path / "thesis" / "chapter1.tex").read_text() == "years of work"
    with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as restored:
        for restored_weight, weight in zip(restored.get_weights(), trained):
            np.testing.assert_array_equal(restored_weight, weight)


def test_to_keras_and_from_keras_give_equal_outputs(digits):
    x_train, x_test = digits
    with tfae.GraphAutoEncoder(784, 16, hidden_units=(32,), seed=0) as g:
        g.fit(x_train, epochs=1, batch_size=64, verbose=0)
        ae = g.to_keras()
        assert isinstance(ae, tfae.AutoEncoder)
        np.testing.assert_allclose(ae.reconstruct(x_test), g.reconstruct(x_test), atol=1e-5)
        np.testing.assert_allclose(ae.encode(x_test), g.encode(x_test), atol=1e-4)
    keras_model = tfae.AutoEncoder(input_shape=(28, 28, 1), latent_dim=8, hidden_units=(16,), latent_activation="relu")
    with tfae.GraphAutoEncoder.from_keras(keras_model) as back:
        images = x_test.reshape(-1, 28, 28, 1)
        np.testing.assert_allclose(back.reconstruct(x_test), keras_model.reconstruct(images).reshape(-1, 784),
                                   atol=1e-5)


def test_to_keras_carries_every_option_of_the_architecture_and_a_keras_safe_name(digits):
    _, x_test = digits
    with tfae.GraphAutoEncoder(784, 6, hidden_units=(12, 9), activation="tanh", latent_activation=None,
                               name="lab/ae", seed=0) as g:
        ae = g.to_keras()
        assert ae.name == "lab_ae"  # a Keras name holds no "/"
        encoder, decoder = ae.encoder.get_config(), ae.decoder.get_config()
        assert (encoder["latent_dim"], encoder["hidden_units"], encoder["activation"],
                encoder["latent_activation"]) == (6, [12, 9], "tanh", None)
        assert (decoder["hidden_units"], decoder["activation"], decoder["output_activation"]) == ([9, 12], "tanh",
                                                                                                  "sigmoid")
        np.testing.assert_allclose(ae.reconstruct(x_test), g.reconstruct(x_test), atol=1e-5)
        with tfae.GraphAutoEncoder.from_keras(ae, seed=0) as back:
            assert back.get_config() == g.get_config()


FROM_KERAS = "`from_keras` converts dense tfae.AutoEncoder models only: "


@pytest.mark.parametrize("model, reason", [
    (lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)]), "Received: model of type Sequential"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder(6)),
     "the model is not built; pass `input_shape=` or call it on data first"),
    (lambda: tfae.AutoEncoder(tfae.ConvEncoder(2, filters=(4,)), tfae.Decoder((4, 4, 1)), input_shape=(4, 4, 1)),
     "expected a tfae.Encoder and a tfae.Decoder. Received: encoder ConvEncoder, decoder Decoder"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2), tfae.ConvDecoder((4, 4, 1), filters=(4,)), input_shape=(4, 4, 1)),
     "expected a tfae.Encoder and a tfae.Decoder. Received: encoder Encoder, decoder ConvDecoder"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2, hidden_units=(4,)), tfae.Decoder(6, hidden_units=(5,)),
                              input_shape=(6,)),
     "the decoder must mirror the encoder. Received: encoder hidden_units=(4,), decoder hidden_units=(5,)"),
    (lambda: tfae.AutoEncoder(tfae.Encoder(2, activation="tanh"), tfae.Decoder(6), input_shape=(6,)),
     "both halves must share one hidden activation and the output must be a sigmoid. "
     "Received: activation='tanh'/'relu', output_activation='sigmoid'"),
    (lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, output_activation=None),
     "both halves must share one hidden activation and the output must be a sigmoid. "
     "Received: activation='relu'/'relu', output_activation=None"),
    (lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, activation="gelu"),
     "unsupported activation. Received: activation='gelu'"),
    (lambda: tfae.AutoEncoder(input_shape=(6,), latent_dim=2, latent_activation="gelu"),
     "unsupported latent_activation. Received: latent_activation='gelu'"),
    (lambda: tfae.VariationalAutoEncoder(input_shape=(6,), latent_dim=2),
     "its code is not the encoder's output (the encoder of a VariationalAutoEncoder gives the mean and "
     "log-variance; the graph model has no sampling)"),
])
def test_from_keras_refuses_models_it_cannot_express_saying_why(model, reason):
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder.from_keras(model())
    assert str(caught.value) == FROM_KERAS + reason


def test_encode_tensor_and_decode_tensor_build_on_the_models_weights():
    x = np.random.default_rng(0).random((6, 12), dtype=np.float32)
    with tfae.GraphAutoEncoder(12, 3, hidden_units=(5,), latent_activation=None, seed=0) as g:
        z = g.encode(x)
        with g.graph.as_default():
            codes = g.encode_tensor(tf.constant(x))
            images = g.decode_tensor(tf.constant(z))
            logits = g.decode_tensor(tf.constant(z), logits=True)
        got_z, got_x, got_logits = g.session.run([codes, images, logits])
        np.testing.assert_allclose(got_z, z, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_x, g.decode(z), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_logits, g.session.run(g.logits, {g.Z: z}), rtol=1e-5, atol=1e-6)
        assert (got_logits < 0).any() and (got_logits > 1).any()  # pre-sigmoid values, not probabilities


@pytest.mark.parametrize("loss", ["sigmoid_cross_entropy", "mse"])
def test_evaluate_is_the_mean_cost_per_example_for_any_batch_size(loss):
    x = np.random.default_rng(1).random((10, 12), dtype=np.float32)
    with tfae.GraphAutoEncoder(12, 3, loss=loss, seed=0) as g:
        logits = g.session.run(g.logits, {g.X: x}).astype(np.float64)
        if loss == "mse":
            per_pixel = (1.0 / (1.0 + np.exp(-logits)) - x) ** 2
        else:
            per_pixel = np.logaddexp(0.0, logits) - x * logits
        for batch_size in (3, 10, 1024):
            assert g.evaluate(x, batch_size=batch_size) == pytest.approx(per_pixel.sum() / len(x), rel=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda g: g.evaluate(np.zeros((2, 11))),
     "Expected `x` to have samples of shape (10,) (10 values each). Received: x.shape=(2, 11)"),
    (lambda g: g.reconstruct(np.zeros((2, 11))),
     "Expected `x` to have samples of shape (10,) (10 values each). Received: x.shape=(2, 11)"),
    (lambda g: g.set_weights([np.zeros(3)] * 3), "Expected 4 arrays. Received: 3 arrays"),
    (lambda g: g.set_weights([np.zeros(3)] * 4),
     "Expected an array of shape (10, 3) for graph_autoencoder/encoder_0/kernel:0. Received: shape (3,)"),
    (lambda g: g.fit(np.zeros((2, 11)), verbose=0),
     "Expected `x` to have samples of shape (10,) (10 values each). Received: x.shape=(2, 11)"),
    (lambda g: g.fit(np.zeros((2, 10)), validation_data=np.zeros((2, 11)), verbose=0),
     "Expected `validation_data` to have samples of shape (10,) (10 values each). "
     "Received: validation_data.shape=(2, 11)"),
    (lambda g: g.fit(np.zeros((2, 10)), validation_data=(np.zeros((2, 10)), np.ones((2, 10))), verbose=0),
     "Expected `validation_data` to be the validation inputs, or Keras' `(x_val,)` or `(x_val, x_val)`: the graph "
     "model's targets are its inputs. Received: a tuple of 2 whose targets differ from its inputs"),
    (lambda g: g.fit(np.zeros((2, 10)), validation_data=(np.zeros((2, 10)),) * 3, verbose=0),
     "Expected `validation_data` to be the validation inputs, or Keras' `(x_val,)` or `(x_val, x_val)`: the graph "
     "model's targets are its inputs. Received: a tuple of 3"),
    (lambda g: tfae.GraphAutoEncoder.from_keras(tfae.AutoEncoder(input_shape=(10,), latent_dim=3), latent_dim=5,
                                                 hidden_units=(4,), seed=0),
     "`from_keras` takes the architecture from `model`; pass only the other options. "
     "Received: latent_dim=5, hidden_units=(4,)"),
    (lambda g: g.fit(np.zeros((4, 10)), steps_per_execution=0, verbose=0),
     "Expected `steps_per_execution` to be a positive integer (at most 2147483647). Received: steps_per_execution=0"),
    (lambda g: g.fit(np.zeros((4, 10)), shuffle="batch", verbose=0),
     "Expected `shuffle` to be True or False. Received: shuffle='batch'"),
    (lambda g: g.fit(np.zeros((4, 10)), shuffle=1, verbose=0), "Expected `shuffle` to be True or False. Received: shuffle=1"),
    (lambda g: g.fit(np.zeros((4, 10)), jit_compile=None, verbose=0),
     "Expected `jit_compile` to be True or False. Received: jit_compile=None"),
    (lambda g: g.fit(np.zeros((4, 10)), verbose=3), 'Expected `verbose` to be "auto", 0, 1 or 2. Received: verbose=3'),
    (lambda g: g.fit(np.zeros((4, 10)), verbose=1.0),
     'Expected `verbose` to be "auto", 0, 1 or 2. Received: verbose=1.0'),
    (lambda g: g.save(3), "Expected `path` to be a file or folder path. Received: path=3"),
    (lambda g: tfae.GraphAutoEncoder.load(3), "Expected `path` to be a file or folder path. Received: path=3"),
])
def test_bad_input_is_refused_with_the_whole_message(call, message):
    with tfae.GraphAutoEncoder(10, 3) as g:
        with pytest.raises(ValueError) as caught:
            call(g)
    assert str(caught.value) == message


def test_inputs_that_are_no_array_at_all_are_refused_naming_their_type():
    with tfae.GraphAutoEncoder(10, 3) as g:
        for x, kind in ((tf.data.Dataset.from_tensor_slices(np.zeros((4, 10))), "Dataset"), ({"x": 1}, "dict")):
            with pytest.raises(ValueError, match=rf"^Expected `x` to be an array of numbers\. Received: x of type "
                                                 rf"\w*{kind}$"):
                g.encode(x)


def test_validation_data_given_as_keras_pairs_of_the_inputs_validates_on_those_inputs():
    x = np.random.default_rng(0).random((16, 10), dtype=np.float32)
    histories = []
    for validation_data in (x[:6], (x[:6],), (x[:6], x[:6]), (x[:6], x[:6].copy())):
        with tfae.GraphAutoEncoder(10, 3, seed=0) as g:
            histories.append(g.fit(x, epochs=2, batch_size=4, shuffle=False, validation_data=validation_data,
                                   verbose=0))
    assert all(history == histories[0] for history in histories[1:]) and len(histories[0]["val_loss"]) == 2


def test_from_keras_converts_an_adversarial_autoencoders_halves_without_its_discriminator():
    aae = tfae.AdversarialAutoEncoder(input_shape=(10,), latent_dim=3, hidden_units=(5,), seed=0)
    x = np.random.default_rng(0).random((4, 10), dtype=np.float32)
    with tfae.GraphAutoEncoder.from_keras(aae) as g:
        np.testing.assert_allclose(g.encode(x), aae.encode(x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g.reconstruct(x), aae.reconstruct(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["", ".ae", "a>b", "a b", "a/", "a//b", "/a", 3])
def test_a_name_that_load_would_refuse_is_refused_up_front(name):
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder(10, 3, name=name)
    assert str(caught.value) == ("Expected `name` to be a TensorFlow name scope: letters, digits and `_.-`, parts "
                                 f"joined by `/`, starting with a letter or digit. Received: name={name!r}")


@pytest.mark.parametrize("name", ["ae", "lab/ae-2.b", "A_1"])
def test_a_named_model_saves_and_loads_under_its_name(tmp_path, name):
    with tfae.GraphAutoEncoder(10, 3, seed=0, name=name) as g:
        g.save(tmp_path / "ckpt")
        weights = g.get_weights()
    with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as same:
        assert same.name == name
        for restored, weight in zip(same.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(restored, weight)


@pytest.mark.parametrize("kwargs, message", [
    ({"graph": "g"}, "Expected `graph` to be a tf.Graph or None. Received: graph of type str"),
    ({"session": "s"}, "Expected `session` to be a tf.compat.v1.Session or None. Received: session of type str"),
])
def test_graph_and_session_of_the_wrong_type_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder(10, 3, **kwargs)
    assert str(caught.value) == message


def test_load_takes_only_where_to_build(tmp_path):
    with tfae.GraphAutoEncoder(10, 3) as g:
        g.save(tmp_path / "ckpt")
    assert list(inspect.signature(tfae.GraphAutoEncoder.load).parameters) == ["path", "graph", "session"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'name'"):
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt", name="other")


def test_a_checkpoint_of_two_models_sharing_a_graph_loads_the_one_its_config_names(tmp_path):
    graph = tf.Graph()
    session = v1.Session(graph=graph)
    first = tfae.GraphAutoEncoder(10, 3, graph=graph, session=session, seed=0, name="first")
    second = tfae.GraphAutoEncoder(10, 3, graph=graph, session=session, seed=1, name="second")
    first.save(tmp_path / "ckpt")  # the config file naming scope "first"
    with graph.as_default():
        v1.train.Saver().save(session, str(tmp_path / "ckpt" / "model.ckpt"))  # both models' variables
    for model, config_scope in ((first, "first"), (second, "second")):
        config = json.loads((tmp_path / "ckpt" / "graph_autoencoder.json").read_text())
        config["scope"] = config_scope
        (tmp_path / "ckpt" / "graph_autoencoder.json").write_text(json.dumps(config))
        with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as loaded:
            for restored, weight in zip(loaded.get_weights(), model.get_weights(), strict=True):
                np.testing.assert_array_equal(restored, weight)
    config["scope"] = "third"
    (tmp_path / "ckpt" / "graph_autoencoder.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="it has 2 variables 'encoder_0/kernel' .first/encoder_0/kernel, "
                                         "second/encoder_0/kernel. and none under the config's scope 'third'"):
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")
    session.close()


def test_two_instances_share_one_graph_and_session(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        session = v1.Session(graph=graph)
    a = tfae.GraphAutoEncoder(10, 3, graph=graph, session=session, seed=0)
    b = tfae.GraphAutoEncoder(10, 3, graph=graph, session=session, seed=0)
    assert a.name != b.name and a.graph is b.graph
    x = np.random.default_rng(0).random((32, 10), dtype=np.float32)
    a.fit(x, epochs=2, batch_size=8, verbose=0)
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])
    b.save(tmp_path / "b")  # its own variables only, not those of the model built before it
    saved = v1.train.NewCheckpointReader(str(tmp_path / "b" / "model.ckpt")).get_variable_to_shape_map()
    assert len(saved) == 8 and all(name.startswith(b.name + "/") for name in saved)  # 4 weights, 4 RMSProp slots
    a.close()  # the caller owns the session: it stays open
    assert b.encode(x).shape == (32, 3)
    session.close()


def test_eager_keras_keeps_working_before_and_after(digits):
    x_train, _ = digits
    assert tf.executing_eagerly()
    ae = tfae.AutoEncoder(input_shape=(784,), latent_dim=4)
    ae.compile()
    ae.fit(x_train, epochs=1, verbose=0)
    with tfae.GraphAutoEncoder(784, 4) as g:
        g.fit(x_train, epochs=1, verbose=0)
    assert tf.executing_eagerly()
    assert np.isfinite(ae.fit(x_train, epochs=1, verbose=0).history["loss"][0])


def test_encode_and_decode_from_several_threads(digits):
    _, x_test = digits
    with tfae.GraphAutoEncoder(784, 8, seed=0) as g:
        expected_z = g.encode(x_test)
        expected_x = g.decode(expected_z)
        errors = []

        def work():
            try:
                for _ in range(5):
                    np.testing.assert_array_equal(g.encode(x_test), expected_z)
                    np.testing.assert_array_equal(g.decode(expected_z), expected_x)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors


def test_decoder_subgraph_as_a_tf1_gan_generator():
    g = tfae.GraphAutoEncoder(16, 4, seed=0)
    with g.graph.as_default():
        noise = v1.random_normal([8, 4], seed=1)
        fake = g.decode_tensor(noise)  # the decoder's weights, on a noise tensor
        with v1.variable_scope("discriminator"):
            w = v1.Variable(v1.random_normal([16, 1], seed=2))
        generator_loss = tf.reduce_mean(tf.nn.softplus(-tf.matmul(fake, w)))
        step = v1.train.GradientDescentOptimizer(0.5).minimize(generator_loss, var_list=g.decoder_variables)
        g.session.run(v1.variables_initializer([w]))
    before = g.session.run(g.decoder_variables)
    encoder_before = g.session.run(g.encoder_variables)
    g.session.run(step)
    after = g.session.run(g.decoder_variables)
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    for a, b in zip(g.session.run(g.encoder_variables), encoder_before):
        np.testing.assert_array_equal(a, b)
    # Feeding Z is the article's decode: the same generator, and a discriminator
    # loss on X_hat with Z fed trains the decoder too.
    z = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(g.session.run(g.X_hat, {g.Z: z}), g.decode(z), atol=1e-6)
    with g.graph.as_default():
        fed_loss = tf.reduce_mean(tf.nn.softplus(-tf.matmul(g.X_hat, w)))
        grads = tf.gradients(fed_loss, g.decoder_variables)
    assert all(np.abs(grad).sum() > 0 for grad in g.session.run(grads, {g.Z: z}))
    g.close()


def test_closed_model_is_a_clear_error():
    g = tfae.GraphAutoEncoder(10, 3)
    assert repr(g) == "GraphAutoEncoder(input_dim=10, latent_dim=3, hidden_units=(), name='graph_autoencoder', open)"
    g.close()
    assert repr(g).endswith("name='graph_autoencoder', closed)")
    with pytest.raises(RuntimeError, match="closed Session"):
        g.session.run(g.variables[0])  # the session it created is released
    g.close()
    with pytest.raises(RuntimeError) as caught:
        g.encode(np.zeros((1, 10)))
    assert str(caught.value) == ("GraphAutoEncoder 'graph_autoencoder' is closed; its session was released. "
                                 "Create or load a new one.")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda g: g.encode(np.zeros((2, 11))), ValueError, r"Received: x.shape=\(2, 11\)"),
        (lambda g: g.encode(np.full((2, 10), np.nan)), ValueError, "finite values only"),
        (lambda g: g.decode(np.zeros((2, 4))), ValueError, r"Received: z.shape=\(2, 4\)"),
        (lambda g: g.fit(np.zeros((4, 10)), batch_size=0, verbose=0), ValueError, "Received: batch_size=0"),
        (lambda g: g.fit(np.zeros((0, 10)), verbose=0), ValueError, "at least one sample"),
        (lambda g: g.fit(np.zeros((4, 10)), epochs=-1, verbose=0), ValueError, "Received: epochs=-1"),
        (lambda g: g.encode(np.zeros((2, 10)), batch_size=-5), ValueError, "Received: batch_size=-5"),
        (lambda g: g.set_weights([np.zeros(3)] * 4), ValueError, "Expected an array of shape"),
    ],
)
def test_bad_input_is_a_clear_error(call, error, message):
    with tfae.GraphAutoEncoder(10, 3) as g:
        with pytest.raises(error, match=message):
            call(g)


_ACTIVATIONS = "['relu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus', 'leaky_relu', 'linear', None]"
_SEED = "Expected `seed` to be None or an integer from 0 to 2147483647. Received: seed="


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_dim": 0}, "Expected `input_dim` to be a positive integer (at most 2147483647). Received: input_dim=0"),
        ({"latent_dim": -3}, "Expected `latent_dim` to be a positive integer (at most 2147483647). Received: latent_dim=-3"),
        ({"optimizer": "adagrad"},
         "Expected `optimizer` to be one of ['rmsprop', 'adam', 'sgd']. Received: optimizer='adagrad'"),
        ({"loss": "hinge"}, "Expected `loss` to be one of ['sigmoid_cross_entropy', 'mse']. Received: loss='hinge'"),
        ({"learning_rate": 0}, "Expected `learning_rate` to be a finite positive number. Received: learning_rate=0"),
        ({"activation": "gelu2"}, f"Expected `activation` to be one of {_ACTIVATIONS}. Received: activation='gelu2'"),
        ({"latent_activation": "gelu2"},
         f"Expected `latent_activation` to be one of {_ACTIVATIONS}. Received: latent_activation='gelu2'"),
        ({"hidden_units": (0,)},
         "Expected `hidden_units` to be a sequence of positive integers. Received: hidden_units=(0,)"),
        ({"seed": -1}, _SEED + "-1"),
        ({"seed": 2**31}, _SEED + "2147483648"),
        ({"seed": 1.5}, _SEED + "1.5"),
        ({"seed": True}, _SEED + "True"),
        ({"seed": "0"}, _SEED + "'0'"),
        ({"kernel_initializer": "ones"},
         "Expected `kernel_initializer` to be one of ['random_normal', 'glorot_uniform']. Received: kernel_initializer='ones'"),
    ],
)
def test_bad_constructor_arguments_are_refused_with_the_whole_message(kwargs, message):
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder(**{"input_dim": 10, "latent_dim": 3, **kwargs})
    assert str(caught.value) == message


def test_a_model_runs_in_the_graph_and_session_it_is_given_or_in_its_own():
    graph = tf.Graph()
    with tfae.GraphAutoEncoder(10, 3, graph=graph) as g:  # a graph alone: a session of that graph
        assert g.graph is graph and g.session.graph is graph
    session = v1.Session(graph=tf.Graph())
    g = tfae.GraphAutoEncoder(10, 3, session=session)  # a session alone: its graph
    assert g.graph is session.graph and g.session is session
    g.close()
    with session.graph.as_default():
        assert session.run(v1.constant(1.0)) == 1.0  # a session it was given stays open
    with tfae.GraphAutoEncoder(10, 3) as g:
        assert g.graph is not v1.get_default_graph() and g.session.graph is g.graph
    with pytest.raises(ValueError) as caught:
        tfae.GraphAutoEncoder(10, 3, graph=graph, session=session)
    assert str(caught.value) == "Expected `session` to run `graph`. Received: a session of another graph"
    session.close()


def test_the_seed_is_the_graph_level_seed_of_the_models_own_graph_only():
    with tfae.GraphAutoEncoder(10, 3, seed=7) as a, tfae.GraphAutoEncoder(10, 3, seed=7) as b:
        assert a.graph.seed == 7
        for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(x, y)
    graph = tf.Graph()
    with tfae.GraphAutoEncoder(10, 3, graph=graph, seed=7):
        assert graph.seed is None  # a graph of yours keeps its own
    with tfae.GraphAutoEncoder(10, 3) as unseeded:
        assert unseeded.graph.seed is None


def test_the_training_loops_counter_and_total_wait_for_each_steps_update():
    # Without the dependency the next iteration's weight reads could run before this step's writes: a race
    # no run on one CPU shows, so the graph's structure is what is pinned.
    with tf.Graph().as_default():
        step, total = v1.placeholder(tf.int32, []), v1.placeholder(tf.float32, [])
        cost = v1.placeholder(tf.float32, [])
        next_step, next_total = tfae.GraphAutoEncoder._after_step(step, total, cost)

    def runs_after(op, before):  # whether `before` must run first: an input or control input, at any depth
        waiting = [op]
        while waiting:
            op = waiting.pop()
            if op is before:
                return True
            waiting.extend([tensor.op for tensor in op.inputs] + list(op.control_inputs))
        return False

    assert runs_after(next_step.op, cost.op) and runs_after(next_total.op, cost.op)
    assert not runs_after(next_step.op, total.op)  # the check itself can tell


def test_kernels_start_from_the_articles_standard_normal_or_from_glorot_uniform():
    with tfae.GraphAutoEncoder(200, 100, seed=0) as g:
        kernel, bias = g.get_weights()[:2]
        assert abs(kernel.mean()) < 0.02 and kernel.std() == pytest.approx(1.0, abs=0.02)
        np.testing.assert_array_equal(bias, 0.0)
    limit = np.sqrt(6.0 / (200 + 100))
    with tfae.GraphAutoEncoder(200, 100, kernel_initializer="glorot_uniform", seed=0) as g:
        kernel = g.get_weights()[0]
        assert np.abs(kernel).max() <= limit and kernel.std() == pytest.approx(limit / np.sqrt(3.0), rel=0.02)


def test_mse_loss_and_glorot_initialisation_train():
    x = np.random.default_rng(0).random((64, 10), dtype=np.float32)
    with tfae.GraphAutoEncoder(10, 3, loss="mse", optimizer="sgd", kernel_initializer="glorot_uniform",
                               learning_rate=0.05, seed=0) as g:
        history = g.fit(x, epochs=5, batch_size=16, verbose=0)
    assert history["loss"][-1] < history["loss"][0]


def _v1_reference(weights, *, optimizer: str, loss: str, learning_rate: float):
    """A hand-written TF1 graph of the same model with `tf.compat.v1.train`'s own optimizer and cost."""
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, weights[0].shape[0]])
        w1, b1, w2, b2 = (v1.Variable(w) for w in weights)
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
        if loss == "mse":
            cost = tf.reduce_sum(tf.square(tf.nn.sigmoid(logits) - x))
        else:
            cost = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))
        make = {"adam": v1.train.AdamOptimizer, "sgd": v1.train.GradientDescentOptimizer,
                "rmsprop": v1.train.RMSPropOptimizer}[optimizer]
        train = make(learning_rate).minimize(cost)
        init = v1.global_variables_initializer()
    session = v1.Session(graph=graph)
    session.run(init)
    return session, x, cost, train, (w1, b1, w2, b2)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
@pytest.mark.parametrize("loss", ["sigmoid_cross_entropy", "mse"])
def test_every_optimizer_and_cost_take_the_steps_of_tf_compat_v1_train(digits, optimizer, loss):
    x_train, _ = digits
    x = x_train[:100, :40].copy()  # 40 features keep the comparison fast; 3 batches of 32 and one of 4
    with tfae.GraphAutoEncoder(40, 6, optimizer=optimizer, loss=loss, learning_rate=0.01, seed=5) as g:
        session, placeholder, cost, train, variables = _v1_reference(
            g.get_weights(), optimizer=optimizer, loss=loss, learning_rate=0.01)
        ours = g.fit(x, epochs=2, batch_size=32, shuffle=False, verbose=0, jit_compile=False)["loss"]
        theirs = []
        for _ in range(2):
            epoch = [session.run([train, cost], {placeholder: x[i : i + 32]})[1] for i in range(0, len(x), 32)]
            theirs.append(sum(epoch) / len(x))
        np.testing.assert_allclose(ours, theirs, rtol=1e-4)
        for a, b in zip(g.get_weights(), session.run(list(variables))):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        session.close()


def test_adam_steps_on_gradients_smaller_than_its_epsilon_are_those_of_tf_compat_v1_train():
    # The first input is ~1e-9, so its row of the first kernel gets gradients below Adam's epsilon (1e-8):
    # there the step is set by epsilon itself, where it sits and with which sign. (RMSProp's epsilon only
    # matters once its mean square, which starts at one, has decayed below it: the test below.)
    x = np.random.default_rng(1).random((16, 5), dtype=np.float32)
    x[:, 0] = 1e-9
    with tfae.GraphAutoEncoder(5, 3, optimizer="adam", learning_rate=0.01, seed=3) as g:
        weights = g.get_weights()
        weights[0][0] = 0.0  # that row starts at zero, so float32 resolves its tiny steps
        g.set_weights(weights)
        session, placeholder, _, train, variables = _v1_reference(
            weights, optimizer="adam", loss="sigmoid_cross_entropy", learning_rate=0.01)
        g.fit(x, epochs=20, batch_size=16, shuffle=False, verbose=0, jit_compile=False)
        for _ in range(20):
            session.run(train, {placeholder: x})
        ours, theirs = g.get_weights()[0][0], session.run(variables[0])[0]
        assert np.abs(theirs).min() > 1e-4  # far larger than the gradients: epsilon sets these steps
        np.testing.assert_allclose(ours, theirs, rtol=1e-3)
        session.close()


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_a_weight_that_never_gets_a_gradient_stays_as_it_was_however_long_it_trains(optimizer):
    x = np.random.default_rng(0).random((8, 5), dtype=np.float32)
    x[:, 0] = 0.0  # the first input never lights up: its row of the first kernel gets no gradient
    with tfae.GraphAutoEncoder(5, 2, optimizer=optimizer, seed=0) as g:
        before = g.get_weights()[0][0]
        g.fit(x, epochs=400, batch_size=8, shuffle=False, verbose=0)  # the mean square decays below epsilon
        np.testing.assert_array_equal(g.get_weights()[0][0], before)


def test_the_mse_cost_is_the_summed_squared_error_of_the_sigmoid_output(digits):
    x = digits[0][:16, :30]
    with tfae.GraphAutoEncoder(30, 4, loss="mse", seed=2) as g:
        w1, b1, w2, b2 = g.get_weights()
        x_hat = 1.0 / (1.0 + np.exp(-(np.maximum(x @ w1 + b1, 0.0) @ w2 + b2)))
        assert g.session.run(g.cost, {g.X: x}) == pytest.approx(float(np.sum((x_hat - x) ** 2)), rel=1e-5)


GRAPH_SAVER = """
import sys, tfae
model = tfae.GraphAutoEncoder(784, 64, hidden_units=(256,), optimizer="adam", seed=0)
model.save(sys.argv[1])
print("saved", flush=True)
while True:
    model.save(sys.argv[1])
"""


@pytest.mark.slow
def test_sigkill_during_repeated_graph_saves_always_leaves_a_loadable_save(tmp_path):
    from tests.test_saving import kill_repeated_saves

    for attempt in kill_repeated_saves(GRAPH_SAVER, tmp_path / "ckpt", seed=1):
        with tfae.GraphAutoEncoder.load(tmp_path / "ckpt") as loaded:  # the last complete save, never a stub
            assert loaded.latent_dim == 64 and loaded.hidden_units == (256,), attempt


def test_fit_takes_numpys_booleans_and_keras_verbose_values_as_their_python_equivalents(capsys):
    x = np.random.default_rng(0).random((40, 10), dtype=np.float32)
    histories = []
    for options in ({"shuffle": False, "jit_compile": True, "verbose": 0},
                    {"shuffle": np.False_, "jit_compile": np.True_, "verbose": "auto"},
                    {"shuffle": False, "jit_compile": True, "verbose": 2}):
        with tfae.GraphAutoEncoder(10, 3, seed=0) as g:
            histories.append(g.fit(x, epochs=2, batch_size=16, **options))
        capsys.readouterr()
    assert histories[1] == histories[0] and histories[2] == histories[0]
