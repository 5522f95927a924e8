#!/usr/bin/env bash
# Makes the fuzzers' seed corpora (fuzz/corpus/NAME) from the small models and arrays
# in test/data, with the edgeq tool:
#   onnx       the single-op ONNX models (float, QOperator int8)
#   load       those models converted to .edgeq, and int8 .edgeq files calibrated from
#              the float ones (every quantized op the calibrator makes)
#   calibrate  the float .edgeq files
#   stats      statistics files saved by `edgeq calibrate --stats`
#   npy        small NPY inputs, and one array of each dtype the reader takes
#              (Debian's python3-numpy)
# Only files up to 8 KiB are kept: small seeds keep the fuzzers fast.
#
# usage: fuzz/make_corpus.sh EDGEQ_TOOL [OUT_DIR]   (OUT_DIR: fuzz/corpus)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
edgeq="${1:?usage: fuzz/make_corpus.sh EDGEQ_TOOL [OUT_DIR]}"
out="${2:-$root/fuzz/corpus}"
data="$root/test/data"
max=8192
small() { [ "$(stat -c %s "$1")" -le "$max" ]; }

rm -rf "$out"
mkdir -p "$out"/{onnx,load,calibrate,stats,npy}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for f in "$data"/ops/*.onnx "$data"/qop/*.onnx; do
  name="$(basename "$f" .onnx)"
  small "$f" && cp "$f" "$out/onnx/$name.onnx"
  "$edgeq" convert "$f" -o "$tmp/$name.edgeq" >/dev/null 2>&1 || continue
  small "$tmp/$name.edgeq" && cp "$tmp/$name.edgeq" "$out/load/$name.edgeq"
done

# Float single-op models: the calibrator's seeds, and calibrated to int8 for the loader.
for f in "$data"/ops/*.onnx; do
  name="$(basename "$f" .onnx)"
  input="$data/ops/$name.input.npy"
  [ -f "$tmp/$name.edgeq" ] && [ -f "$input" ] || continue
  small "$tmp/$name.edgeq" && cp "$tmp/$name.edgeq" "$out/calibrate/$name.edgeq"
  "$edgeq" calibrate "$tmp/$name.edgeq" --data "$input" --method histogram --stats "$tmp/$name.stats" \
    -o "$tmp/$name.int8.edgeq" >/dev/null 2>&1 || continue
  small "$tmp/$name.int8.edgeq" && cp "$tmp/$name.int8.edgeq" "$out/load/$name.int8.edgeq"
  small "$tmp/$name.stats" && cp "$tmp/$name.stats" "$out/stats/$name.stats"
  small "$input" && cp "$input" "$out/npy/$name.npy"
done

/usr/bin/python3 - "$out/npy" <<'PY'
import sys
import numpy as np
out = sys.argv[1]
for dtype in ("<f4", "i1", "u1", "<i4", "<i8"):
    np.save(f"{out}/dtype_{dtype.strip('<')}.npy", np.arange(24, dtype=dtype).reshape(2, 3, 4))
np.save(f"{out}/dtype_b1.npy", np.arange(24).reshape(2, 3, 4) % 3 == 0)
np.save(f"{out}/scalar.npy", np.float32(1.5))
np.save(f"{out}/empty.npy", np.zeros((0, 3), dtype="<f4"))
PY
for d in onnx load calibrate stats npy; do
  echo "$d: $(ls "$out/$d" | wc -l) files, $(du -sk "$out/$d" | cut -f1) KiB"
done
