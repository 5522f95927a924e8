"""Fixtures of the Python package's tests (run by the ctest `python`, see test/sources.cmake).

Environment (set by ctest): PYTHONPATH holds the built package (build/python),
EDGEQ_CLI the edgeq tool (the tests compare the package with it), EDGEQ_TEST_WORK a
scratch directory. Run by hand:
    PYTHONPATH=build/python EDGEQ_CLI=build/edgeq /usr/bin/python3 -m pytest test/python
"""

import os
import subprocess

import numpy as np
import pytest

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(SOURCE_DIR, "test", "data")


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("EDGEQ_CLI", os.path.join(SOURCE_DIR, "build", "edgeq"))
    assert os.path.exists(path), "the edgeq tool is needed (EDGEQ_CLI): %s" % path

    def run(*args):
        r = subprocess.run([path, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, "edgeq %s failed:\n%s" % (" ".join(map(str, args)), r.stderr)
        return r.stdout, r.stderr

    return run


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    base = os.environ.get("EDGEQ_TEST_WORK")
    if base:
        os.makedirs(base, exist_ok=True)
        return base
    return str(tmp_path_factory.mktemp("edgeq"))


@pytest.fixture(scope="session")
def small(work):
    """The committed int8 CNN (QDQ from PyTorch), its float twin, and their input."""
    import edgeq
    q = os.path.join(work, "small_qdq.edgeq")
    f = os.path.join(work, "small_f32.edgeq")
    edgeq.convert(os.path.join(DATA, "small_qdq.onnx"), q)
    edgeq.convert(os.path.join(DATA, "small_f32.onnx"), f)
    return {"int8": q, "float": f, "input": os.path.join(DATA, "small_qdq.input.npy"),
            "float_input": os.path.join(DATA, "small_f32.input.npy")}


def calibration_samples(n, seed=7, shape=(1, 3, 32, 32)):
    """n float32 samples, each of `shape`, from a fixed seed."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]
