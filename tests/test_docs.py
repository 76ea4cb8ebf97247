"""Every Python block of the documentation runs: the pages in docs/ and the Example sections of docstrings.

A page's blocks run in order, in one namespace, in a temporary folder. A slow block
may be preceded by an HTML comment (invisible on the site) naming a smaller setting:
`<!-- docs-test: replace "epochs=50" "epochs=1" -->` changes that text in the next
block before it runs. That is the one documented way a block differs from the test.
A docstring's Example runs with `tfae`, `keras`, `np` and a slice of the MNIST
sample (`x_train`, `y_train`, `x_test`, `y_test`) already defined.
The blocks run in CI's slow suite (`python -m pytest -m slow tests`).
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

import tfae
from tests.conftest import REPO

DOCS = REPO / "docs"
BLOCK = re.compile(r"(?:<!-- docs-test: (?P<directives>.*?) -->\s*\n)?```python\n(?P<code>.*?)```", re.S)
REPLACE = re.compile(r'replace "(.*?)" "(.*?)"')


def page_blocks(path):
    """The page's Python blocks, with their `docs-test` replacements applied."""
    blocks = []
    for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
        code = match["code"]
        for old, new in REPLACE.findall(match["directives"] or ""):
            assert old in code, f"{path.name}: the docs-test replacement {old!r} is not in its block"
            code = code.replace(old, new)
        blocks.append(code)
    return blocks


PAGES = sorted(path for path in DOCS.glob("*.md") if page_blocks(path))


@pytest.mark.slow  # about a minute in all: run by .ci/run's slow suite, beside the README's test command
@pytest.mark.parametrize("page", PAGES, ids=[path.name for path in PAGES])
def test_every_python_block_of_the_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(page_blocks(page)):
        exec(compile(code, f"{page.name} block {number + 1}", "exec"), namespace)


def public_objects():
    """(dotted name, object) of every public class, function and method tfae documents."""
    modules = [tfae] + [importlib.import_module(f"tfae.{name}") for name in
                        ("callbacks", "datasets", "distribute", "plotting", "presets", "tuning", "losses")]
    seen, found = set(), []
    for module in modules:
        for name in getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]:
            value = getattr(module, name)
            if not (inspect.isclass(value) or inspect.isfunction(value)) or not value.__module__.startswith("tfae"):
                continue
            if id(value) in seen:
                continue
            seen.add(id(value))
            found.append((f"{module.__name__}.{name}", value))
    return found


def docstring_examples(value):
    """The code of the Example section: its ```python blocks, or its `>>>` lines (outputs not compared)."""
    doc = inspect.getdoc(value) or ""
    example = re.split(r"^Examples?:\s*$", doc, flags=re.M)
    if len(example) < 2:
        return []
    fenced = re.findall(r"```python\n(.*?)```", example[1], re.S)
    prompts = [line.strip()[4:] for line in example[1].splitlines() if line.strip()[:4] in (">>> ", "... ")]
    return fenced or (["\n".join(prompts)] if prompts else [])


def example_namespace():
    """What an Example may use without importing: tfae, keras, numpy as np and the shipped MNIST sample."""
    import keras
    import numpy as np

    (x_train, y_train), (x_test, y_test) = tfae.datasets.load_mnist_sample()
    return {"__name__": "example", "tfae": tfae, "keras": keras, "np": np, "x_train": x_train[:1024],
            "y_train": y_train[:1024], "x_test": x_test[:256], "y_test": y_test[:256]}


def test_every_public_class_and_function_documents_each_argument():
    missing = []
    for name, value in public_objects():
        doc = inspect.getdoc(value) or ""
        if not doc:
            missing.append(f"{name}: no docstring")
            continue
        target = value.__init__ if inspect.isclass(value) else value
        try:
            parameters = [p for p in inspect.signature(target).parameters if p not in ("self", "args", "kwargs")]
        except (TypeError, ValueError):
            parameters = []
        if parameters and "Args:" not in doc:
            missing.append(f"{name}: no Args section")
            continue
        # An entry documents one argument or several alike: "dropout: ..." or "kernel_initializer, bias_initializer: ...".
        entries = re.findall(r"^\s+(\*{0,2}\w+(?:, \*{0,2}\w+)*)(?:\s*\(.*?\))?:", doc.split("Args:", 1)[-1], re.M)
        documented = {entry.strip("*") for line in entries for entry in line.split(", ")}
        undocumented = [p for p in parameters if p not in documented]
        if undocumented:
            missing.append(f"{name}: {undocumented} not in its Args section")
    assert not missing, "\n".join(missing)


def test_every_public_class_and_function_has_an_example_with_code():
    missing = [name for name, value in public_objects() if not docstring_examples(value)]
    assert not missing, f"no Example section with code: {missing}"


EXAMPLES = [(name, code) for name, value in public_objects() for code in docstring_examples(value)]


@pytest.mark.slow
@pytest.mark.parametrize("name,code", EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_docstring_example_runs(name, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{name} example", "exec"), example_namespace())
