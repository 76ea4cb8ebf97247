"""A pytest plugin for mutation runs only (tests/mutation.py loads it with `-p tests.mutation_plugin`).

mutmut routes every mutated function through a `*args, **kwargs` trampoline. Keras' `Operation.__new__`
reads `inspect.getfullargspec(cls.__init__)`, which ignores `functools.wraps`, and fails on a trampolined
`__init__`. Giving each trampolined `__init__` its `__signature__` makes Keras see the real one. This
patches a mutmut internal: tests/test_mutation.py checks it is still there. A trampoline also puts a frame of
mutmut's between a user's line and the tfae code that warns; `pytest_configure` below passes over it.
"""

import inspect

from mutmut.mutation import trampoline

_wrap_in_trampoline = trampoline.wrap_in_trampoline


def wrap_in_trampoline(mutants_dict, is_classmethod=False):
    decorate = _wrap_in_trampoline(mutants_dict, is_classmethod)

    def decorator(function):
        wrapped = decorate(function)
        if function.__name__ == "__init__":  # only there: `wraps` would copy it onto bound-method wrappers
            wrapped.__signature__ = inspect.signature(function)
        return wrapped

    return decorator


trampoline.wrap_in_trampoline = wrap_in_trampoline


def pytest_configure(config):
    """Let tfae's warnings pass over mutmut's trampolines, as they pass over tfae's own frames.

    A trampoline is one more frame between the user's line and the one that warns: without this, a warning
    would point into mutmut, and the tests that pin where it points would fail for every mutant.
    """
    from tfae import _errors

    if "mutmut" not in _errors.FRAMEWORKS:
        _errors.FRAMEWORKS = (*_errors.FRAMEWORKS, "mutmut")
