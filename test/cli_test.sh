#!/usr/bin/env bash
# Tests of the `edgeq` tool: the normal path (convert, info, run) and its answers to
# bad input. Every bad input must give a non-zero exit, a message on stderr, and no
# crash (an exit status of 128 or more means a signal).
# Usage: cli_test.sh EDGEQ_BINARY TEST_DATA_DIR WORK_DIR
set -u
edgeq="$1"; data="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
passed=0; failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

# expect_ok NAME CMD...: exit 0
expect_ok() {
  local name="$1"; shift
  if "$@" >"$work/out" 2>"$work/err"; then ok; else bad "$name (exit $?): $(cat "$work/err")"; fi
}
# expect_error NAME PATTERN CMD...: non-zero exit below 128, PATTERN in stderr
expect_error() {
  local name="$1" pattern="$2"; shift 2
  "$@" >"$work/out" 2>"$work/err"; local rc=$?
  if [ $rc -eq 0 ]; then bad "$name: exit 0"; return; fi
  if [ $rc -ge 128 ]; then bad "$name: killed by a signal (exit $rc)"; return; fi
  if ! grep -qi -- "$pattern" "$work/err"; then bad "$name: stderr lacks '$pattern': $(cat "$work/err")"; return; fi
  ok
}

m="$work/small_qdq.edgeq"
expect_ok "convert" "$edgeq" convert "$data/small_qdq.onnx" -o "$m"
expect_ok "info" "$edgeq" info "$m"
grep -q "arena (planned)" "$work/out" && grep -q "lower bound" "$work/out" && grep -q "Conv2D" "$work/out" \
  && ok || bad "info output lacks the memory plan or ops"
expect_ok "run" "$edgeq" run "$m" --input "$data/small_qdq.input.npy" --output "$work/y.npy"
grep -q "top-5" "$work/out" && ok || bad "run prints no top-5"
[ -s "$work/y.npy" ] && ok || bad "run wrote no output"
expect_ok "run --raw" "$edgeq" run "$m" --input "$data/small_qdq.input.npy" --output "$work/yq.npy" --raw
head -c 64 "$work/yq.npy" | grep -q "'|u1'\|'|i1'" && ok || bad "--raw did not write int8/uint8"
expect_ok "convert --requant fixed" "$edgeq" convert "$data/small_qdq.onnx" -o "$work/fixed.edgeq" --requant fixed
expect_ok "run fixed-point model" "$edgeq" run "$work/fixed.edgeq" --input "$data/small_qdq.input.npy"
for sub in convert info run eval export-onnx; do expect_ok "$sub --help" "$edgeq" "$sub" --help; done

# Many samples: a directory of two batch-sized files runs as two batches into one NPY,
# and eval scores the model against its own top-1 (100%) and against shifted labels.
mkdir -p "$work/batches"
cp "$data/small_qdq.input.npy" "$work/batches/a.npy"; cp "$data/small_qdq.input.npy" "$work/batches/b.npy"
expect_ok "run two batches" "$edgeq" run "$m" --input "$work/batches" --output "$work/y2.npy"
grep -q "ran 2 batches (4 samples)" "$work/out" && ok || bad "run did not report 2 batches: $(cat "$work/out")"
/usr/bin/python3 - "$work" <<'PY' && ok || bad "two-batch output is not the one-batch output twice, or labels failed"
import sys, numpy as np
w = sys.argv[1]
y1, y2 = np.load(w + "/y.npy"), np.load(w + "/y2.npy")
assert y2.shape == (2 * y1.shape[0],) + y1.shape[1:], (y1.shape, y2.shape)
assert (y2[: len(y1)] == y1).all() and (y2[len(y1):] == y1).all()
labels = y2.argmax(axis=1).astype(np.int64)
np.save(w + "/labels.npy", labels)
np.save(w + "/wrong.npy", (labels + 1) % y2.shape[1])
PY
expect_ok "eval" "$edgeq" eval "$m" --input "$work/batches" --labels "$work/labels.npy"
grep -q "top-1: 100.00% (4)" "$work/out" && ok || bad "eval on its own predictions: $(cat "$work/out")"
expect_ok "eval wrong labels" "$edgeq" eval "$m" --input "$work/batches" --labels "$work/wrong.npy"
grep -q "top-1: 0.00% (0)" "$work/out" && ok || bad "eval on shifted labels: $(cat "$work/out")"
expect_error "eval label count" "labels for" "$edgeq" eval "$m" --input "$data/small_qdq.input.npy" --labels "$work/labels.npy"
expect_error "eval float labels" "integers" "$edgeq" eval "$m" --input "$data/small_qdq.input.npy" --labels "$work/y.npy"

# export-onnx: the model back to QDQ ONNX, which converts again and gives the same output.
expect_ok "export-onnx" "$edgeq" export-onnx "$m" -o "$work/exported.onnx"
grep -q "wrote .*exported.onnx" "$work/out" && ok || bad "export-onnx printed no summary: $(cat "$work/out")"
expect_ok "convert exported" "$edgeq" convert "$work/exported.onnx" -o "$work/exported.edgeq"
expect_ok "run exported" "$edgeq" run "$work/exported.edgeq" --input "$data/small_qdq.input.npy" --output "$work/y_exported.npy"
cmp -s "$work/y.npy" "$work/y_exported.npy" && ok || bad "the exported model's output differs from the original's"

# Bad input.
expect_error "export-onnx missing model" "cannot open" "$edgeq" export-onnx "$work/nope.edgeq" -o "$work/nope.onnx"
[ ! -e "$work/nope.onnx" ] && ok || bad "a failed export left a file"
echo "not a model" > "$work/notmodel.edgeq"
expect_error "export-onnx not a model" "error" "$edgeq" export-onnx "$work/notmodel.edgeq" -o "$work/garbage_export.onnx"
[ ! -e "$work/garbage_export.onnx" ] && ok || bad "a failed export left a file"
expect_error "export-onnx unwritable output" "cannot write" "$edgeq" export-onnx "$m" -o "$work/no/such/dir/x.onnx"
expect_error "export-onnx no output" "output" "$edgeq" export-onnx "$m"
expect_error "no subcommand" "subcommand" "$edgeq"
expect_error "unknown flag" "--frobnicate" "$edgeq" run "$m" --input "$data/small_qdq.input.npy" --frobnicate
expect_error "convert missing file" "does not exist\|not exist" "$edgeq" convert "$work/nope.onnx" -o "$work/x.edgeq"
echo "this is not protobuf" > "$work/garbage.onnx"
expect_error "convert garbage" "error" "$edgeq" convert "$work/garbage.onnx" -o "$work/garbage.edgeq"
[ ! -e "$work/garbage.edgeq" ] && ok || bad "a failed conversion left a file"
expect_error "info missing file" "cannot open" "$edgeq" info "$work/nope.edgeq"
head -c 300 "$m" > "$work/truncated.edgeq"
expect_error "info truncated" "error" "$edgeq" info "$work/truncated.edgeq"
cp "$m" "$work/flipped.edgeq"; printf '\x07' | dd of="$work/flipped.edgeq" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_error "wrong version" "version" "$edgeq" info "$work/flipped.edgeq"
expect_error "info on a directory" "directory" "$edgeq" info "$work"
expect_error "run wrong shape" "shape" "$edgeq" run "$m" --input "$data/small_qdq_perchannel.input.npy"
expect_error "run missing input file" "cannot open" "$edgeq" run "$m" --input "$work/none.npy"
expect_error "run not npy" "NPY" "$edgeq" run "$m" --input "$work/garbage.onnx"
expect_error "run too many inputs" "inputs" "$edgeq" run "$m" --input "$data/small_qdq.input.npy" --input "$data/small_qdq.input.npy"
expect_error "run bad isa" "unknown ISA" "$edgeq" run "$m" --input "$data/small_qdq.input.npy" --isa avx9000
expect_error "bad threads" "threads" "$edgeq" run "$m" --input "$data/small_qdq.input.npy" --threads -3

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
