"""Runs the Python example of README.md (the first ```python block under "## Python"),
so that it cannot go stale. It runs in a scratch directory where `test` leads to the
repository's test/ (the example reads test/data/fmnist/fmnist_cnn.onnx)."""

import os
import re

from conftest import SOURCE_DIR


def readme_example():
    with open(os.path.join(SOURCE_DIR, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_example(tmp_path, monkeypatch):
    code = readme_example()
    for call in ("edgeq.convert", ".calibrate(", ".fallback(", ".quantize(", ".run(", "quant_report", "DataLoader"):
        assert call in code, "the README example no longer shows " + call
    os.symlink(os.path.join(SOURCE_DIR, "test"), tmp_path / "test")
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "readme_example"}
    exec(compile(code, "README.md (Python example)", "exec"), scope)
    assert os.path.exists(tmp_path / "fmnist_int8.edgeq")
    assert scope["accuracy"] > 0.85
    assert scope["report"].layers and scope["figures"].latency_ms.median > 0
