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
for sub in convert info run eval bench export-onnx pack; do expect_ok "$sub --help" "$edgeq" "$sub" --help; done

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

# bench: a short --json run parses and holds every figure; the text report and the
# profile; the MACs of the stem conv (16 x 3 x 3x3 over 2 x 32x32 pixels) and of the FC.
expect_ok "bench --json" "$edgeq" bench "$m" --runs 3 --warmup 1 --json --profile
/usr/bin/python3 - "$work/out" <<'PY' && ok || bad "bench --json output: $(head -c 600 "$work/out")"
import json, sys
j = json.load(open(sys.argv[1]))
for k in ["model", "isa", "threads", "load_ms", "session_ms", "arena_bytes", "packed_bytes", "peak_rss_bytes",
          "first_run_ms", "latency_ms", "samples_ms", "runs", "macs", "kernels", "profile"]:
    assert k in j, k
assert j["runs"] == 3 and len(j["samples_ms"]) == 3 and j["threads"] == 1 and j["isa"]
lat = j["latency_ms"]
assert 0 < lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat
assert j["arena_bytes"] > 0 and j["peak_rss_bytes"] > 0 and j["load_ms"] > 0 and j["session_ms"] > 0
assert sum(j["kernels"].values()) == j["nodes"]
nodes = j["profile"]["nodes"]
assert len(nodes) == j["nodes"] and sorted(n["index"] for n in nodes) == list(range(j["nodes"]))
assert all(a["median_ms"] >= b["median_ms"] for a, b in zip(nodes, nodes[1:])), "not sorted by time"
assert abs(sum(n["share_pct"] for n in nodes) - 100) < 0.01
macs = {n["name"]: n["macs"] for n in nodes}
assert macs["/0/Conv"] == 2 * 32 * 32 * 16 * 3 * 3 * 3, macs["/0/Conv"]
assert macs["/fc/Gemm"] == 2 * 10 * 32, macs["/fc/Gemm"]
assert j["macs"] == sum(macs.values())
types = {t["op"]: t for t in j["profile"]["op_types"]}
assert types["Conv2D dw"]["count"] == 1 and types["Conv2D"]["count"] == 5, types
PY
expect_ok "bench text" "$edgeq" bench "$m" --runs 2 --warmup 0 --profile --threads 2
for want in "session creation" "peak RSS" "median" "p99" "threads:          2" "per-node profile" "per op type"; do
  grep -q "$want" "$work/out" && ok || bad "bench text lacks '$want': $(cat "$work/out")"
done
expect_ok "bench --min-time" "$edgeq" bench "$m" --runs 1 --warmup 0 --min-time 0.05 --json
/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert sum(j['samples_ms']) >= 50" \
  "$work/out" && ok || bad "bench --min-time stopped early: $(head -c 300 "$work/out")"

# pack / convert --pack: weights pre-packed for every level (the ARM ones too, on this
# host) give the same output bytes; a session on a packed level uses them in place.
expect_ok "pack" "$edgeq" pack "$m" avx2,avxvnni,avx512vnni,neon,neondot,neoni8mm -o "$work/packed.edgeq"
grep -q "pre-packed for" "$work/out" && ok || bad "pack printed no summary: $(cat "$work/out")"
expect_ok "run pre-packed" "$edgeq" run "$work/packed.edgeq" --input "$data/small_qdq.input.npy" \
  --output "$work/yqp.npy" --raw
cmp -s "$work/yq.npy" "$work/yqp.npy" && ok || bad "the pre-packed model's output differs"
expect_ok "convert --pack" "$edgeq" convert "$data/small_qdq.onnx" -o "$work/cpacked.edgeq" --pack neondot,avx2
expect_ok "bench pre-packed" "$edgeq" bench "$work/packed.edgeq" --runs 1 --warmup 0 --sessions 3 --json
/usr/bin/python3 - "$work/out" <<'PY' && ok || bad "bench --sessions output: $(head -c 600 "$work/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert len(j["later_session_ms"]) == 2 and len(j["later_session_cpu_ms"]) == 2, j
if j["isa"] != "ref":
    assert j["prepacked_bytes"] > 0, j
PY
expect_error "pack bad level" "unknown kernel level" "$edgeq" pack "$m" avx2,avx9000 -o "$work/x.edgeq"
expect_error "pack ref" "unknown kernel level" "$edgeq" pack "$m" ref -o "$work/x.edgeq"
expect_error "pack missing file" "cannot open" "$edgeq" pack "$work/nope.edgeq" avx2 -o "$work/x.edgeq"
expect_error "convert --pack bad level" "unknown kernel level" "$edgeq" convert "$data/small_qdq.onnx" \
  -o "$work/x.edgeq" --pack neon,
[ ! -e "$work/x.edgeq" ] && ok || bad "a failed pack left an output file"
expect_error "bench sessions 0" "sessions" "$edgeq" bench "$m" --sessions 0

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
# convert --shape: a BERT export whose batch and sequence are symbolic.
bert="$data/transformer/bert_tiny_dynamic.onnx"
expect_error "convert symbolic sequence without --shape" "dimension 1 ('sequence')" \
  "$edgeq" convert "$bert" -o "$work/bert.edgeq"
expect_ok "convert --shape" "$edgeq" convert "$bert" -o "$work/bert.edgeq" \
  --shape input_ids=1x16,attention_mask=1x16,token_type_ids=1x16
expect_ok "info bert" "$edgeq" info "$work/bert.edgeq"
grep -q "input  'input_ids' s64 \[1,16\]" "$work/out" && ok || bad "bert input is not s64 [1,16]: $(head -8 "$work/out")"
expect_error "convert --shape bad" "not a positive integer" "$edgeq" convert "$bert" -o "$work/bert2.edgeq" --shape input_ids=1xq
expect_ok "convert --shape once per input" "$edgeq" convert "$bert" -o "$work/bert3.edgeq" \
  --shape input_ids=1x16 --shape attention_mask=1x16 --shape token_type_ids=1x16
cmp -s "$work/bert.edgeq" "$work/bert3.edgeq" && ok || bad "--shape given once per input wrote another file"

# A keyword spotter of 1-D convolutions, calibrated: every level gives the same bytes,
# and no int8 node runs on the reference kernels.
expect_ok "convert kws1d" "$edgeq" convert "$data/kws1d_f32.onnx" -o "$work/kws.edgeq"
expect_ok "calibrate kws1d" "$edgeq" calibrate "$work/kws.edgeq" --data "$data/kws1d_f32.input.npy" -o "$work/kws_q.edgeq"
for isa in ref avx2 avx512vnni amx; do
  "$edgeq" run "$work/kws_q.edgeq" --isa "$isa" --raw -i "$data/kws1d_f32.input.npy" -o "$work/kws_$isa.npy" \
    >/dev/null 2>&1 || continue  # a level this CPU lacks
  cmp -s "$work/kws_ref.npy" "$work/kws_$isa.npy" && ok || bad "kws1d int8 at $isa differs from ref"
done
expect_ok "bench kws1d int8" "$edgeq" bench "$work/kws_q.edgeq" --runs 2
grep "^kernels:" "$work/out" | grep -q "ref x" && bad "kws1d int8 runs nodes on ref: $(grep '^kernels:' "$work/out")" || ok

# A bool padding mask: NPY 'b1' data for a bool input, and bench's all-false mask.
padmask="$data/transformer/encoder_padmask"
expect_ok "convert bool mask model" "$edgeq" convert "$padmask.onnx" -o "$work/padmask.edgeq"
expect_ok "run bool mask" "$edgeq" run "$work/padmask.edgeq" -i "$padmask.input0.npy" "$padmask.input1.npy" \
  -o "$work/padmask_out.npy"
/usr/bin/python3 -c "
import numpy as np, sys
a, b = np.load('$work/padmask_out.npy'), np.load('$padmask.ort.npy')
sys.exit(0 if a.shape == b.shape and np.abs(a - b).max() <= 1e-4 * max(1, np.abs(b).max()) else 1)" \
  && ok || bad "edgeq run on the bool mask model differs from ONNX Runtime"
expect_error "run bool mask with float data" "takes int64 or int32 values or bools" \
  "$edgeq" run "$work/padmask.edgeq" -i "$padmask.input0.npy" "$padmask.input0.npy"
expect_ok "bench bool mask" "$edgeq" bench "$work/padmask.edgeq" --runs 2
grep -q "'pad' bool \[1,12\] (random, fixed seed, all false)" "$work/out" && ok || bad "bench does not say the mask is all false: $(grep input "$work/out")"
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
expect_error "bench missing file" "cannot open" "$edgeq" bench "$work/nope.edgeq" --runs 1
expect_error "bench truncated" "error" "$edgeq" bench "$work/truncated.edgeq" --runs 1
expect_error "bench runs 0" "runs" "$edgeq" bench "$m" --runs 0
expect_error "bench runs not a number" "runs" "$edgeq" bench "$m" --runs many
expect_error "bench negative warmup" "warmup" "$edgeq" bench "$m" --warmup -1
expect_error "bench unknown flag" "--frobnicate" "$edgeq" bench "$m" --frobnicate
expect_error "bench bad isa" "unknown ISA" "$edgeq" bench "$m" --isa avx9000
expect_error "bench no model" "model" "$edgeq" bench
expect_error "bad threads" "threads" "$edgeq" run "$m" --input "$data/small_qdq.input.npy" --threads -3

# Calibration: a float model and random data; every method; the statistics cache gives
# the same model as a fresh run; fallback keeps layers in float; quant-report prints
# per-layer figures.
f32="$work/small_f32.edgeq"
expect_ok "convert float" "$edgeq" convert "$data/small_f32.onnx" -o "$f32"
/usr/bin/python3 -c "import numpy as np; np.random.seed(0); np.save('$work/calib.npy', (np.random.rand(16, 3, 32, 32) * 2 - 1).astype('float32'))" \
  && ok || bad "could not make calibration data"
for method in minmax ema histogram percentile entropy mse; do
  expect_ok "calibrate $method" "$edgeq" calibrate "$f32" --data "$work/calib.npy" --method "$method" -o "$work/q_$method.edgeq" --stats "$work/stats.txt"
  grep -q "int8 ops, 0 float ops" "$work/out" && ok || bad "calibrate $method: $(cat "$work/out")"
done
expect_ok "calibrate from stats" "$edgeq" calibrate "$f32" --stats "$work/stats.txt" --method mse -o "$work/q_cached.edgeq"
cmp -s "$work/q_cached.edgeq" "$work/q_mse.edgeq" && ok || bad "the stats cache gave another model than the data"
expect_ok "calibrate fallback" "$edgeq" calibrate "$f32" --data "$work/calib.npy" --fallback 2 -o "$work/q_fb.edgeq"
grep -q "2 float ops" "$work/out" && ok || bad "--fallback 2 did not keep 2 float ops: $(cat "$work/out")"
expect_ok "calibrate per-tensor int8" "$edgeq" calibrate "$f32" --data "$work/calib.npy" --per-tensor --act-dtype int8 -o "$work/q_pt.edgeq"
expect_ok "calibrate dynamic" "$edgeq" calibrate "$f32" --dynamic -o "$work/q_dyn.edgeq"
expect_ok "calibrate dynamic per tensor" "$edgeq" calibrate "$f32" --dynamic --dynamic-mode tensor -o "$work/q_dyn_t.edgeq"
expect_error "calibrate bad dynamic mode" "dynamic-mode" "$edgeq" calibrate "$f32" --dynamic --dynamic-mode column -o "$work/z.edgeq"
expect_error "calibrate full-int8 dynamic" "full-int8" "$edgeq" calibrate "$f32" --dynamic --full-int8 -o "$work/z.edgeq"
expect_ok "calibrate full-int8" "$edgeq" calibrate "$f32" --stats "$work/stats.txt" --full-int8 -o "$work/q_full.edgeq"
grep -q "int8 ops, 0 float ops" "$work/out" && ok || bad "calibrate --full-int8: $(cat "$work/out")"
expect_ok "quant-report" "$edgeq" quant-report "$f32" "$work/q_minmax.edgeq" --data "$work/calib.npy"
grep -q "SQNR iso" "$work/out" && grep -q "top-1 agreement" "$work/out" && ok || bad "quant-report output: $(cat "$work/out")"
expect_ok "run calibrated" "$edgeq" run "$work/q_fb.edgeq" --input "$work/calib.npy"
expect_error "calibrate without data" "--data" "$edgeq" calibrate "$f32" -o "$work/z.edgeq"
expect_error "calibrate int8 model" "not a float model" "$edgeq" calibrate "$m" --data "$work/calib.npy" -o "$work/z.edgeq"
expect_error "calibrate bad exclude" "no node named" "$edgeq" calibrate "$f32" --data "$work/calib.npy" --exclude nope -o "$work/z.edgeq"

# Several and integer inputs: a BERT encoder (int64 input_ids, attention_mask,
# token_type_ids, vocabulary 100) calibrated from one NPY file per input, in graph
# input order or as NAME=FILE, statically (every method, --full-int8), dynamically,
# and reported; a missing input, mismatched sample counts, a wrong dtype or shape, an
# unknown name and an id outside the vocabulary are errors.
mi="$work/multi"; mkdir -p "$mi"
bert="$mi/bert_tiny.edgeq"
expect_ok "convert bert" "$edgeq" convert "$data/transformer/bert_tiny.onnx" -o "$bert"
/usr/bin/python3 - "$mi" <<'PY' && ok || bad "could not make BERT calibration data"
import sys, numpy as np
w = sys.argv[1]
rng = np.random.default_rng(0)
n, s = 12, 16
ids = rng.integers(1, 100, (n, s)).astype(np.int64)
mask = (np.arange(s)[None, :] < rng.integers(8, s + 1, (n, 1))).astype(np.int64)
types = (np.arange(s)[None, :] >= s // 2).astype(np.int64).repeat(n, axis=0)
np.save(w + "/ids.npy", ids); np.save(w + "/mask.npy", mask); np.save(w + "/types.npy", types)
np.save(w + "/types10.npy", types[:10])
np.save(w + "/ids_f32.npy", ids.astype(np.float32))
np.save(w + "/ids_short.npy", ids[:, :8])
bad = ids.copy(); bad[3, 5] = 100
np.save(w + "/ids_bad.npy", bad)
PY
for method in minmax histogram entropy percentile mse ema; do
  expect_ok "calibrate bert $method" "$edgeq" calibrate "$bert" --data "$mi/ids.npy" "$mi/mask.npy" "$mi/types.npy" \
    --method "$method" -o "$mi/bert_$method.edgeq" --stats "$mi/bert_stats.txt"
  grep -q "int8 ops" "$work/out" && ok || bad "calibrate bert $method: $(cat "$work/out")"
done
grep -q "observed 12 batches of 1" "$work/err" && ok || bad "calibrate bert did not observe 12 batches: $(cat "$work/err")"
expect_ok "calibrate bert named" "$edgeq" calibrate "$bert" --data "token_type_ids=$mi/types.npy" \
  "input_ids=$mi/ids.npy" "attention_mask=$mi/mask.npy" --method ema -o "$mi/bert_named.edgeq"
cmp -s "$mi/bert_named.edgeq" "$mi/bert_ema.edgeq" && ok || bad "NAME=FILE gave another model than graph order"
expect_ok "calibrate bert full-int8" "$edgeq" calibrate "$bert" --stats "$mi/bert_stats.txt" --full-int8 -o "$mi/bert_full.edgeq"
expect_ok "calibrate bert fallback" "$edgeq" calibrate "$bert" --data "$mi/ids.npy" "$mi/mask.npy" "$mi/types.npy" \
  --fallback 1 -o "$mi/bert_fb.edgeq"
expect_ok "calibrate bert dynamic" "$edgeq" calibrate "$bert" --dynamic -o "$mi/bert_dyn.edgeq"
for q in bert_minmax bert_full bert_fb bert_dyn; do
  expect_ok "quant-report $q" "$edgeq" quant-report "$bert" "$mi/$q.edgeq" --data "$mi/ids.npy" "$mi/mask.npy" "$mi/types.npy"
  grep -q "output 'sequence_output': SQNR [0-9]" "$work/out" && ok || bad "quant-report $q output: $(cat "$work/out")"
done
expect_ok "run bert full-int8" "$edgeq" run "$mi/bert_full.edgeq" -i "$mi/ids.npy" -i "$mi/mask.npy" -i "$mi/types.npy"
expect_error "bert two files for three inputs" "3 inputs" \
  "$edgeq" calibrate "$bert" --data "$mi/ids.npy" "$mi/mask.npy" -o "$mi/z.edgeq"
expect_error "bert named input missing" "no data for input 'token_type_ids'" \
  "$edgeq" calibrate "$bert" --data "input_ids=$mi/ids.npy" "attention_mask=$mi/mask.npy" -o "$mi/z.edgeq"
expect_error "bert missing file" "nope.npy" \
  "$edgeq" calibrate "$bert" --data "$mi/ids.npy" "$mi/mask.npy" "$mi/nope.npy" -o "$mi/z.edgeq"
expect_error "bert mismatched samples" "same number" \
  "$edgeq" calibrate "$bert" --data "$mi/ids.npy" "$mi/mask.npy" "$mi/types10.npy" -o "$mi/z.edgeq"
expect_error "bert float ids" "int64" \
  "$edgeq" calibrate "$bert" --data "$mi/ids_f32.npy" "$mi/mask.npy" "$mi/types.npy" -o "$mi/z.edgeq"
expect_error "bert wrong shape" "shape" \
  "$edgeq" quant-report "$bert" "$mi/bert_minmax.edgeq" --data "$mi/ids_short.npy" "$mi/mask.npy" "$mi/types.npy"
expect_error "bert unknown name" "no input named 'ids'" \
  "$edgeq" calibrate "$bert" --data "ids=$mi/ids.npy" "attention_mask=$mi/mask.npy" "token_type_ids=$mi/types.npy" -o "$mi/z.edgeq"
expect_error "bert mixed named and plain" "NAME=FILE" \
  "$edgeq" calibrate "$bert" --data "input_ids=$mi/ids.npy" "$mi/mask.npy" "$mi/types.npy" -o "$mi/z.edgeq"
expect_error "bert id outside the vocabulary" "outside" \
  "$edgeq" calibrate "$bert" --data "$mi/ids_bad.npy" "$mi/mask.npy" "$mi/types.npy" -o "$mi/z.edgeq"
expect_error "calibrate bad method" "method" "$edgeq" calibrate "$f32" --data "$work/calib.npy" --method magic -o "$work/z.edgeq"
printf 'garbage\n' > "$work/bad_stats.txt"
expect_error "calibrate bad stats" "stats\|statistics" "$edgeq" calibrate "$f32" --stats "$work/bad_stats.txt" -o "$work/z.edgeq"

# Integer inputs (token ids, masks): test/data/gather_ids.edgeq (test/gather_test.cc
# writes it) gathers rows of a 10 x 4 table by s64 ids[2, 5] and casts an s64 mask to
# float. `run` takes int64 or int32 NPY for them and refuses float; an id outside the
# table is an error naming the tensor; `bench` draws valid ids and 0/1 masks.
gm="$data/gather_ids.edgeq"
/usr/bin/python3 - "$work" <<'PY' && ok || bad "could not write the id NPY files"
import sys, numpy as np
w = sys.argv[1]
ids = np.array([[0, 9, 3, 3, 1], [2, 2, 8, 7, 0]], dtype=np.int64)
np.save(w + "/ids.npy", np.concatenate([ids, ids[::-1]]))  # two batches
np.save(w + "/mask.npy", (np.arange(20).reshape(4, 5) % 3 != 0).astype(np.int64))
np.save(w + "/ids32.npy", np.concatenate([ids, ids[::-1]]).astype(np.int32))
bad = ids.copy(); bad[1, 2] = 10
np.save(w + "/ids_bad.npy", bad)
neg = ids.copy(); neg[0, 0] = -(1 << 40)
np.save(w + "/ids_neg.npy", neg)
np.save(w + "/ids_f32.npy", ids.astype(np.float32))
np.save(w + "/ids_short.npy", ids[:, :4])
np.save(w + "/mask2.npy", np.ones((2, 5), dtype=np.int64))
PY
expect_ok "info s64 inputs" "$edgeq" info "$gm"
grep -q "input  'input_ids' s64 \[2,5\] values in \[0, 10)" "$work/out" \
  && grep -q "input  'attention_mask' s64 \[2,5\] values in \[0, 2)" "$work/out" \
  && grep -q "Gather" "$work/out" && ok || bad "info on s64 inputs: $(cat "$work/out")"
expect_ok "run int64 ids" "$edgeq" run "$gm" -i "$work/ids.npy" -i "$work/mask.npy" -o "$work/emb.npy" -o "$work/mf.npy"
expect_ok "run int32 ids" "$edgeq" run "$gm" -i "$work/ids32.npy" -i "$work/mask.npy" -o "$work/emb32.npy" -o "$work/mf32.npy"
/usr/bin/python3 - "$work" <<'PY' && ok || bad "run on ids: wrong embeddings or mask"
import sys, numpy as np
w = sys.argv[1]
ids, mask = np.load(w + "/ids.npy"), np.load(w + "/mask.npy")
table = np.arange(10, dtype=np.float32)[:, None] + 0.25 * np.arange(4, dtype=np.float32)[None, :]
emb, mf = np.load(w + "/emb.npy"), np.load(w + "/mf.npy")
assert emb.dtype == np.float32 and emb.shape == (4, 5, 4), (emb.dtype, emb.shape)
assert (emb == table[ids]).all()
assert (mf == mask.astype(np.float32)).all()
assert (np.load(w + "/emb32.npy") == emb).all()
PY
expect_error "run id == rows" "input_ids.*10\|10.*input_ids" "$edgeq" run "$gm" -i "$work/ids_bad.npy" -i "$work/mask2.npy"
grep -q "word_embeddings" "$work/err" && grep -q "outside \[-10, 10)" "$work/err" && ok || bad "bad id message: $(cat "$work/err")"
expect_error "run huge negative id" "input_ids" "$edgeq" run "$gm" -i "$work/ids_neg.npy" -i "$work/mask2.npy"
expect_error "run float ids" "input_ids.*int64" "$edgeq" run "$gm" -i "$work/ids_f32.npy" -i "$work/mask2.npy"
expect_error "run ids of the wrong shape" "input_ids" "$edgeq" run "$gm" -i "$work/ids_short.npy" -i "$work/mask2.npy"
expect_ok "bench ids" "$edgeq" bench "$gm" --runs 3 --warmup 1 --threads 2
grep -q "'input_ids' s64 \[2,5\] (random, fixed seed, values in \[0, 10))" "$work/out" && ok \
  || bad "bench ids output: $(cat "$work/out")"
expect_ok "bench ids --json --profile" "$edgeq" bench "$gm" --runs 2 --warmup 0 --json --profile

# A BERT-style encoder (test/data/transformer, tools/make_transformer_models.py): int64
# ids, mask and token types from NPY through convert and run, equal to ONNX Runtime's
# outputs; an id past the vocabulary is an error naming the Gather and the tensor.
td="$data/transformer"
for bn in bert_tiny bert_tiny_qdq; do
  expect_ok "convert $bn" "$edgeq" convert "$td/$bn.onnx" -o "$work/$bn.edgeq"
  expect_ok "run $bn" "$edgeq" run "$work/$bn.edgeq" -i "$td/$bn.input0.npy" -i "$td/$bn.input1.npy" \
    -i "$td/$bn.input2.npy" -o "$work/$bn.y0.npy" -o "$work/$bn.y1.npy"
  /usr/bin/python3 - "$work/$bn" "$td/$bn" <<'PY' && ok || bad "$bn outputs differ from ONNX Runtime's"
import sys, numpy as np
for k in (0, 1):
    a, b = np.load(sys.argv[1] + ".y%d.npy" % k), np.load(sys.argv[2] + ".ort%d.npy" % k)
    assert a.shape == b.shape and np.abs(a - b).max() <= 1e-4, (k, a.shape, b.shape, np.abs(a - b).max())
PY
done
/usr/bin/python3 -c "import numpy as np, sys; i = np.load(sys.argv[1]); i[0, 3] = 1 << 33; np.save(sys.argv[2], i)" \
  "$td/bert_tiny.input0.npy" "$work/bert_bad_ids.npy" && ok || bad "could not write bad BERT ids"
expect_error "run bert_tiny bad id" "Gather.*'input_ids'" "$edgeq" run "$work/bert_tiny.edgeq" -i "$work/bert_bad_ids.npy" \
  -i "$td/bert_tiny.input1.npy" -i "$td/bert_tiny.input2.npy"

# Partial files: a write that fails part-way (here the file size limit, ulimit -f 8,
# i.e. 8 KiB) must fail with an error and leave nothing behind: no temporary file, no
# truncated output. The tool ignores SIGXFSZ, so the write fails with EFBIG and the
# cleanup runs instead of the signal killing the process (an exit of 153).
fsz="$work/fsize"; mkdir -p "$fsz"
/usr/bin/python3 -c "import numpy as np; np.random.seed(1); np.save('$work/many.npy', (np.random.rand(256, 3, 32, 32) * 2 - 1).astype('float32'))" \
  && ok || bad "could not make 256 samples"
limited() { bash -c 'ulimit -f 8 && exec "$@"' limited "$@"; }
expect_error "convert past the file size limit" "cannot write" limited "$edgeq" convert "$data/small_qdq.onnx" -o "$fsz/c.edgeq"
expect_error "calibrate stats past the file size limit" "cannot write" \
  limited "$edgeq" calibrate "$f32" --data "$work/calib.npy" -o "$fsz/q.edgeq" --stats "$fsz/stats.txt"
expect_error "calibrate past the file size limit" "cannot write" limited "$edgeq" calibrate "$f32" --data "$work/calib.npy" -o "$fsz/q.edgeq"
expect_error "run -o past the file size limit" "cannot write" limited "$edgeq" run "$f32" --input "$work/many.npy" -o "$fsz/y.npy"
expect_error "export-onnx past the file size limit" "cannot write" limited "$edgeq" export-onnx "$m" -o "$fsz/e.onnx"
left=$(ls -A "$fsz")
[ -z "$left" ] && ok || bad "failed writes left files: $left"

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
