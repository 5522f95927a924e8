#!/usr/bin/env bash
# Installs edgeq into a scratch prefix, builds test/install (a C app using
# find_package(edgeq) -> edgeq::runtime) against it, runs a model with it, and checks
# that the runtime library needs neither protobuf nor ONNX.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR EDGEQ_BINARY WORK_DIR
set -euo pipefail
build="$1"; src="$2"; edgeq="$3"; work="$4"
rm -rf "$work"; mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/test/install" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$edgeq" convert "$src/test/data/small_qdq.onnx" -o "$work/model.edgeq" >/dev/null
"$work/consumer/consumer" "$work/model.edgeq"
lib=$(find "$work/prefix" -name 'libedgeq_runtime.*' | head -n 1)
[ -n "$lib" ] || { echo "no installed runtime library"; exit 1; }
if nm -C "$lib" 2>/dev/null | grep -qiE "google::protobuf|onnx::"; then
  echo "FAIL: $lib references protobuf or ONNX"; exit 1
fi
echo "install: 1 passed, 0 failed"
