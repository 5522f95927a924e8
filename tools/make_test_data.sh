#!/usr/bin/env bash
# make_test_data.sh - regenerate the committed test data in test/data/.
#
# Usage: tools/make_test_data.sh [OUT_DIR]     (default: test/data)
#
# Writes, deterministically (fixed seeds, ONNX Runtime on one thread):
#   OUT/small_*.onnx      small CNN: float, QDQ, QDQ with per-channel weights
#   OUT/ops/*.onnx        single-op float models
#   OUT/qop/*.onnx        hand-built QOperator models
#   OUT/island/*.onnx     QDQ float islands that become int8 tables (make_island_models.py)
#   OUT/transformer/*.onnx  transformer encoders, float / dynamic int8 / QDQ, with their
#                         own OUT/transformer/manifest.json (make_transformer_models.py)
#   OUT/manifest.json     list of models, inputs, goldens, output qparams (not transformer/)
# each model with NAME.input*.npy and NAME.ort*.npy (ONNX Runtime's outputs).
#
# The large models (MobileNetV2, ResNet-18) are not committed; build them with
#   /usr/bin/python3 tools/make_models.py --out BUILD_DIR --only big
#
# Needs /usr/bin/python3 with torch, torchvision, onnx, numpy (override with
# PYTHON=...) and ONNX Runtime for node (installed here by tools/setup_ort.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="${1:-$repo/test/data}"
python="${PYTHON:-/usr/bin/python3}"

"$here/setup_ort.sh" >/dev/null

# Start from a clean tree so stale files never linger in the manifest.
rm -rf "$out/ops" "$out/qop" "$out/island" "$out/transformer"
rm -f "$out"/small_*.onnx "$out"/small_*.npy "$out/manifest.json"
mkdir -p "$out"

"$python" "$here/make_models.py" --out "$out" --only committed --no-manifest
"$python" "$here/make_qop_models.py" --out "$out" --no-manifest
"$python" "$here/make_island_models.py" --out "$out"
"$python" "$here/make_transformer_models.py" --out "$out"
"$python" "$here/make_models.py" --out "$out" --manifest-only
du -sh "$out"
