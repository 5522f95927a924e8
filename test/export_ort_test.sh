#!/usr/bin/env bash
# `edgeq export-onnx` against ONNX Runtime: every model is converted to .edgeq (or
# taken as a .edgeq), exported to QDQ ONNX, and run by edgeq (reference kernels) and by
# ONNX Runtime (tools/ort/ort_run.js, all graph optimizations) on the same input. On an
# x86 CPU without VNNI (AVX512-VNNI or AVX-VNNI), ONNX Runtime's fused int8 kernels
# multiply uint8 by int8 with vpmaddubsw, whose int16 pair sums saturate (its
# quantization guide says so) and put outputs tens of steps off: there an
# output that fails is compared again with ONNX Runtime at level basic, which runs the
# graph's own DequantizeLinear -> float op -> QuantizeLinear, and passes if that agrees
# (within the tolerance compare() states; such outputs are counted and named).
#   quantized outputs: both outputs in steps of the output's scale; at least 99.9% of
#                      the elements must be within 1 step (the line printed per model
#                      gives the fraction equal, within 1 step, and the largest diff);
#   float outputs:     max |edgeq - ort| <= 1e-4 * max(1, max |ort|).
# Models: the committed QDQ/QOperator and float models of test/data, the quantized op
# graphs the export gtest writes (EDGEQ_EXPORT_DUMP_DIR), and the torchvision models in
# MODEL_DIR when its manifest exists.
# Usage: export_ort_test.sh EDGEQ EDGEQ_TESTS DATA_DIR MODEL_DIR ORT_DIR WORK_DIR
set -u
edgeq="$1"; tests="$2"; data="$3"; models="$4"; ort_dir="$5"; work="$6"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"; mkdir -p "$work/ops"
EDGEQ_EXPORT_DUMP_DIR="$work/ops" "$tests" --gtest_filter='FloatOpModels/QuantizedExportRoundTrip.*' \
  >"$work/gtest.log" 2>&1 || { echo "FAIL: the export gtest failed:"; tail -20 "$work/gtest.log"; exit 1; }
EDGEQ_ORT_DIR="$ort_dir" exec /usr/bin/python3 - "$edgeq" "$data" "$models" "$work" "$here/../tools/ort/ort_run.js" <<'PY'
import glob, json, os, subprocess, sys
import numpy as np
import onnx
from onnx import numpy_helper

edgeq, data, models, work, ort_run = sys.argv[1:6]
failed = []

def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + ":\n" + r.stderr.strip())

def output_quant(path):
    """(scale, zero_point) of each graph output made by a DequantizeLinear, else None."""
    m = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    prod = {o: n for n in m.graph.node for o in n.output}
    res = []
    for o in m.graph.output:
        n = prod.get(o.name)
        if n is not None and n.op_type == "DequantizeLinear":
            res.append((float(inits[n.input[1]]), int(inits[n.input[2]])))
        else:
            res.append(None)
    return res

refused = []

def mlas_saturates():
    """True on an x86 CPU where ONNX Runtime's fused int8 kernels use vpmaddubsw."""
    import platform
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
    except (OSError, StopIteration):
        return False
    return "avx512_vnni" not in flags and "avx_vnni" not in flags

saturates = mlas_saturates()
if saturates:
    print("[ export ] this CPU has no VNNI: ONNX Runtime's fused int8 kernels saturate, so an output "
          "that fails is compared again with ONNX Runtime at optimization level basic")
rechecked = []

def compare(name, k, q, a, b, layered=False):
    """The failure message of output k (edgeq a, ONNX Runtime b), or None. layered: b comes
    from ONNX Runtime's float ops between DequantizeLinear and QuantizeLinear, whose
    intermediate tensors round differently from integer arithmetic, so a one-step
    difference in one layer can become two at the output: at least 95% of the elements
    within 1 step and none beyond 2."""
    if a.shape != b.shape:
        return f"{name} output {k}: shape {a.shape} vs {b.shape}"
    if q:
        s, z = q
        d = np.abs(np.rint(a / s) - np.rint(b / s)).astype(np.int64)
        within = float((d <= 1).mean())
        print(f"[ export ] {name} output {k}: {d.size} elements, {100 * (d == 0).mean():.2f}% equal to "
              f"ONNX Runtime, {100 * within:.3f}% within 1 step, max diff {d.max()} steps")
        if layered:
            ok = within >= 0.95 and d.max() <= 2
        else:
            ok = within >= 0.999
        return None if ok else f"{name} output {k}: only {100 * within:.3f}% within 1 step, max diff {d.max()} steps"
    err = float(np.abs(a - b).max())
    ref = max(1.0, float(np.abs(b).max()))
    print(f"[ export ] {name} output {k}: {a.size} float elements, max abs error {err:.3g}")
    return f"{name} output {k}: float error {err:.3g}" if err > 1e-4 * ref else None

def run_ort(exported, inputs, outputs, level):
    cmd = ["node", ort_run, exported, "--threads", "1", "--quiet", "--opt-level", level]
    for i in inputs: cmd += ["--input", i]
    for o in outputs: cmd += ["--output", o]
    run(cmd)

def check(name, model, inputs):
    """model: .edgeq file; inputs: float32 NPY files. A model holding an op the export has
    no ONNX form for (masks, LayerNorm) must be refused with that said; it is counted."""
    exported = os.path.join(work, name + ".qdq.onnx")
    r = subprocess.run([edgeq, "export-onnx", model, "-o", exported], capture_output=True, text=True)
    if r.returncode != 0 and "has no ONNX form" in r.stderr:
        refused.append(name)
        return
    if r.returncode != 0:
        raise RuntimeError("export-onnx " + model + ":\n" + r.stderr.strip())
    quant = output_quant(exported)
    mine = [os.path.join(work, f"{name}.edgeq{k}.npy") for k in range(len(quant))]
    theirs = [os.path.join(work, f"{name}.ort{k}.npy") for k in range(len(quant))]
    cmd = [edgeq, "run", model]
    for i in inputs: cmd += ["--input", i]
    for o in mine: cmd += ["--output", o]
    run(cmd)
    run_ort(exported, inputs, theirs, "all")
    errors = [compare(name, k, q, np.load(mine[k]).astype(np.float64), np.load(theirs[k]).astype(np.float64))
              for k, q in enumerate(quant)]
    if saturates and any(errors):
        run_ort(exported, inputs, theirs, "basic")
        for k, q in enumerate(quant):
            if errors[k] is not None:
                print(f"[ export ] {name} output {k}: again, against ONNX Runtime at level basic")
                errors[k] = compare(name, k, q, np.load(mine[k]).astype(np.float64),
                                    np.load(theirs[k]).astype(np.float64), layered=True)
                if errors[k] is None:
                    rechecked.append(f"{name}:{k}")
    failed.extend(e for e in errors if e is not None)

def manifest_models(d):
    p = os.path.join(d, "manifest.json")
    if not os.path.exists(p):
        return []
    # The exporter writes float graph inputs: models with bool / int64 mask inputs
    # (ops/mask_ops) have no export form and are left out, as in export_test.cc.
    def float_inputs(e):
        return all(np.load(os.path.join(d, i), mmap_mode="r").dtype == np.float32 for i in e["inputs"])
    return [(e, d) for e in json.load(open(p))["models"] if "_dynamic" not in e["name"] and float_inputs(e)]

cases = manifest_models(data) + manifest_models(models)
if os.path.isdir(models) and not manifest_models(models):
    failed.append(f"no models in {models}/manifest.json")
for e, d in cases:
    name = e["name"]
    try:
        model = os.path.join(work, name + ".edgeq")
        run([edgeq, "convert", os.path.join(d, e["file"]), "-o", model])
        check(name, model, [os.path.join(d, i) for i in e["inputs"]])
    except Exception as ex:
        failed.append(f"{name}: {ex}")
dumped = sorted(glob.glob(os.path.join(work, "ops", "*.edgeq")))
if not dumped:
    failed.append("the export gtest wrote no quantized op graphs")
for model in dumped:
    name = os.path.basename(model)[:-len(".edgeq")]
    try:
        check(name, model, sorted(glob.glob(os.path.join(work, "ops", name + ".input*.npy"))))
    except Exception as ex:
        failed.append(f"{name}: {ex}")
print(f"export vs ONNX Runtime: {len(cases) + len(dumped)} models, {len(failed)} failures, "
      f"{len(refused)} refused as having no ONNX form ({', '.join(refused)})")
if saturates:
    print(f"{len(rechecked)} outputs passed only against ONNX Runtime at level basic "
          f"(its fused int8 kernels saturate on this CPU): {', '.join(rechecked)}")
for f in failed:
    print("FAIL:", f)
sys.exit(1 if failed else 0)
PY
