#!/usr/bin/env bash
# End-to-end SQNR (dB) of every int8 route of a BERT encoder against its float model,
# on random weights and random token ids: edgeq static calibration with each method
# (float islands, and --full-int8), edgeq --dynamic (row and tensor), and ONNX
# Runtime's dynamic and QDQ files as edgeq runs them. Prints a Markdown table.
#
#   tools/bert_int8_sqnr.sh EDGEQ ONNX_DIR WORK_DIR [CALIB_SAMPLES] [EVAL_SAMPLES]
#
# ONNX_DIR holds bert_mini_{float,dynamic,qdq}.onnx (tools/make_transformer_bench_models.py).
# Token ids are drawn as there ([CLS]-like 0 first, ids in [1, 30522), all-ones mask,
# token types 0 then 1), calibration and evaluation sets from different seeds. Each
# figure is `edgeq quant-report`'s line for the sequence_output (and pooled_output):
# 10 log10(sum f^2 / sum (f - q)^2) over every evaluation sample.
set -eu
edgeq="$1"; onnx="$2"; work="$3"; ncal="${4:-32}"; neval="${5:-16}"
shape="input_ids=1x128,attention_mask=1x128,token_type_ids=1x128"
mkdir -p "$work"

/usr/bin/python3 - "$work" "$ncal" "$neval" <<'PY'
import sys, numpy as np
w, ncal, neval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for name, n, seed in (("calib", ncal, 1), ("eval", neval, 2)):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 30522, size=(n, 128)).astype(np.int64)
    ids[:, 0] = 0
    types = np.zeros((n, 128), np.int64)
    types[:, 64:] = 1
    np.save(f"{w}/{name}_ids.npy", ids)
    np.save(f"{w}/{name}_mask.npy", np.ones((n, 128), np.int64))
    np.save(f"{w}/{name}_types.npy", types)
PY
calib=("$work/calib_ids.npy" "$work/calib_mask.npy" "$work/calib_types.npy")
eval=("$work/eval_ids.npy" "$work/eval_mask.npy" "$work/eval_types.npy")

for v in float dynamic qdq; do
  "$edgeq" convert "$onnx/bert_mini_$v.onnx" --shape "$shape" -o "$work/bert_mini_$v.edgeq" >/dev/null
done
f32="$work/bert_mini_float.edgeq"

# route label, then the int8 .edgeq file: one table row from quant-report.
row() {
  local label="$1" model="$2"
  "$edgeq" quant-report "$f32" "$model" --data "${eval[@]}" --top 1 >"$work/report.txt" 2>/dev/null
  local seq pooled
  seq=$(sed -n "s/^output 'sequence_output': SQNR \([^ ]*\) dB.*/\1/p" "$work/report.txt")
  pooled=$(sed -n "s/^output 'pooled_output': SQNR \([^ ]*\) dB.*/\1/p" "$work/report.txt")
  echo "| $label | $seq | $pooled |"
}

echo "| route | sequence_output SQNR (dB) | pooled_output SQNR (dB) |"
echo "| --- | --- | --- |"
"$edgeq" calibrate "$f32" --data "${calib[@]}" --stats "$work/stats.txt" -o "$work/static_minmax.edgeq" >/dev/null 2>&1
for m in minmax histogram entropy percentile mse ema; do
  "$edgeq" calibrate "$f32" --stats "$work/stats.txt" --method "$m" -o "$work/static_$m.edgeq" >/dev/null 2>&1
  row "edgeq static $m" "$work/static_$m.edgeq"
done
for m in minmax histogram entropy percentile mse ema; do
  "$edgeq" calibrate "$f32" --stats "$work/stats.txt" --method "$m" --full-int8 -o "$work/full_$m.edgeq" >/dev/null 2>&1
  row "edgeq static $m --full-int8" "$work/full_$m.edgeq"
done
for mode in row tensor; do
  "$edgeq" calibrate "$f32" --dynamic --dynamic-mode "$mode" -o "$work/dynamic_$mode.edgeq" >/dev/null 2>&1
  row "edgeq --dynamic --dynamic-mode $mode" "$work/dynamic_$mode.edgeq"
done
row "ONNX Runtime dynamic file (bert_mini_dynamic.onnx) run by edgeq" "$work/bert_mini_dynamic.edgeq"
row "ONNX Runtime QDQ file (bert_mini_qdq.onnx) run by edgeq" "$work/bert_mini_qdq.edgeq"
