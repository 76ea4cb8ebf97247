"""Split a trained Keras autoencoder into encoder and decoder models at a named layer.

The article pulls the encoder out of a trained `Sequential` with
`Model(model.input, model.get_layer("bottleneck").output)` and rebuilds the
decoder layer by layer. These helpers do both for any built Sequential or
functional model, and say why when the cut is impossible.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras

from tfae import _errors, _keras_private


def _require_graph(model: Any, function: str) -> None:
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"`{function}` expects a Keras model. Received: model of type {type(model).__name__}"
        )
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"`{function}` needs a model with a symbolic layer graph, and model {model.name!r} "
            "has none: it was never built or called, or it is a subclassed model. Build it "
            "first (give the first layer an input shape, start from `keras.Input`, or call "
            "`model.build(input_shape)`)."
        )


def get_input_tensor(model: keras.Model) -> keras.KerasTensor:
    """The symbolic input tensor of a built Sequential or functional `model`.

    Args:
        model: a built Sequential or functional Keras model with one input.

    Returns:
        The model's input `KerasTensor`.

    Example:

    ```python
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, name="bottleneck"), keras.layers.Dense(784)])
    assert tuple(tfae.get_input_tensor(model).shape) == (None, 784)
    ```
    """
    _require_graph(model, "get_input_tensor")
    return model.inputs[0]


def get_output_tensor(model: keras.Model) -> keras.KerasTensor:
    """The symbolic output tensor of a built Sequential or functional `model`.

    Args:
        model: a built Sequential or functional Keras model with one output.

    Returns:
        The model's output `KerasTensor`.

    Example:

    ```python
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, name="bottleneck"), keras.layers.Dense(784)])
    assert tuple(tfae.get_output_tensor(model).shape) == (None, 784)
    ```
    """
    _require_graph(model, "get_output_tensor")
    return model.outputs[0]


def get_bottleneck_tensor(model: keras.Model, name: str = "bottleneck") -> keras.KerasTensor:
    """The symbolic output of the layer called `name` in a built Sequential or functional `model`.

    Args:
        model: a built Sequential or functional Keras model.
        name: the name of the code layer.

    Returns:
        The layer's output `KerasTensor`, shaped `(None, latent_dim)` for a dense bottleneck.

    Example:

    ```python
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, name="bottleneck"), keras.layers.Dense(784)])
    assert tuple(tfae.get_bottleneck_tensor(model).shape) == (None, 32)
    ```
    """
    _require_graph(model, "get_bottleneck_tensor")
    names = [layer.name for layer in model.layers]
    if name not in names:
        raise ValueError(
            f"Expected a layer named {name!r} in model {model.name!r}. "
            f"Received: bottleneck={name!r}; the model's layers are {names}"
        )
    layer = model.get_layer(name)
    if any(operation is layer for operation, _, _ in map(_keras_private.producing_call, model.inputs)):
        raise ValueError(
            f"Expected the bottleneck to be a layer between the input and the output of model {model.name!r}; "
            f"{name!r} is its input layer, which would leave nothing to encode. Received: bottleneck={name!r}"
        )
    # The call in this model's graph: `layer.output` is the layer's first call, which belongs to another
    # model when the layer is shared or was a model called on its own before being nested here.
    calls = [outputs for operation, _, outputs in _graph_calls(model) if operation is layer]
    if len(calls) != 1:
        raise ValueError(
            f"Expected the bottleneck layer to be called once in model {model.name!r}, so that its output is "
            f"the code; {name!r} is called {len(calls)} times. Received: bottleneck={name!r}"
        )
    if len(calls[0]) != 1:
        raise ValueError(
            f"Expected the bottleneck layer to return one tensor, the code; {name!r} returns {len(calls[0])}. "
            f"Received: bottleneck={name!r}"
        )
    return calls[0][0]


def _graph_calls(model: keras.Model) -> list[tuple[Any, list, list]]:
    """Every layer call of `model`'s own graph, from its outputs back to its inputs, each once:
    `(layer, input tensors, output tensors)`."""
    calls, seen, stack = [], set(), list(model.outputs)
    while stack:
        call = _keras_private.producing_call(stack.pop())
        key = tuple(id(tensor) for tensor in call[2])
        if key not in seen:
            seen.add(key)
            calls.append(call)
            stack.extend(call[1])
    return calls


def _reaches_input_without(outputs: list, cut: Any, inputs: list) -> bool:
    """Whether some path from `inputs` to `outputs` avoids the tensor `cut`."""
    input_ids = {id(t) for t in inputs}
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        tensor = stack.pop()
        if tensor is cut or id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if id(tensor) in input_ids:
            return True
        stack.extend(_keras_private.producing_call(tensor)[1])
    return False


def split_autoencoder(
    model: keras.Model, bottleneck: str = "bottleneck"
) -> tuple[keras.Model, keras.Model]:
    """Cut an autoencoder into `(encoder, decoder)` models at the layer named `bottleneck`.

    Works on any built Sequential or functional model, e.g. the article's
    `Sequential([Dense(256, input_shape=(784,)), Dense(128, name="bottleneck"),
    Dense(784, activation="sigmoid")])` or `Sequential([encoder, decoder])` of
    two models (`bottleneck=encoder.name`), with layers shared with other
    models or not, and on `tfae.AutoEncoder` and its
    subclasses, whose halves are their `encoder` and `decoder` (a
    VariationalAutoEncoder's encoder half ends in the mean, the code its
    `encode` gives). The two models share their layers (and so their weights)
    with `model`, so `decoder(encoder(x))` equals `model(x)` in inference and
    training either half trains the original.

    Args:
        model: a built Keras model with one input and one output.
        bottleneck: name of the code layer; for a `tfae.AutoEncoder`, only
            its default (the halves are fixed).

    Returns:
        `encoder` (inputs -> codes) and `decoder` (codes -> outputs), both
        `keras.Model`.

    Raises:
        ValueError: if the model is not built, has no layer called
            `bottleneck`, or has a connection that skips the bottleneck;
            or if that layer is the model's input or output layer, is
            called more than once, or returns more than one tensor.

    Warns:
        UserWarning: for a subclass of `tfae.AutoEncoder` that overrides
            `call`: its halves run `encoder` and `decoder` only.

    Example:

    ```python
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, name="bottleneck"),
                              keras.layers.Dense(784, activation="sigmoid")])
    encoder, decoder = tfae.split_autoencoder(model, bottleneck="bottleneck")
    assert encoder.output_shape == (None, 32) and decoder.input_shape == (None, 32)
    ```
    """
    from tfae.models import AutoEncoder

    if isinstance(model, AutoEncoder):
        if not model.built:
            raise ValueError(
                "`split_autoencoder` needs a built AutoEncoder: pass `input_shape=` or call it on "
                f"data first. Received: model={model.name!r}"
            )
        if not (isinstance(bottleneck, str) and bottleneck == "bottleneck"):
            raise ValueError(
                "Expected bottleneck='bottleneck' for a tfae AutoEncoder: it splits between its `encoder` and "
                f"`decoder`. Received: bottleneck={bottleneck!r}"
            )
        if not type(model).call.__module__.startswith("tfae."):
            warnings.warn(
                f"`split_autoencoder` splits model {model.name!r} between its `encoder` and `decoder`, but its "
                f"class {type(model).__name__} overrides `call`, which the halves do not run: "
                "`decoder(encoder(x))` can differ from `model(x)`.",
                stacklevel=_errors.users_frame(),
            )
        code = keras.Input((model.latent_dim,), name="code")
        samples = keras.Input(model.sample_shape, name="samples")
        return (  # the encoder half ends in the code the decoder takes (a VAE's mean)
            keras.Model(samples, model._latent_code(model.encoder(samples)), name=f"{model.name}_encoder"),
            keras.Model(code, model.decoder(code), name=f"{model.name}_decoder"),
        )

    code = get_bottleneck_tensor(model, bottleneck)
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(
            "`split_autoencoder` expects a model with one input and one output. "
            f"Received: {len(inputs)} inputs and {len(outputs)} outputs"
        )
    if code is outputs[0]:
        raise ValueError(
            f"Expected the bottleneck to be a layer between the input and the output of model {model.name!r}; "
            f"{bottleneck!r} makes its output, which would leave nothing to decode. Received: bottleneck={bottleneck!r}"
        )
    if _reaches_input_without(outputs, code, inputs):
        raise ValueError(
            f"Layer {bottleneck!r} is not a cut point of model {model.name!r}: a connection "
            "from the input reaches the output without passing through it (a skip "
            "connection), so no decoder can be built from the code alone. "
            f"Received: bottleneck={bottleneck!r}"
        )
    encoder = keras.Model(inputs[0], code, name=f"{model.name}_encoder")
    # Keras 3 accepts an intermediate tensor as a model input: it cuts the graph
    # there and puts a fresh Input in its place, reusing the layers downstream.
    decoder = keras.Model(code, outputs[0], name=f"{model.name}_decoder")
    return encoder, decoder
