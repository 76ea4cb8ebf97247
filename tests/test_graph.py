import json
import threading

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


def test_defaults_reproduce_the_article_and_train(digits):
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


def test_missing_or_corrupt_checkpoint_is_a_clear_error(tmp_path, digits):
    with pytest.raises(FileNotFoundError, match="graph_autoencoder.json is missing"):
        tfae.GraphAutoEncoder.load(tmp_path / "nothing")
    with tfae.GraphAutoEncoder(784, 8) as g:
        g.save(tmp_path / "ckpt")
    data_file = next((tmp_path / "ckpt").glob("model.ckpt.data*"))
    data_file.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="Cannot restore the checkpoint"):
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")
    (tmp_path / "ckpt" / "graph_autoencoder.json").write_text("{not json")
    with pytest.raises(ValueError, match="graph_autoencoder.json': not valid JSON"):
        tfae.GraphAutoEncoder.load(tmp_path / "ckpt")


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
    keras_model = tfae.AutoEncoder(input_shape=(28, 28, 1), latent_dim=8, hidden_units=(16,))
    with tfae.GraphAutoEncoder.from_keras(keras_model) as back:
        images = x_test.reshape(-1, 28, 28, 1)
        np.testing.assert_allclose(back.reconstruct(x_test), keras_model.reconstruct(images).reshape(-1, 784),
                                   atol=1e-5)


def test_from_keras_refuses_models_it_cannot_express():
    with pytest.raises(ValueError, match="Received: model of type Sequential"):
        tfae.GraphAutoEncoder.from_keras(keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)]))
    custom = tfae.AutoEncoder(tfae.Encoder(2, hidden_units=(4,)), tfae.Decoder(6, hidden_units=(5,)),
                              input_shape=(6,))
    with pytest.raises(ValueError, match="must mirror the encoder"):
        tfae.GraphAutoEncoder.from_keras(custom)
    with pytest.raises(ValueError, match="output must be a sigmoid"):
        tfae.GraphAutoEncoder.from_keras(tfae.AutoEncoder(input_shape=(6,), latent_dim=2, output_activation=None))


def test_two_instances_share_one_graph_and_session():
    graph = tf.Graph()
    with graph.as_default():
        session = v1.Session(graph=graph)
    a = tfae.GraphAutoEncoder(10, 3, graph=graph, session=session, seed=0)
    b = tfae.GraphAutoEncoder(10, 3, graph=graph, session=session, seed=0)
    assert a.name != b.name and a.graph is b.graph
    x = np.random.default_rng(0).random((32, 10), dtype=np.float32)
    a.fit(x, epochs=2, batch_size=8, verbose=0)
    assert not np.allclose(a.get_weights()[0], b.get_weights()[0])
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
    g.close()
    g.close()
    with pytest.raises(RuntimeError, match="is closed"):
        g.encode(np.zeros((1, 10)))


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


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_dim": 0, "latent_dim": 3}, "Received: input_dim=0"),
        ({"input_dim": 10, "latent_dim": -3}, "Received: latent_dim=-3"),
        ({"input_dim": 10, "latent_dim": 3, "optimizer": "adagrad"}, "Received: optimizer='adagrad'"),
        ({"input_dim": 10, "latent_dim": 3, "loss": "hinge"}, "Received: loss='hinge'"),
        ({"input_dim": 10, "latent_dim": 3, "learning_rate": 0}, "Received: learning_rate=0"),
        ({"input_dim": 10, "latent_dim": 3, "activation": "gelu2"}, "Received: activation='gelu2'"),
        ({"input_dim": 10, "latent_dim": 3, "seed": -1}, "Received: seed=-1"),
        ({"input_dim": 10, "latent_dim": 3, "kernel_initializer": "ones"}, "Received: kernel_initializer='ones'"),
    ],
)
def test_bad_constructor_arguments_are_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tfae.GraphAutoEncoder(**kwargs)


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
    x = x_train[:96, :40].copy()  # 40 features keep the comparison fast
    with tfae.GraphAutoEncoder(40, 6, optimizer=optimizer, loss=loss, learning_rate=0.01, seed=5) as g:
        session, placeholder, cost, train, variables = _v1_reference(
            g.get_weights(), optimizer=optimizer, loss=loss, learning_rate=0.01)
        ours = g.fit(x, epochs=2, batch_size=32, shuffle=False, verbose=0, jit_compile=False)["loss"]
        theirs = []
        for _ in range(2):
            epoch = [session.run([train, cost], {placeholder: x[i : i + 32]})[1] for i in range(0, 96, 32)]
            theirs.append(sum(epoch) / len(x))
        np.testing.assert_allclose(ours, theirs, rtol=1e-4)
        for a, b in zip(g.get_weights(), session.run(list(variables))):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        session.close()


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
