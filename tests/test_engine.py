"""The engine: many steps per program, exactly Keras' steps; bounded inference programs; shared memory.

What the engine computes is pinned against plain Keras by the conformance
suite (tests/test_conformance.py); these tests pin how it gets there: the
epoch plan, when it runs ahead of the callbacks and when not, that the fast
path is really taken, and the memory it shares with the backend.
"""

import importlib
import types
import warnings

import keras
import numpy as np
import pytest

import tfae
from tests import conformance
from tfae._engine import inference, training

BACKEND = keras.backend.backend()
# Backends with tfae's fast `fit`; on PyTorch every `fit` is Keras' own loop.
FAST_PATH = pytest.mark.skipif(BACKEND not in ("tensorflow", "jax"), reason="the fast path's backends")


def test_an_epoch_is_the_batches_keras_makes_grouped_into_chunks_of_executions():
    plan = training.Plan(70, batch_size=8, per_execution=3, chunk_steps=6, shuffle=False)
    assert (plan.steps, plan.executions) == (9, 3)  # 8 batches of 8 and one of 6
    order = plan.order()
    batches, last, ends = plan.chunk(order, 0)  # executions 0-1: steps 0-5
    assert batches.shape == (6, 8) and last.size == 0 and ends == [2, 5]
    np.testing.assert_array_equal(batches.ravel(), np.arange(48))
    batches, last, ends = plan.chunk(order, 2)  # execution 2: steps 6, 7 and the short last batch
    assert batches.shape == (2, 8) and ends == [2]
    np.testing.assert_array_equal(last, np.arange(64, 70))
    plan = training.Plan(64, batch_size=8, per_execution=1, shuffle=False)  # no short last batch
    batches, last, ends = plan.chunk(plan.order(), 0)
    assert plan.steps == 8 and batches.shape == (8, 8) and last.size == 0 and ends == list(range(8))


def test_a_session_hands_the_training_state_to_its_runner_and_the_new_state_back_to_keras():
    # JAX's trainer threads its training state through each execution; TensorFlow's has none.
    plan = training.Plan(10, batch_size=4, per_execution=1, shuffle=False)  # steps of 4, 4 and 2 rows
    calls = []

    def run(batches, last, state):
        calls.append((batches.shape, last.shape, state))
        return ({"loss": np.arange(len(batches), dtype=np.float32)}, {"loss": np.float32(9)}), state + 1

    session = training.Session(types.SimpleNamespace(stop_training=False), plan, run, [])
    answers = [session.execution(state) for state in (7, 8, 8)]
    assert calls == [((2, 4), (2,), 7)]  # one chunk for the epoch's three executions
    assert answers == [({"loss": 0.0}, 8), ({"loss": 1.0}, 8), ({"loss": 9.0}, 8)]


def test_a_chunk_is_one_execution_when_an_execution_has_more_steps_than_a_chunk():
    plan = training.Plan(70, batch_size=8, per_execution=5, chunk_steps=4, shuffle=False)
    batches, last, ends = plan.chunk(plan.order(), 0)
    assert batches.shape == (5, 8) and last.size == 0 and ends == [4]  # steps 0-4, not two executions' 0-8


def test_each_shuffled_epoch_is_a_fresh_permutation_of_every_sample():
    plan = training.Plan(70, batch_size=8, per_execution=1, shuffle=True)
    orders = [plan.order() for _ in range(2)]
    assert all(sorted(order) == list(range(70)) for order in orders)
    assert not np.array_equal(*orders)


@FAST_PATH
def test_shuffled_fit_trains_like_keras_fed_the_same_orders(monkeypatch):
    d = conformance.data()
    ours = conformance.tfae_model({})
    theirs = conformance.plain_model(ours, {})
    orders = []
    original = training.Plan.order
    monkeypatch.setattr(training.Plan, "order", lambda plan: orders.append(original(plan)) or orders[-1])
    history = ours.fit(d["x"], epochs=2, batch_size=16, verbose=0).history  # shuffle=True, Keras' default
    assert len(orders) == 2 and not np.array_equal(*orders)
    expected = {"loss": [], "mse": []}
    for order in orders:
        epoch = theirs.fit(d["x"][order], d["x"][order], batch_size=16, shuffle=False, verbose=0).history
        for key in expected:
            expected[key] += epoch[key]
    conformance.assert_same(history, expected, conformance.RTOL)
    conformance.assert_same(ours.get_weights(), theirs.get_weights(), conformance.RTOL)


@pytest.mark.parametrize(
    "callback, observes",
    [
        (keras.callbacks.History(), False),
        (keras.callbacks.ProgbarLogger(), False),
        (keras.callbacks.EarlyStopping(), False),
        (keras.callbacks.CSVLogger("log.csv"), False),
        (keras.callbacks.ModelCheckpoint("m.keras"), False),
        (keras.callbacks.ModelCheckpoint("m.keras", save_freq=10), True),
        (keras.callbacks.BackupAndRestore("backup", save_freq=10), True),
        (keras.callbacks.TerminateOnNaN(), True),
        (keras.callbacks.TensorBoard("logs"), True),
        (keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None), False),
        (keras.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: None), True),
        (conformance.StepRecorder(), True),
        (conformance.EpochRecorder(), False),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, bool) else str(value),
)
def test_callbacks_with_batch_hooks_are_known_to_observe_steps(callback, observes):
    assert training.observes_steps(callback) is observes


def count_chunks(monkeypatch) -> list:
    chunks = []
    original = training.Plan.chunk
    monkeypatch.setattr(training.Plan, "chunk", lambda *a: chunks.append(a[2]) or original(*a))
    return chunks


@FAST_PATH
def test_without_step_observers_an_epoch_runs_as_one_program(monkeypatch):
    chunks = count_chunks(monkeypatch)
    model = conformance.tfae_model({})
    model.fit(conformance.data()["x"], epochs=2, batch_size=16, verbose=0)  # 7 steps per epoch
    assert chunks == [0, 0]
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 14


@FAST_PATH
@pytest.mark.parametrize("given", ["list", "nested_list", "callback_list"])
def test_with_a_step_observer_every_execution_is_a_program_of_its_own(monkeypatch, given):
    chunks = count_chunks(monkeypatch)
    model = conformance.tfae_model({"steps_per_execution": 2})
    recorder = conformance.StepRecorder()
    callbacks = {"list": lambda: [recorder], "nested_list": lambda: [[], [recorder]],  # Keras flattens them
                 "callback_list": lambda: keras.callbacks.CallbackList([recorder], add_history=True, model=model)
                 }[given]()
    model.fit(conformance.data()["x"], epochs=1, batch_size=16, callbacks=callbacks, verbose=0)
    assert chunks == [0, 1, 2, 3]  # executions of steps 0-1, 2-3, 4-5, 6
    assert [hook for hook, _, _ in recorder.calls].count("train_batch_end") == 4  # the observer saw each one


def test_the_progress_bar_sees_every_step_with_the_logs_keras_gives_it(monkeypatch, capsys):
    seen = []
    original = keras.callbacks.ProgbarLogger.on_train_batch_end

    def record(self, batch, logs=None):
        seen.append((batch, dict(logs)))
        return original(self, batch, logs)

    monkeypatch.setattr(keras.callbacks.ProgbarLogger, "on_train_batch_end", record)
    d = conformance.data()
    ours = conformance.tfae_model({})
    theirs = conformance.plain_model(ours, {})
    ours.fit(d["x"], epochs=1, batch_size=16, shuffle=False, verbose=1)
    ours_seen, seen[:] = list(seen), []
    theirs.fit(d["x"], d["x"], epochs=1, batch_size=16, shuffle=False, verbose=1)
    # Keras may dispatch these calls to a thread pool (its async callbacks, on JAX): compare them in step order.
    ours_seen, seen = sorted(ours_seen, key=lambda call: call[0]), sorted(seen, key=lambda call: call[0])
    assert [batch for batch, _ in ours_seen] == list(range(7))
    conformance.assert_same(ours_seen, seen, conformance.RTOL)


def test_arrays_take_the_fast_path_and_the_train_function_is_keras_own_afterwards():
    model = conformance.tfae_model({})
    model.fit(conformance.data()["x"], epochs=1, verbose=0)
    fast = BACKEND in ("tensorflow", "jax")
    assert (getattr(model, "_tfae_trainer", None) is not None) is fast
    assert not hasattr(model.train_function, "keras_function")
    assert getattr(model, "_tfae_session", None) is None


@pytest.mark.parametrize("halves", ["encoder_and_decoder", "latent_dim_and_decoder"])
def test_a_model_of_halves_without_input_shape_takes_the_fast_path_at_its_first_fit(halves):
    x = conformance.data()["x"]
    encoder = tfae.Encoder(2) if halves == "encoder_and_decoder" else None
    model = tfae.AutoEncoder(encoder=encoder, latent_dim=None if encoder else 2, decoder=tfae.Decoder(x.shape[1:]))
    model.compile()
    assert not model.built
    model.fit(x, epochs=1, verbose=0)
    assert (getattr(model, "_tfae_trainer", None) is not None) is (BACKEND in ("tensorflow", "jax"))


def test_train_on_batch_and_dataset_fit_still_work_after_an_array_fit():
    x = conformance.data()["x"]
    model = conformance.tfae_model({})
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    model.train_on_batch(x[:32], x[:32])
    if BACKEND == "tensorflow":
        import tensorflow as tf

        model.fit(tf.data.Dataset.from_tensor_slices(x).batch(50), epochs=1, verbose=0)
    else:
        model.fit(x, x, batch_size=50, epochs=1, verbose=0, steps_per_epoch=2)  # Keras' own loop
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 7 + 1 + 2 + 7


def test_recompiling_between_fits_trains_with_the_new_optimizer():
    x = conformance.data()["x"]
    model = conformance.tfae_model({})
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    weights = model.get_weights()
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 7
    conformance.assert_same(model.get_weights(), weights, 0.0)  # a zero learning rate: the new optimizer ran


def test_a_subclass_train_step_runs_once_per_step():
    traced_steps = []

    class Counting(tfae.AutoEncoder):
        def train_step(self, *args):
            traced_steps.append(1)  # once per trace of a step: the program's steps are traced one by one
            return super().train_step(*args)

    model = Counting(input_shape=(conformance.FEATURES,), latent_dim=3)
    model.compile()
    history = model.fit(conformance.data()["x"], epochs=2, batch_size=16, verbose=0)
    assert traced_steps and len(history.history["loss"]) == 2
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 14


def _fast_fits(monkeypatch) -> list:
    """The `fit` calls that took the fast path (each one's Plan), recorded as they start."""
    plans = []
    original = training.Plan.__init__

    def record(self, *args, **kwargs):
        plans.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(training.Plan, "__init__", record)
    return plans


@FAST_PATH
@pytest.mark.parametrize("arguments, fast", [
    ({}, True),
    ({"y": "y"}, True),
    ({"sample_weight": "w"}, True),
    ({"shuffle": False}, True),
    ({"shuffle": "batch"}, False),  # Keras shuffles within batches: its loop
    ({"class_weight": {i: 1.0 + i for i in range(conformance.FEATURES)}}, False),
    ({"steps_per_epoch": 2}, False),
])
def test_the_fast_path_takes_arrays_and_steps_aside_for_what_it_cannot_reproduce(monkeypatch, arguments, fast):
    plans = _fast_fits(monkeypatch)
    d = conformance.data()
    arguments = {key: d[value] if isinstance(value, str) and value in d else value for key, value in arguments.items()}
    conformance.tfae_model({}).fit(d["x"], epochs=1, batch_size=16, verbose=0, **arguments)
    assert len(plans) == int(fast)


class _TestBatches(keras.callbacks.Callback):
    """Records the index of every validation batch (no training hook: the fast path stays)."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def on_test_batch_begin(self, batch, logs=None):
        self.batches.append(batch)


@FAST_PATH
@pytest.mark.parametrize("validation_batch_size, batches", [(None, 4), (7, 5)])  # 30 samples: by 8, or by 7
def test_validation_runs_in_batches_of_validation_batch_size_or_else_batch_size_as_in_keras(
        monkeypatch, validation_batch_size, batches):
    plans = _fast_fits(monkeypatch)
    d = conformance.data()
    ours = conformance.tfae_model({})
    theirs = conformance.plain_model(ours, {})
    seen = []
    for model, y in ((ours, None), (theirs, d["x"])):
        recorder = _TestBatches()
        model.fit(d["x"], y, batch_size=8, epochs=1, validation_data=(d["x_val"], d["x_val"]), verbose=0,
                  validation_batch_size=validation_batch_size, callbacks=[recorder])
        seen.append(recorder.batches)
    assert len(plans) == 1 and seen[0] == seen[1] == list(range(batches))


@pytest.mark.parametrize("data", ["arrays", "dataset"])
def test_fit_warns_exactly_what_keras_own_fit_warns(data):
    if data == "dataset" and BACKEND != "tensorflow":
        pytest.skip("datasets stream on TensorFlow")
    d = conformance.data()
    ours = conformance.tfae_model({})
    theirs = conformance.plain_model(ours, {})
    caught = []
    for model, targets in ((ours, False), (theirs, True)):  # Keras' own model is given its targets
        if data == "arrays":
            arguments = {"x": d["x"], "y": d["x"] if targets else None, "batch_size": 16}
        else:
            arguments = {"x": _batches().map(lambda batch: (batch, batch)) if targets else _batches()}
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            model.fit(epochs=2, verbose=0, **arguments)
        caught.append(sorted({(record.category.__name__, str(record.message)) for record in records}))
    assert caught[0] == caught[1]


@FAST_PATH
def test_the_fast_path_batches_by_keras_default_of_32_when_no_batch_size_is_given(monkeypatch):
    plans = _fast_fits(monkeypatch)
    model = conformance.tfae_model({})
    model.fit(conformance.data()["x"][:33], epochs=1, verbose=0)  # 33 samples: 2 steps of 32 and 1, not 1 of 33
    assert len(plans) == 1 and plans[0].steps == 2
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 2


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's choice")
def test_on_pytorch_every_fit_is_keras_own_loop(monkeypatch):
    plans = _fast_fits(monkeypatch)
    model = conformance.tfae_model({})
    model.fit(conformance.data()["x"], epochs=1, batch_size=16, verbose=0)
    assert plans == [] and int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 7


@FAST_PATH
def test_a_backend_tensor_goes_to_keras_as_it_is(monkeypatch):
    plans = _fast_fits(monkeypatch)
    model = conformance.tfae_model({})
    model.fit(keras.ops.convert_to_tensor(conformance.data()["x"]), epochs=1, batch_size=16, verbose=0)
    assert plans == []  # not copied into a numpy array for the fast path: Keras' loop takes it where it lies
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 7


@FAST_PATH
def test_a_second_fit_reuses_the_compiled_trainer_and_keras_train_function():
    model = conformance.tfae_model({})
    x = conformance.data()["x"]
    model.fit(x, epochs=1, verbose=0)
    trainer, keras_function = model._tfae_trainer, model.train_function
    assert keras_function is not None
    model.fit(x, epochs=1, verbose=0)
    assert model._tfae_trainer is trainer and model.train_function is keras_function  # nothing traced again
    assert getattr(model, "_tfae_session", None) is None


class _FailsInSetModel(keras.callbacks.Callback):
    def set_model(self, model):
        raise RuntimeError("the callback's own error")


@FAST_PATH
def test_an_error_before_keras_makes_its_train_function_reaches_the_caller_as_raised():
    model = conformance.tfae_model({})
    x = conformance.data()["x"]
    with pytest.raises(RuntimeError, match="the callback's own error"):  # Keras sets the model first
        model.fit(x, epochs=1, batch_size=16, callbacks=[_FailsInSetModel()], verbose=0)
    assert getattr(model, "_tfae_session", None) is None
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 7


@FAST_PATH
def test_a_fit_nested_in_every_epoch_leaves_the_outer_fit_its_own_session_each_time():
    # One nesting is compared with Keras by the conformance case `fit_inside_a_callback`; here the outer fit
    # must train on after its second nested fit.
    d = conformance.data()
    model = conformance.tfae_model({})
    history = model.fit(d["x"], epochs=3, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[conformance.NestedFit(d["x"][:20], at_epochs=(0, 1, 2))]).history
    assert len(history["loss"]) == 3
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 3 * (7 + 2 * 3)  # nested: 2 epochs of 3
    assert not hasattr(model.train_function, "keras_function")


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's traced programs")
def test_fits_shuffled_or_not_share_one_traced_program():
    model = conformance.tfae_model({})
    x = conformance.data()["x"]
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    traces = model._tfae_trainer._program.experimental_get_tracing_count()
    model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert model._tfae_trainer._program.experimental_get_tracing_count() == traces  # the same index dtype


class _RemakesTrainFunction(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.make_train_function()


@FAST_PATH
def test_a_callback_remaking_the_train_function_mid_fit_leaves_keras_own_function_holding_no_session():
    model = conformance.tfae_model({})
    history = model.fit(conformance.data()["x"], epochs=2, batch_size=16, callbacks=[_RemakesTrainFunction()],
                        verbose=0)
    assert len(history.history["loss"]) == 2
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 14
    assert not hasattr(model.train_function, "keras_function")  # not a dispatcher holding the fit's arrays


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_the_resident_trainer_is_the_backends_own_made_once_per_model_and_none_on_pytorch(monkeypatch, backend):
    """`_trainer`'s choice on any backend's process: each backend module's trainer stands in for the real one."""
    model = conformance.tfae_model({})

    class Trainer:
        def __init__(self, model):
            self.model = model

        @staticmethod
        def applies(model):
            return True

    for module in ("tensorflow", "jax"):
        monkeypatch.setattr(importlib.import_module(f"tfae._engine.{module}"), "ResidentTrainer",
                            Trainer if module == backend else None)
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    trainer = training._trainer(model)
    if backend == "torch":
        assert trainer is None
        return
    assert isinstance(trainer, Trainer) and trainer.model is model
    assert training._trainer(model) is trainer


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's choice")
def test_on_tensorflow_without_a_strategy_the_engine_compiles_with_xla():
    assert training.default_jit_compile() is True


def test_under_a_tensorflow_strategy_the_default_leaves_xla_to_keras_auto():
    # XLA cannot reach variables mirrored on other devices; the choice must be Keras' own "auto", not a truthy
    # string Keras would take for True.
    tf = pytest.importorskip("tensorflow")
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        assert training.default_jit_compile("tensorflow") == "auto"


def test_xla_by_default_on_tensorflow_and_jax_and_keras_choice_on_pytorch():
    assert training.default_jit_compile() == training.default_jit_compile(BACKEND)
    assert [training.default_jit_compile(backend) for backend in ("tensorflow", "jax", "torch")] == [True, True, "auto"]


# ------------------------------------------------------------------------- inference
def test_buckets_bound_the_programs_for_any_input_length():
    assert [inference.bucket(n, 1024) for n in (1, 2, 3, 5, 100, 1023, 1024, 5000)] == [
        1, 2, 4, 8, 128, 1024, 1024, 1024]
    assert inference.bucket(100, 64) == 64


def test_encode_of_every_length_below_a_batch_keeps_few_programs_and_exact_results():
    model = conformance.tfae_model({})
    x = conformance.data(n=300)["x"]
    for n in range(1, 300, 7):
        np.testing.assert_allclose(model.encode(x[:n]), keras.ops.convert_to_numpy(model.encoder(x[:n])),
                                   rtol=1e-5, atol=1e-6)
    assert len(model._tfae_runners["encode"]) <= 10  # buckets 1..256 and 512: not one per length


def test_encode_and_decode_with_a_batch_size_or_a_dataset_give_the_array_result_and_reuse_their_runners():
    import tensorflow as tf

    model = conformance.tfae_model({})
    x = conformance.data(n=50)["x"]
    expected = model.encode(x)
    runners = model._tfae_runners
    np.testing.assert_allclose(model.encode(x, batch_size=8), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.encode(tf.data.Dataset.from_tensor_slices(x).batch(7)), expected,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.decode(tf.data.Dataset.from_tensor_slices(expected).batch(7)),
                               model.decode(expected), rtol=1e-5, atol=1e-6)  # codes reach the engine as they come
    assert model._tfae_runners is runners and list(runners) == ["encode", "decode"]


def test_encode_compiles_once_per_batch_shape_in_the_batch_size_asked_for(monkeypatch):
    built = []
    program = inference.BatchedRunner._program
    monkeypatch.setattr(inference.BatchedRunner, "_program", lambda self, size: built.append(size) or program(self, size))
    model = conformance.tfae_model({})
    x = conformance.data(n=50)["x"]
    first = model.encode(x, batch_size=8)
    np.testing.assert_array_equal(model.encode(x, batch_size=8), first)  # the same program again
    model.encode(x[:3])  # the default batch size: 3 rows run as a padded batch of 4
    assert built == [8, 4]


def test_encode_and_decode_of_symbolic_inputs_are_layer_calls_for_a_functional_model():
    model = conformance.tfae_model({})
    inputs = keras.Input((conformance.FEATURES,))
    codes = model.encode(inputs)
    assert isinstance(codes, keras.KerasTensor) and tuple(codes.shape) == (None, 3)
    rebuilt = keras.Model(inputs, model.decode(codes))  # the engine's runners are for arrays, not graphs
    x = conformance.data(n=5)["x"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(rebuilt(x)), model.reconstruct(x), rtol=1e-5, atol=1e-6)
    # A backend tensor is a layer call too, with the call's arguments, as an array's batched run has them.
    z = keras.ops.convert_to_tensor(model.encode(x))
    logits = inference.infer(model, "logits", model.decoder, z, name="z", feature_shape=(3,), batch_size=None,
                             return_logits=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(logits),
                               keras.ops.convert_to_numpy(model.decoder(z, return_logits=True)), rtol=1e-6)
    assert keras.ops.convert_to_numpy(keras.ops.min(logits)) < 0  # logits, not probabilities


def test_encode_refuses_an_empty_dataset_saying_so():
    import tensorflow as tf

    model = conformance.tfae_model({})
    empty = tf.data.Dataset.from_tensor_slices(conformance.data(n=4)["x"]).take(0).batch(2)
    with pytest.raises(ValueError) as error:
        model.encode(empty)
    assert str(error.value) == "Expected `x` to yield at least one batch. Received: x yielding none"
    x = conformance.data(n=4)["x"]
    pairs = tf.data.Dataset.from_tensor_slices((x, np.zeros_like(x))).batch(3)  # the targets are not encoded
    np.testing.assert_allclose(model.encode(pairs), model.encode(x), rtol=1e-5, atol=1e-6)


class _Samples(keras.utils.PyDataset):
    """Batches of 3 samples, with their targets, as `fit` takes them; `batches=None` is endless."""

    def __init__(self, x, batches=-1):
        super().__init__()
        self.x, self.batches = x, batches

    @property
    def num_batches(self):
        return -(-len(self.x) // 3) if self.batches == -1 else self.batches

    def __getitem__(self, index):
        part = self.x[3 * index: 3 * index + 3]
        return part, part


def test_encode_and_reconstruct_read_a_py_dataset_batch_by_batch_as_fit_does():
    model = conformance.tfae_model({})
    x = conformance.data(n=8)["x"]
    np.testing.assert_allclose(model.encode(_Samples(x)), model.encode(x), rtol=1e-5, atol=1e-6)
    unbuilt = tfae.AutoEncoder(tfae.Encoder(2), tfae.Decoder((x.shape[1],)))
    assert unbuilt.reconstruct(_Samples(x)).shape == x.shape  # built from the first batch
    with pytest.raises(ValueError) as error:
        model.encode(_Samples(x, batches=None))
    assert str(error.value) == ("Expected `x` to be a keras.utils.PyDataset of known length (`num_batches`). "
                                "Received: x, an endless _Samples")


def test_encode_refuses_a_dataset_of_single_samples_asking_for_batches():
    import tensorflow as tf

    model = conformance.tfae_model({})
    x = conformance.data(n=4)["x"]
    for unbatched in (tf.data.Dataset.from_tensor_slices(x), tf.data.Dataset.from_tensor_slices((x, x))):
        with pytest.raises(ValueError) as error:
            model.encode(unbatched)
        assert str(error.value) == ("Expected `x` to yield batches of samples (call `.batch(batch_size)` on a dataset "
                                    f"of single samples). Received: x yielding an element of shape ({x.shape[1]},)")
    # Single samples of two axes look like batches; the model's sample shape tells them apart.
    images = tfae.AutoEncoder(input_shape=(2, 3), latent_dim=2)
    single_images = tf.data.Dataset.from_tensor_slices(np.ones((4, 2, 3), np.float32))
    for run in (images.encode, lambda data: inference.infer(images, "encode", images.encoder, data, name="x",
                                                           feature_shape=(2, 3), batch_size=None)):
        with pytest.raises(ValueError) as error:
            run(single_images)
        assert str(error.value).endswith("Received: x yielding an element of shape (2, 3)")


def test_a_runner_keeps_at_most_max_programs_and_drops_the_least_recently_used(monkeypatch):
    built = []

    def build(self, shape):
        built.append(shape)
        return lambda x: x

    monkeypatch.setattr(inference.BatchedRunner, "_program", build)
    runner = inference.BatchedRunner(keras.layers.Identity())
    x = np.zeros((64, 2), np.float32)
    for batch_size in range(1, inference.MAX_PROGRAMS + 1):
        runner(x, batch_size)
    assert len(runner) == inference.MAX_PROGRAMS
    runner(x, 1)  # used again: now the most recent
    runner(x, inference.MAX_PROGRAMS + 1)  # one too many: batch size 2's program goes
    assert len(runner) == inference.MAX_PROGRAMS and len(built) == inference.MAX_PROGRAMS + 1
    runner(x, 1)
    assert len(built) == inference.MAX_PROGRAMS + 1
    runner(x, 2)
    assert len(built) == inference.MAX_PROGRAMS + 2


@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 9, 17])
def test_inference_of_any_length_is_the_layers_own_inference_pass_row_for_row(n):
    # Dropout makes any training-mode call visible; 4-row batches put n on every side of a batch's edge.
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=3, hidden_units=(5,), dropout=0.5)
    x = np.random.default_rng(n).random((n, 6), dtype=np.float32)
    z = keras.ops.convert_to_numpy(ae.encoder(x, training=False))
    logits = keras.ops.convert_to_numpy(ae(x, training=False, return_logits=True))
    for batch_size in (4, None):
        encoded = ae.encode(x, batch_size=batch_size)
        assert encoded.dtype == np.float32 and encoded.shape == (n, 3)
        np.testing.assert_allclose(encoded, z, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ae.decode(z, batch_size=batch_size),
                                   keras.ops.convert_to_numpy(ae.decoder(z, training=False)), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ae.reconstruction_error(x, reduction="sum", batch_size=batch_size),
                                   (np.logaddexp(0.0, logits) - x * logits).sum(axis=1), rtol=1e-5)


def test_inference_takes_float64_after_float32_and_returns_a_writeable_array_of_its_own():
    ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=3)
    x = np.random.default_rng(0).random((5, 6))
    z32, z64 = ae.encode(x.astype(np.float32)), ae.encode(x)
    np.testing.assert_allclose(z64, z32, rtol=1e-6, atol=1e-6)
    z64[0, 0] = 123.0  # the caller owns the result
    assert z64[0, 0] == 123.0


class BatchRows(keras.layers.Layer):
    """Each row's output is the number of rows of the batch the layer was called on."""

    def call(self, x):
        return keras.ops.ones_like(x[:, :1]) * keras.ops.cast(keras.ops.shape(x)[0], x.dtype)


class TrainingFlag(keras.layers.Layer):
    """Each row's output is 1.0 in training, else 0.0; training by default, unless told otherwise."""

    def call(self, x, training=True):
        return keras.ops.ones_like(x[:, :1]) * (1.0 if training else 0.0)


@pytest.mark.parametrize("n", [3, 8, 21])
def test_every_batch_a_runner_calls_its_layer_on_has_the_rows_of_its_bucket_the_last_one_too(n):
    layer = BatchRows()
    layer.build((None, 2))  # a runner's layer is built (the JAX and PyTorch runners call it statelessly)
    out = inference.BatchedRunner(layer)(np.ones((n, 2), np.float32), 8)
    assert out.shape == (n, 1)
    np.testing.assert_array_equal(out, inference.bucket(n, 8))  # 4 rows for 3 (padded), else 8 (the last overlaps)


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("n", [3, 21])
def test_a_runner_calls_its_layer_in_inference_mode_whatever_the_layers_default(n, nested):
    # Nested, the layer reads the mode from the outer call: `training=None` there would leave it its default.
    layer = keras.Sequential([keras.Input((2,)), TrainingFlag()]) if nested else TrainingFlag()
    layer.build((None, 2))
    out = inference.BatchedRunner(layer)(np.ones((n, 2), np.float32), 8)
    np.testing.assert_array_equal(out, np.zeros((n, 1), np.float32))


class Traces(keras.layers.Layer):
    """The identity, counting the Python runs of its `call`: one per trace of a compiled program."""

    def __init__(self):
        super().__init__()
        self.runs = 0

    def call(self, x):
        self.runs += 1
        return x


@pytest.mark.skipif(BACKEND == "torch", reason="PyTorch's runner is eager: every batch runs the Python")
def test_a_runner_compiles_its_program_once_for_arrays_of_every_length():
    layer = Traces()
    layer.build((None, 2))
    runner = inference.BatchedRunner(layer)
    runner(np.ones((9, 2), np.float32), 8)
    runs = layer.runs
    for n in (10, 17, 64, 9):
        np.testing.assert_array_equal(runner(np.full((n, 2), n, np.float32), 8), np.full((n, 2), n))
    assert (layer.runs, len(runner)) == (runs, 1)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's zero-copy hand-over")
def test_an_output_sharing_the_inputs_memory_is_copied_so_writing_it_never_changes_the_input():
    import tensorflow as tf

    from tfae._engine import tensorflow as tf_engine

    class Memory:  # a tensor's own buffer, also before TensorFlow 2.17 gave tensors `__dlpack__`
        def __init__(self, tensor):
            self.tensor = tensor

        def __dlpack__(self, stream=None):
            return tf.experimental.dlpack.to_dlpack(self.tensor)

        def __dlpack_device__(self):
            return (1, 0)  # kDLCPU

    x = tfae.datasets.load_mnist_sample()[0][0][:64]  # aligned, so TensorFlow reads it in place
    before = x.copy()
    tensor = tf_engine.shared_tensor(x)
    assert np.shares_memory(np.from_dlpack(Memory(tensor)), x)  # TensorFlow reads the array in place, no copy
    out = tf_engine.owned_array(tensor, x)  # an output that is the input's own memory
    out[:] = -1.0
    np.testing.assert_array_equal(x, before)
    doubled = tensor * 2.0
    fresh = tf_engine.owned_array(doubled, x)  # a fresh output: handed over as it is, writeable
    handed_over = hasattr(type(doubled), "__dlpack__")  # before TensorFlow 2.17, `tensor.numpy()` copies
    assert fresh.flags.writeable and np.shares_memory(fresh, np.from_dlpack(Memory(doubled))) == handed_over
    np.testing.assert_array_equal(fresh, before * 2.0)


def test_on_tensorflow_an_array_runs_as_one_graph_elsewhere_batch_by_batch(monkeypatch):
    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "jax": "jax"}.get(backend, "torch")
    built = []
    if backend == "tensorflow":
        from tfae._engine import tensorflow as engine_module

        monkeypatch.setattr(engine_module, "one_graph_runner", lambda *args: built.append(args) or (lambda x: x))
    else:
        engine_module = importlib.import_module(f"tfae._engine.{module}")
        monkeypatch.setattr(engine_module, "inference_function", lambda *args: built.append(args) or (lambda x: x))
    layer = keras.layers.Identity()
    program = inference.BatchedRunner(layer, return_logits=True)._program(8)
    assert built == ([(layer, {"return_logits": True}, 8)] if backend == "tensorflow" else
                     [(layer, {"return_logits": True})])
    assert program(np.ones((8, 2), np.float32)).shape == (8, 2)


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="TensorFlow runs an array as one graph")
def test_batch_by_batch_reads_each_result_without_a_copy_and_bfloat16_through_keras():
    engine_module = importlib.import_module(f"tfae._engine.{keras.backend.backend()}")
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    result = keras.ops.convert_to_tensor(values)
    read = engine_module.to_numpy(result)
    np.testing.assert_array_equal(read, values)
    assert np.shares_memory(read, engine_module.to_numpy(result))  # views of the result's one buffer
    half = engine_module.to_numpy(keras.ops.convert_to_tensor(values, dtype="bfloat16"))
    assert str(half.dtype) == "bfloat16"
    np.testing.assert_array_equal(half.astype(np.float32), values)


def test_on_jax_a_runner_runs_batch_by_batch_in_the_batch_size_it_was_built_for(monkeypatch):
    pytest.importorskip("jax")
    from tfae._engine import jax as jax_engine

    calls, built, reads = [], [], []
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")  # the JAX branch, from any backend's process
    monkeypatch.setattr(jax_engine, "inference_function", lambda layer, kwargs: built.append((layer, kwargs)) or (
        lambda batch: calls.append(batch.shape) or batch * 2))
    monkeypatch.setattr(jax_engine, "to_numpy", lambda result: reads.append(result.shape) or np.asarray(result))
    layer = keras.layers.Identity()
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    np.testing.assert_array_equal(inference.BatchedRunner(layer, return_logits=True)._program(4)(x), x * 2)
    assert built == [(layer, {"return_logits": True})]
    assert calls == [(4, 2)] * 3
    assert reads == [(4, 2)] * 3  # each result read the backend's way (without a copy), not by numpy


JAX_TOKEN = (np.zeros((), np.int8),)  # what the engine's feed yields on JAX


@pytest.mark.parametrize("element, token", [
    (JAX_TOKEN, True),
    (JAX_TOKEN[0], True),  # Keras may unwrap a one-element tuple
    ((JAX_TOKEN[0], np.zeros((4, 2), np.float32)), False),  # a batch whose first array looks like a token
    ([JAX_TOKEN[0]], False),  # the feed yields tuples
    ((np.zeros((), np.int32),), False),
    ((np.zeros((3,), np.int8),), False),
    ((np.zeros((4, 2), np.float32), np.zeros((4, 2), np.float32), None), False),
    (type("ShapeOnly", (), {"shape": ()})(), False),  # no dtype: not a token, and no error
    (None, False),
])
def test_on_jax_only_the_engines_token_is_taken_for_one(element, token):
    pytest.importorskip("jax")
    from tfae._engine import jax as jax_engine

    assert jax_engine._is_token(element) is token


def test_on_jax_the_dispatcher_sends_tokens_to_the_engine_and_every_keras_batch_to_keras():
    pytest.importorskip("jax")
    from tfae._engine import jax as jax_engine

    class Session:
        def execution(self, state):
            return "engine logs", state + 1

    seen = []

    def keras_function(state, data):
        seen.append(data if isinstance(data, list) else list(data))
        return "keras logs", state

    dispatch = jax_engine._Dispatcher(Session(), keras_function)
    batch = (np.ones((4, 2), np.float32), None, None)
    # Older Keras releases hand the batches of an execution as a list, current ones as an iterator.
    assert dispatch(0, [JAX_TOKEN]) == ("engine logs", 1)
    assert dispatch(0, iter([JAX_TOKEN])) == ("engine logs", 1)
    assert dispatch(0, [batch]) == ("keras logs", 0)
    assert dispatch(0, iter([batch, batch, batch])) == ("keras logs", 0)
    assert dispatch(0, []) == ("keras logs", 0)
    assert [len(data) for data in seen] == [1, 3, 0]  # the batch taken to look at is put back in front
    assert all(data_batch is batch for data in seen for data_batch in data)


@pytest.mark.skipif(BACKEND != "jax", reason="the JAX engine's conditions")
@pytest.mark.parametrize("setting", ["jit_compile=False", "keras.distribution"])
def test_on_jax_the_fast_path_steps_aside_without_jit_or_under_a_distribution(monkeypatch, setting):
    import jax

    plans = _fast_fits(monkeypatch)
    x = conformance.data()["x"]
    if setting == "jit_compile=False":  # Keras runs train_step uncompiled, for debugging
        conformance.tfae_model({"jit_compile": False}).fit(x, epochs=1, batch_size=16, verbose=0)
        assert plans == []
    else:
        model = conformance.tfae_model({})
        with keras.distribution.DataParallel(devices=jax.devices()[:1]).scope():
            model.fit(x, epochs=1, batch_size=16, verbose=0)
        assert plans == []
        model.fit(x, epochs=1, batch_size=16, verbose=0)  # outside the scope, the fast path again
        assert len(plans) == 1


@pytest.mark.skipif(BACKEND != "jax", reason="the JAX engine's program")
def test_on_jax_each_chunk_donates_the_training_state_as_keras_jitted_step_does(monkeypatch):
    import jax

    from tfae._engine import jax as jax_engine

    passed = []
    original = jax_engine.ResidentTrainer.start

    def start(self, *args):
        feed, run = original(self, *args)
        return feed, lambda batches, last, state: passed.append(state) or run(batches, last, state)

    monkeypatch.setattr(jax_engine.ResidentTrainer, "start", start)
    model = conformance.tfae_model({})
    model.fit(conformance.data()["x"], epochs=1, batch_size=16, verbose=0)
    leaves = jax.tree_util.tree_leaves(passed)
    # Donated: JAX gives up the buffers it reuses for the new state (all of them on current JAX's CPU, some
    # on JAX 0.4), so the state is not held twice.
    assert passed and leaves and any(leaf.is_deleted() for leaf in leaves)


def test_batch_by_batch_calls_with_full_padded_batches_all_before_reading_any_and_keeps_the_order():
    events = []

    class Pending:  # a result a backend has not computed yet: reading it is what waits
        def __init__(self, batch):
            self.batch = batch

        def __array__(self, dtype=None, copy=None):
            events.append("read")
            return self.batch * 2.0

    def function(batch):
        events.append((batch.shape, batch.dtype))
        return Pending(batch)

    x = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    out = inference.batch_by_batch(function, 4)(x)
    # The last batch, 2 rows, padded to 4 in the array's dtype: a float64 batch would be another program.
    assert events == [((4, 3), np.float32)] * 3 + ["read"] * 3
    np.testing.assert_array_equal(out, x * 2.0)
    assert out.dtype == np.float32 and out.shape == (10, 3)
    assert inference.batch_by_batch(function, 4)(x[:4]).shape == (4, 3)


def test_a_keras_cap_on_steps_per_epoch_is_honoured_as_keras_honours_it(tmp_path):
    keras.config.set_max_steps_per_epoch(2)
    try:
        conformance.run_case(conformance.Case("max_steps_per_epoch"), tmp_path)
    finally:
        keras.config.set_max_steps_per_epoch(None)


@pytest.mark.parametrize("case", [
    conformance.Case("steps_per_epoch_targets", targets=True, fit=lambda d: {"steps_per_epoch": 3}),
    conformance.Case("steps_per_epoch_weighted", fit=lambda d: {"steps_per_epoch": 3, "sample_weight": d["w"]}),
], ids=lambda case: case.name)
def test_keras_own_loop_gets_the_targets_and_the_sample_weights_as_given(tmp_path, case):
    conformance.run_case(case, tmp_path)  # steps_per_epoch: the engine steps aside


@pytest.mark.skipif(BACKEND != "tensorflow", reason="a TensorFlow-style train_step")
@pytest.mark.parametrize("per_execution", [1, 2])
def test_a_train_step_with_per_sample_logs_trains_through_a_short_last_batch(per_execution):
    class PerSampleLogs(tfae.AutoEncoder):
        def train_step(self, data):
            logs = super().train_step(data)
            return {**logs, "first_pixel": data[:, 0]}  # shaped like the batch: 16, then 4

    model = PerSampleLogs(input_shape=(conformance.FEATURES,), latent_dim=3)
    model.compile(steps_per_execution=per_execution)
    seen = []
    x = conformance.data()["x"]
    model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs))])
    assert int(model.optimizer.iterations) == 7
    # Keras hands the callbacks the logs of each execution's last step: steps 0-6 one by one, or 1, 3, 5, 6
    # (one call per execution, counted by the shapes below). Its batch numbers for several steps per
    # execution changed across Keras releases; the conformance suite compares them with plain Keras'.
    last_steps = list(range(7)) if per_execution == 1 else [1, 3, 5, 6]
    assert [np.shape(logs["first_pixel"]) for logs in seen] == [(16,)] * (len(last_steps) - 1) + [(4,)]
    for logs, step in zip(seen, last_steps):
        np.testing.assert_array_equal(logs["first_pixel"], x[16 * step : 16 * step + 16, 0])


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's retracing warning")
def test_only_the_retracing_warning_of_tfaes_own_inference_programs_is_dropped():
    import logging

    from tfae._engine import tensorflow as tf_engine

    def record(message):
        return logging.LogRecord("tensorflow", logging.WARNING, __file__, 1, message, None, None)

    ours = ("5 out of the last 9 calls to <function one_graph_runner.<locals>.program at 0x7f> triggered "
            "tf.function retracing. Tracing is expensive")
    theirs = "5 out of the last 9 calls to <function train_step at 0x7f> triggered tf.function retracing."
    other = "Compiled the loaded model, but the compiled metrics have yet to be built: one_graph_runner.<locals>.program"
    kept = [tf_engine._OwnProgramsRetracing().filter(record(message)) for message in (ours, theirs, other)]
    assert kept == [False, True, True]
    assert any(isinstance(f, tf_engine._OwnProgramsRetracing) for f in tf_engine.tf.get_logger().filters)


# ----------------------------------------------------------------------- datasets
def _streamed_chunks(monkeypatch) -> list:
    """`(limit, steps run)` of every streamed chunk, `(limit, "end")` for a call that found the data exhausted."""
    chunks = []
    original = training.StreamSession.__init__

    def record(self, model, run, callbacks):
        def recorded(iterator, limit):
            try:
                logs, count = run(iterator, limit)
            except Exception:
                chunks.append((limit, "end"))
                raise
            chunks.append((limit, int(count)))
            return logs, count

        original(self, model, recorded, callbacks)

    monkeypatch.setattr(training.StreamSession, "__init__", record)
    return chunks


def _batches(n: int = 100, batch_size: int = 16, *, unknown_length: bool = False):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(conformance.data(n)["x"]).batch(batch_size)
    return dataset.filter(lambda x: True) if unknown_length else dataset


class TensorIf(tfae.AutoEncoder):
    """A `train_step` with a Python `if` on a tensor: Keras' train function traces it unconverted, and fails."""

    def train_step(self, data):
        if keras.ops.sum(keras.tree.flatten(data)[0]) > 0:
            pass
        return super().train_step(data)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's AutoGraph")
@pytest.mark.parametrize("path", ["arrays", "dataset", "keras_loop"])
def test_train_step_is_traced_without_autograph_on_every_path_as_keras_traces_it(path):
    ae = TensorIf(input_shape=(conformance.FEATURES,), latent_dim=3)
    ae.compile(optimizer="adam")
    data = _batches(32, 8) if path == "dataset" else conformance.data(32)["x"]
    steps = {"steps_per_epoch": 4} if path == "keras_loop" else {}  # Keras' own loop, for reference
    with pytest.raises(TypeError, match=r"Using a symbolic `tf.Tensor` as a Python `bool` is not allowed"):
        ae.fit(data, epochs=1, batch_size=None if path == "dataset" else 8, shuffle=False, verbose=0, **steps)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="datasets stream on TensorFlow")
def test_a_dataset_streams_each_epoch_as_one_chunk_on_keras_own_iterators(monkeypatch):
    chunks = _streamed_chunks(monkeypatch)
    model = conformance.tfae_model({})
    model.fit(_batches(), epochs=2, verbose=0)  # 7 batches, a length the dataset knows
    assert chunks == [(training.CHUNK_STEPS, 7)] * 2
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 14
    assert not hasattr(model.train_function, "keras_function")
    assert getattr(model, "_tfae_session", None) is None


@pytest.mark.skipif(BACKEND != "tensorflow", reason="datasets stream on TensorFlow")
def test_a_dataset_of_unknown_length_ends_each_epoch_with_keras_end_of_data_call(monkeypatch):
    chunks = _streamed_chunks(monkeypatch)
    model = conformance.tfae_model({})
    model.fit(_batches(unknown_length=True), epochs=2, verbose=0)
    # Keras learns the length when a call finds the data exhausted (8 calls, that one counted), and then asks
    # at most that often per epoch: a chunk pulls no more.
    assert chunks == [(training.CHUNK_STEPS, 7), (training.CHUNK_STEPS, "end"), (8, 7), (1, "end")]
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 14


@pytest.mark.skipif(BACKEND != "tensorflow", reason="datasets stream on TensorFlow")
def test_a_long_epoch_streams_in_chunks_of_at_most_chunk_steps(monkeypatch):
    chunks = _streamed_chunks(monkeypatch)
    model = conformance.tfae_model({})
    model.fit(_batches(150, 1), epochs=1, verbose=0)
    assert chunks == [(64, 64), (64, 64), (64, 22)]
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 150


@pytest.mark.skipif(BACKEND != "tensorflow", reason="datasets stream on TensorFlow")
def test_with_a_step_observer_a_stream_runs_one_step_per_chunk(monkeypatch):
    chunks = _streamed_chunks(monkeypatch)
    conformance.tfae_model({}).fit(_batches(), epochs=1, callbacks=[conformance.StepRecorder()], verbose=0)
    assert chunks == [(1, 1)] * 7


@pytest.mark.skipif(BACKEND != "tensorflow", reason="datasets stream on TensorFlow")
def test_a_second_stream_of_another_length_reuses_the_traced_program():
    model = conformance.tfae_model({})
    model.fit(_batches(), epochs=1, verbose=0)
    model.fit(_batches(40, 8, unknown_length=True), epochs=1, verbose=0,
              callbacks=[conformance.StepRecorder()])  # other lengths and limits: arguments, not shapes
    assert model._tfae_trainer._stream_program.experimental_get_tracing_count() == 1


@pytest.mark.skipif(BACKEND != "tensorflow", reason="datasets stream on TensorFlow")
def test_a_train_step_with_per_sample_logs_streams_one_step_per_chunk(monkeypatch):
    chunks = _streamed_chunks(monkeypatch)

    class PerSampleLogs(tfae.AutoEncoder):
        def train_step(self, data):
            logs = super().train_step(data)
            return {**logs, "first_pixel": data[:, 0]}

    model = PerSampleLogs(input_shape=(conformance.FEATURES,), latent_dim=3)
    model.compile()
    seen = []
    model.fit(_batches(), epochs=1, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs))])
    assert chunks == [(training.CHUNK_STEPS, 1)] * 7
    assert np.shape(seen[0]["first_pixel"]) == (4,)  # the epoch's logs are its last step's


def _generator():
    x = conformance.data()["x"]
    for start in range(0, 100, 16):
        yield x[start : start + 16], x[start : start + 16]


class _Batches(keras.utils.PyDataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        x = conformance.data()["x"][i * 16 : (i + 1) * 16]
        return x, x


@pytest.mark.skipif(BACKEND != "tensorflow", reason="datasets stream on TensorFlow")
@pytest.mark.parametrize("inputs, arguments, compile_arguments, streams", [
    ("dataset", {}, {}, True),
    ("dataset", {"steps_per_epoch": 3}, {}, False),  # Keras keeps one iterator across epochs
    ("dataset", {"class_weight": {i: 1.0 for i in range(conformance.FEATURES)}}, {}, False),
    ("dataset", {}, {"steps_per_execution": 2}, False),
    ("dataset", {}, {"run_eagerly": True}, False),
    ("generator", {"steps_per_epoch": 7}, {}, False),
    ("py_dataset", {}, {}, False),
], ids=["dataset", "steps_per_epoch", "class_weight", "steps_per_execution", "run_eagerly", "generator",
        "py_dataset"])
def test_a_dataset_streams_and_other_inputs_and_arguments_take_keras_loop(monkeypatch, inputs, arguments,
                                                                          compile_arguments, streams):
    chunks = _streamed_chunks(monkeypatch)
    dataset = _batches().map(lambda x: (x, x)) if "class_weight" in arguments else _batches()  # Keras weighs y
    data = {"dataset": lambda: dataset.repeat() if "steps_per_epoch" in arguments else dataset,
            "generator": _generator, "py_dataset": _Batches}[inputs]()
    model = conformance.tfae_model(compile_arguments)
    model.fit(data, epochs=1, verbose=0, **arguments)
    assert bool(chunks) is streams
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == arguments.get("steps_per_epoch", 7)


class _AuxiliaryLoss(tfae.AutoEncoder):
    """A subclass with a layer only training calls: no symbolic call or `build()` builds it."""

    def __init__(self, *, build_aux: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.aux = keras.layers.Dense(3, name="aux")
        self.build_aux = build_aux

    def build(self, input_shape):
        super().build(input_shape)
        if self.build_aux:  # the cure the error names
            self.aux.build((None, self.latent_dim))

    def call(self, inputs, training=None, **kwargs):
        if training:
            self.add_loss(keras.ops.mean(self.aux(self.encoder(inputs)) ** 2))
        return super().call(inputs, training=training, **kwargs)


class _Noisy(tfae.AutoEncoder):
    """A subclass with a layer without weights that only training calls (as a noise layer)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.noise = keras.layers.Lambda(lambda inputs: inputs * 1.0, name="noise")

    def call(self, inputs, training=None, **kwargs):
        if training:
            inputs = self.noise(inputs)
        return super().call(inputs, training=training, **kwargs)


_BUILT_IN_A_STEP = r"Received: layers built during fit: \['aux'\]"


@pytest.mark.skipif(BACKEND == "tensorflow", reason="TensorFlow builds such a layer in the first step and trains it")
@pytest.mark.parametrize("input_shape", [(6,), None], ids=["built_at_once", "built_by_fit"])
@pytest.mark.parametrize("epochs, batch_size, stop_on_nan, more",
                         [(2, 8, True, {}), (2, 8, False, {}), (1, 16, False, {}), (1, 8, True, {"steps_per_epoch": 2})],
                         ids=["stop_on_nan", "keras_nan_handling", "one_step", "steps_per_epoch"])
def test_a_layer_first_called_in_a_training_step_gets_an_error_naming_it_on_jax_and_torch(input_shape, epochs,
                                                                                          batch_size, stop_on_nan,
                                                                                          more):
    ae = _AuxiliaryLoss(input_shape=input_shape, latent_dim=2, decoder=tfae.Decoder((6,)))
    ae.stop_on_nan = stop_on_nan  # StopOnNaN read the leaked tracers first on JAX
    ae.compile(optimizer="sgd")
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    with pytest.raises(ValueError, match=_BUILT_IN_A_STEP):  # one step: JAX succeeds, leaving tracers behind
        ae.fit(x, epochs=epochs, batch_size=batch_size, verbose=0, **more)


class _AuxiliaryEncoder(keras.layers.Layer):
    """An encoder whose own `build()` leaves out a head only training calls: the unbuilt layer sits one level down."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = tfae.Encoder(2, name="inner")
        self.aux = keras.layers.Dense(3, name="aux")

    def build(self, input_shape):
        self.inner.build(input_shape)

    def compute_output_shape(self, input_shape):
        return self.inner.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        code = self.inner(inputs)
        if training:
            self.add_loss(keras.ops.mean(self.aux(code) ** 2))
        return code


def test_a_nested_layer_only_training_calls_trains_as_keras_trains_it_or_is_named():
    # Keras trains it on TensorFlow (its loop, not the fast path, whose optimizer is built before the step);
    # on JAX and PyTorch Keras' step breaks on it, and the error names it as for a layer of the model itself.
    ae = tfae.AutoEncoder(encoder=_AuxiliaryEncoder(name="encoder"), decoder=tfae.Decoder((6,)), input_shape=(6,))
    ae.compile(optimizer="sgd")
    assert training.unbuilt_layers(ae) == [ae.encoder.aux]
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    if BACKEND != "tensorflow":
        with pytest.raises(ValueError, match=_BUILT_IN_A_STEP):
            ae.fit(x, epochs=2, batch_size=8, verbose=0)
        return
    history = ae.fit(x, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2 and len(ae.trainable_variables) == 6
    first = ae.encoder.aux.kernel.numpy().copy()
    ae.fit(x, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(ae.encoder.aux.kernel.numpy(), first)  # its loss reaches it


@pytest.mark.parametrize("elements", ["inputs", "pairs"])
def test_fit_on_a_dataset_builds_an_unbuilt_model_first_so_a_layer_built_in_a_step_is_named(elements):
    # As for arrays: the model is built from the dataset's element spec before Keras' loop, which then knows
    # which layers only a training step builds.
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(x if elements == "inputs" else (x, x)).batch(8)
    ae = _AuxiliaryLoss(input_shape=None, latent_dim=2, decoder=tfae.Decoder((6,)))
    ae.compile(optimizer="sgd")
    if BACKEND != "tensorflow":
        with pytest.raises(ValueError, match=_BUILT_IN_A_STEP):
            ae.fit(dataset, epochs=2, verbose=0)
        return
    history = ae.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and ae.aux.built and ae.sample_shape == (6,)


def test_build_takes_a_model_without_a_distribution_strategy_as_models_of_other_backends_are():
    class Model:  # a JAX or PyTorch Keras model has no `distribute_strategy`
        def build(self, input_shape):
            self.built_with = input_shape

    model = Model()
    training.build(model, (None, 3))
    assert model.built_with == (None, 3)


@pytest.mark.parametrize("data", ["arrays", "dataset"])
def test_fit_builds_an_unbuilt_model_before_it_chooses_the_path(monkeypatch, data):
    # Only a built model shows which layers a training step alone would build (JAX and PyTorch cannot train those).
    if data == "dataset" and BACKEND != "tensorflow":
        pytest.skip("datasets stream on TensorFlow")
    built = []
    choose = training._trainer
    monkeypatch.setattr(training, "_trainer", lambda model: built.append(model.built) or choose(model))
    ae = tfae.AutoEncoder(latent_dim=2, decoder=tfae.Decoder((conformance.FEATURES,)))  # no input shape: unbuilt
    ae.compile(optimizer="sgd")
    ae.fit(conformance.data(16)["x"] if data == "arrays" else _batches(16, 8), epochs=1, verbose=0)
    assert built == [True]


def _lost_sample_axes(dataset):
    """`dataset`'s batches through a reshape that leaves only the static shape `(None, None)`."""
    import tensorflow as tf

    return dataset.map(lambda batch: tf.reshape(batch, tf.stack([tf.shape(batch)[0], -1])))


def test_an_unbuilt_model_fit_on_a_dataset_of_unknown_sample_axes_says_which_shape_it_needs():
    # Keras too builds from the dataset's spec, not from a batch, and fails on a kernel of unknown size.
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    dataset = _lost_sample_axes(tf.data.Dataset.from_tensor_slices(x).batch(8))
    ae = tfae.AutoEncoder(latent_dim=2, decoder=tfae.Decoder((6,)))
    ae.compile(optimizer="sgd")
    with pytest.raises(ValueError) as error:
        ae.fit(dataset, epochs=1, verbose=0)
    assert str(error.value) == ("Expected an input shape with a batch axis and known sample axes, e.g. (None, 784). "
                                "Received: input_shape=(None, None)")


def test_a_built_model_fits_a_dataset_of_unknown_sample_axes_as_it_fits_the_same_data_of_known_axes():
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    known = tf.data.Dataset.from_tensor_slices(x).batch(8)
    lost = _lost_sample_axes(known)
    runs = []
    for dataset in (known, lost):
        keras.utils.set_random_seed(3)
        ae = tfae.AutoEncoder(input_shape=(6,), latent_dim=2)
        ae.compile(optimizer="sgd")
        history = ae.fit(dataset, epochs=2, verbose=0).history
        runs.append((history, [keras.ops.convert_to_numpy(w) for w in ae.weights], ae.encode(dataset)))
    (history, weights, codes), (lost_history, lost_weights, lost_codes) = runs
    assert lost_history == history
    for lost_weight, weight in zip(lost_weights, weights):
        np.testing.assert_array_equal(lost_weight, weight)
    np.testing.assert_array_equal(lost_codes, codes)


@pytest.mark.parametrize("spec", ["unbatched", "dict"])
def test_fit_leaves_a_dataset_of_unknown_batch_shape_to_keras(spec):
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).random((16, 6), dtype=np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(x if spec == "unbatched" else {"x": x}).batch(8)
    if spec == "unbatched":
        dataset = dataset.unbatch()
    assert training._batch_shape(dataset) is None
    pairs = tf.data.Dataset.from_tensor_slices((x, x[:, :4])).batch(8)
    assert training._batch_shape(pairs) == (None, 6)  # the inputs' shape, not the targets'


def test_a_layer_built_in_build_trains_on_every_backend():
    ae = _AuxiliaryLoss(build_aux=True, input_shape=(6,), latent_dim=2, decoder=tfae.Decoder((6,)))
    ae.compile(optimizer="sgd")
    assert ae.aux.built
    first = keras.ops.convert_to_numpy(ae.aux.kernel).copy()
    ae.fit(np.random.default_rng(0).random((16, 6), dtype=np.float32), epochs=2, batch_size=8, verbose=0)
    assert not np.array_equal(keras.ops.convert_to_numpy(ae.aux.kernel), first)  # its loss reaches it


def test_a_layer_no_step_calls_leaves_fit_as_keras_runs_it_on_every_backend():
    class Unused(tfae.AutoEncoder):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.head = keras.layers.Dense(3, name="head")  # called by the user's own methods only

    ae = Unused(input_shape=(6,), latent_dim=2, decoder=tfae.Decoder((6,)))
    ae.compile(optimizer="sgd")
    history = ae.fit(np.random.default_rng(0).random((16, 6), dtype=np.float32), epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2 and not ae.head.built


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
@pytest.mark.parametrize("fails", [True, False], ids=["keras_fails", "keras_returns"])
@pytest.mark.parametrize("traced", [True, False], ids=["traced_weights", "concrete_weights"])
def test_the_error_for_a_layer_built_in_a_step_is_raised_where_that_backend_breaks(monkeypatch, backend, fails,
                                                                                   traced):
    """The rule of `_keras_loop`, on any backend's process: a failed fit after a layer got weights, on JAX and
    PyTorch; on JAX also a fit that returned with weights a traced step made (leaked tracers); never on
    TensorFlow, which trains such a layer."""
    from tfae._engine import jax as jax_engine

    ae = _AuxiliaryLoss(input_shape=(6,), latent_dim=2, decoder=tfae.Decoder((6,)))

    def keras_fit():
        ae.aux.build((None, 2))  # as Keras' first step builds it
        if fails:
            raise RuntimeError("Keras' own error")
        return "history"

    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    monkeypatch.setattr(jax_engine, "is_traced", lambda value: traced and any(value is w.value for w in ae.aux.weights))
    breaks = backend != "tensorflow" and (fails or (backend == "jax" and traced))
    if not breaks:
        if fails:
            with pytest.raises(RuntimeError, match="Keras' own error"):
                training._keras_loop(ae, keras_fit)
        else:
            assert training._keras_loop(ae, keras_fit) == "history"
        return
    with pytest.raises(ValueError, match=_BUILT_IN_A_STEP) as raised:
        training._keras_loop(ae, keras_fit)
    assert f"model {ae.name!r}" in str(raised.value) and f"the {backend} backend" in str(raised.value)
    assert isinstance(raised.value.__cause__, RuntimeError) == fails  # Keras' error kept as the cause


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("builds", ["nothing", "weightless_layer", "unbuilt_model"])
def test_keras_own_error_stands_when_no_layer_got_weights_during_fit(monkeypatch, backend, builds):
    # An unbuilt model (a generator's unknown shapes) is built by Keras' fit before any step: its layers were
    # not built in a step, and Keras' error after that is the user's.
    ae = _Noisy(input_shape=None if builds == "unbuilt_model" else (6,), latent_dim=2, decoder=tfae.Decoder((6,)))

    def keras_fit():
        if builds == "weightless_layer":
            ae.noise.build((None, 6))  # built in the step, without weights
        elif builds == "unbuilt_model":
            ae.build((None, 6))  # Keras' symbolic build, before the first step
        raise RuntimeError("the user's disk is full")

    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    with pytest.raises(RuntimeError, match="the user's disk is full"):
        training._keras_loop(ae, keras_fit)


def test_a_weightless_layer_only_training_calls_trains_on_every_backend():
    # Keras builds it inside the step harmlessly (no weights): no error, as plain Keras trains it.
    ae = _Noisy(input_shape=(6,), latent_dim=2, decoder=tfae.Decoder((6,)))
    ae.compile(optimizer="sgd")
    history = ae.fit(np.random.default_rng(0).random((16, 6), dtype=np.float32), epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2 and int(ae.optimizer.iterations) == 4


@pytest.mark.skipif(BACKEND != "tensorflow", reason="a TensorFlow distribution strategy")
@pytest.mark.parametrize("more", [{}, {"steps_per_epoch": 2}, None], ids=["fit", "fit_steps_per_epoch", "encode"])
def test_fit_and_encode_build_a_model_made_in_a_strategys_scope_in_that_scope(monkeypatch, more):
    tf = pytest.importorskip("tensorflow")
    plans = _fast_fits(monkeypatch)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        ae = tfae.AutoEncoder(latent_dim=2, hidden_units=(4,), decoder=tfae.Decoder((6,), hidden_units=(4,)))
        ae.compile(optimizer="sgd", loss="mse")
    assert not ae.built
    x = np.random.default_rng(0).random((32, 6), dtype=np.float32)
    if more is None:
        ae.encode(x)  # tfae's own inference builds it too, as Keras' predict would
    else:
        ae.fit(x, epochs=1, batch_size=8, verbose=0, **more)
    assert all(type(weight.value).__name__ == "MirroredVariable" for weight in ae.weights)
    assert plans == []  # even outside the scope: Keras' loop, which shards the batches across the replicas


def test_infer_calls_the_layer_on_a_backend_tensor_and_hands_back_its_tensor():
    layer = tfae.Encoder(2, hidden_units=())
    x = keras.ops.convert_to_tensor(np.random.default_rng(0).random((5, 6), dtype=np.float32))
    out = inference.infer(types.SimpleNamespace(), "encode", layer, x, name="x", feature_shape=(6,), batch_size=None)
    assert keras.ops.is_tensor(out) and not isinstance(out, np.ndarray)  # the backend's own, as Keras returns it
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(layer(x)), rtol=1e-6)


def test_infer_names_its_argument_in_the_refusal_of_a_dataset():
    class Batches(keras.utils.PyDataset):
        num_batches = 1

        def __getitem__(self, index):
            return np.zeros((2,), "float32")  # a single code, not a batch of them

    with pytest.raises(ValueError, match=r"Received: z yielding an element of shape \(2,\)"):
        inference.infer(types.SimpleNamespace(), "decode", tfae.Decoder((6,)), Batches(), name="z", feature_shape=(2,),
                        batch_size=None)


def test_a_weighted_data_set_keeps_its_own_targets():
    # A denoiser's (noisy, clean, weights): the engine's steps and Keras' validation data both take this form.
    from tfae._engine.boundary import pack

    x, y, w = np.zeros((2, 3)), np.ones((2, 3)), np.ones(2)
    packed = pack(x, y, w)
    assert packed[0] is x and packed[1] is y and packed[2] is w
    assert pack(x, None, w)[1] is x and pack(x, y, None)[1] is y and pack(x, None, None) is x


def test_sample_weights_as_a_backend_tensor_reach_keras_as_given():
    from tfae._engine.boundary import _weights

    weights = keras.ops.convert_to_tensor(np.ones(4, np.float32))
    assert _weights(weights, "sample_weight") is weights  # Keras' own adapter takes the backend's tensors


@pytest.mark.parametrize("data", ["arrays", "dataset"])
def test_a_layer_frozen_between_fits_with_a_forced_train_function_stays_frozen_as_in_keras(data):
    if data == "dataset" and BACKEND != "tensorflow":
        pytest.skip("datasets stream on TensorFlow")
    x = conformance.data()["x"]
    ours = conformance.tfae_model({})
    plain = conformance.plain_model(ours, {})
    outcomes = []
    for model in (ours, plain):
        if data == "dataset":
            fit_data = {"x": _batches().map(lambda b: (b, b)) if model is plain else _batches(), "y": None}
        else:
            fit_data = {"x": x, "y": x if model is plain else None, "batch_size": 16}
        model.fit(**fit_data, epochs=1, shuffle=False, verbose=0)
        first = model.trainable_variables[0]
        layer = next(layer for layer in tfae._keras_private.nested_layers(model)
                     if isinstance(layer, keras.layers.Dense) and layer.kernel is first)
        before = keras.ops.convert_to_numpy(layer.kernel)
        layer.trainable = False
        model.make_train_function(force=True)  # as Keras' docs of `Layer.trainable` prescribe
        try:
            history = model.fit(**fit_data, epochs=2, shuffle=False, verbose=0)
        except ValueError as error:  # Keras' JAX trainer: its optimizer was built for the old trainable set
            outcomes.append(str(error))
            continue
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.kernel), before)
        outcomes.append((history.history["loss"], model.get_weights()))
    if BACKEND == "jax":
        assert outcomes[0] == outcomes[1] and "optimizer was built with 8 variables" in outcomes[0]
        return
    np.testing.assert_allclose(outcomes[0][0], outcomes[1][0], rtol=1e-5)
    for a, b in zip(outcomes[0][1], outcomes[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_callback_list_given_to_fit_is_lent_the_epoch_hook_and_given_back_unchanged():
    class Counting(keras.callbacks.CallbackList):  # Keras calls the very list it is given, a subclass's methods too
        epochs_begun = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs_begun += 1
            super().on_epoch_begin(epoch, logs)

    x = conformance.data()["x"]
    ours = conformance.tfae_model({})
    plain = conformance.plain_model(ours, {})
    iterations, epochs_begun = [], []
    for model in (ours, plain):
        callbacks = Counting([conformance.GoOnAfterStop()], add_history=True, model=model)
        listed = list(callbacks.callbacks)
        model.fit(x, x if model is plain else None, epochs=3, batch_size=16, shuffle=False, verbose=0,
                  callbacks=callbacks)
        assert callbacks.callbacks == listed
        iterations.append(int(keras.ops.convert_to_numpy(model.optimizer.iterations)))
        epochs_begun.append(callbacks.epochs_begun)
    assert iterations == [1 + 7 + 7] * 2  # epoch 0 stopped after its first step; epochs 1 and 2 whole
    assert epochs_begun == [3, 3]
