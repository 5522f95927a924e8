#!/usr/bin/env bash
# `pip install .` of the Python package into a virtual environment, with no downloads:
# python3 -m venv --system-site-packages (NumPy and setuptools from Debian), then
# pip install --no-build-isolation --no-index SOURCE_DIR, which builds the module with
# CMake in BUILD_DIR (up to date already: nothing to do) and installs it. Then the
# installed package, imported from outside the source and build trees, runs a model.
# Usage: pip_install_test.sh SOURCE_DIR BUILD_DIR PYTHON WORK_DIR
set -euo pipefail
src="$1"; build="$2"; python="$3"; work="$4"
rm -rf "$work"; mkdir -p "$work"
"$python" -m venv --system-site-packages "$work/venv"
EDGEQ_BUILD_DIR="$build" "$work/venv/bin/python" -m pip install -q --no-build-isolation --no-index "$src"
cd "$work"
"$work/venv/bin/python" - "$src" "$work" <<'PY'
import os, sys
import numpy as np
import edgeq
src, work = sys.argv[1], sys.argv[2]
where = os.path.realpath(edgeq.__file__)
assert where.startswith(os.path.realpath(work) + "/venv/"), "imported from " + where
pkg = os.path.dirname(where)
assert os.path.exists(os.path.join(pkg, "_edgeq.pyi")) and os.path.exists(os.path.join(pkg, "py.typed"))
assert "Calibrator" in edgeq.Calibrator.__doc__ and edgeq.Session.run.__doc__
model = os.path.join(work, "small_qdq.edgeq")
edgeq.convert(os.path.join(src, "test", "data", "small_qdq.onnx"), model)
s = edgeq.Model(model).session()
x = np.load(os.path.join(src, "test", "data", "small_qdq.input.npy"))[: s.inputs[0].shape[0]]
(y,) = s.run(np.ascontiguousarray(x))
assert y.shape == s.outputs[0].shape and np.isfinite(y).all()
print("pip install: edgeq %s from %s ran %s -> %s" % (edgeq.__version__, pkg, x.shape, y.shape))
PY
"$work/venv/bin/python" -m pip uninstall -q -y edgeq
echo "pip install: 1 passed, 0 failed"
