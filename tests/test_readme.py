"""Every Python example in the README runs as written, in order, in one namespace."""

import re

from tests.conftest import REPO


def readme_python_blocks():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_has_the_examples_we_promise():
    blocks = readme_python_blocks()
    assert len(blocks) >= 4
    assert any("split_autoencoder" in block for block in blocks)


def test_readme_examples_run_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in readme_python_blocks():
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["z"].shape == (2000, 128)
    assert namespace["fake"].shape == (16, 784)
    assert namespace["codes"].shape == (2000, 128)
    assert (tmp_path / "ae.keras").exists() and (tmp_path / "reconstructions.png").exists()
    assert namespace["g2"].reconstruct(namespace["x_test"][:3]).shape == (3, 784)
    assert isinstance(namespace["best"], namespace["tfae"].AutoEncoder)
