"""tfae models around a user's subclass: building after the whole `__init__` chain, and which overrides are the user's."""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any

import keras

from tfae import _errors, _keras_private
from tfae.models._training import Handoff


class BuiltAfterInit:
    """Mixin that builds a model once the outermost `__init__` has returned.

    Keras refuses new layers, metrics or variables on a built model, and a tfae
    model built inside its own `__init__` would refuse the state a subclass adds
    after `super().__init__()` (the usual Keras pattern), at construction and again
    when its `.keras` file loads. Every class below this one has its `__init__`
    wrapped (`__init_subclass__`, so a user's ABC or Protocol base still combines
    with it, which a metaclass would forbid); when the outermost one returns, the
    model calls `_build_after_init()`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__init__
        if getattr(init, "__name__", "") == "_no_init_or_replace_init":
            # typing.Protocol's stand-in for the `__init__` it picks on first use: the first real one in the MRO.
            init = next(vars(base)["__init__"] for base in cls.__mro__ if vars(base).get("__init__", init) is not init)
        if not getattr(init, "_tfae_builds_after_init", False):  # not inherited already wrapped
            cls.__init__ = _building_after(init)


def _building_after(init):
    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        depth = self.__dict__.get("_tfae_init_depth", 0)
        object.__setattr__(self, "_tfae_init_depth", depth + 1)  # not a tracked Keras attribute
        try:
            init(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_tfae_init_depth", depth)
        if depth == 0:
            self._build_after_init()

    # Keras reads a constructor's arguments (its automatic config) with `inspect.getfullargspec`, which sees
    # the wrapper's `*args, **kwargs` unless told the wrapped signature.
    __init__.__signature__ = inspect.signature(init)
    __init__._tfae_builds_after_init = True
    return __init__


def _defining(model: Any, method: str) -> list[type]:
    """The classes of `model` that define `method`, most derived first."""
    return [klass for klass in type(model).__mro__ if method in vars(klass)]


def overridden_outside_tfae(model: Any, method: str) -> bool:
    """Whether the class that gives `model` its `method` is a user's (not one of tfae's or Keras')."""
    owners = _defining(model, method)
    return bool(owners) and not owners[0].__module__.startswith(("tfae.", "keras."))


def compile_for_loading(model: Any):
    """The `compile` that restores `model`'s saved compile configuration when its file loads.

    Keras skips compiling a model whose class overrides `compile()` (the
    optimizer's saved state is then lost), since a custom `compile` may not take
    Keras' arguments. tfae's own `compile` takes them: a user's override is
    passed over for it, with a warning, so the file loads whole.
    """
    if not overridden_outside_tfae(model, "compile"):
        return model.compile
    warnings.warn(
        f"`{type(model).__name__}.compile()` is custom: the model was compiled from its saved configuration by "
        "tfae's `compile()`, without calling yours (the optimizer's state is restored). Call your `compile()` "
        "again after loading if it does more than pass arguments on.",
        stacklevel=_errors.users_frame(),
    )
    tfae_class = next(klass for klass in _defining(model, "compile") if klass.__module__.startswith("tfae."))
    return vars(tfae_class)["compile"].__get__(model, type(model))


def build_called_layers(model: keras.Model, input_shape: tuple[int | None, ...], *,
                        own: tuple[keras.layers.Layer, ...]) -> None:
    """Build the layers a subclass added and calls in its `call`, by running `call` on a symbolic batch.

    Called at the end of a tfae model's `build()`, which builds the model's `own`
    layers itself; a layer of the user's left unbuilt would have no weights to load
    from a saved file. Keras builds a model without `build()` this way, and warns as
    Keras does when it cannot.
    """
    if overridden_outside_tfae(model, "build"):
        return  # the user's `build()` builds what their `call` uses, as for any Keras model
    if all(layer.built for layer in model.layers if not any(layer is part for part in own)):
        return
    try:
        _keras_private.build_by_calling(model, tuple(input_shape))
        for value in vars(model).values():
            if isinstance(value, Handoff):
                value.take(None)  # drop what the symbolic call left (scratch tensors)
    except Exception as error:  # the user's `call`, whatever it raises
        unbuilt = [layer.name for layer in model.layers if not layer.built]
        warnings.warn(
            f"Model {model.name!r} could not build its layers {unbuilt} by calling itself on a symbolic "
            f"batch of shape {input_shape} ({type(error).__name__}: {error}). Build them in an override of "
            "`build()` that calls `super().build(input_shape)`, or their weights will not load from a saved file.",
            stacklevel=_errors.users_frame(),
        )
