#!/usr/bin/env python3
"""Fashion-MNIST accuracy of edgeq's calibration, against float and PyTorch's own PTQ.

For both committed float models (test/data/fmnist/fmnist_cnn.onnx, fmnist_dw.onnx):
converts them to .edgeq, evaluates the float model on the 10,000 test images, then
calibrates with every --method, per-channel and per-tensor weights, on the first 1,000
training images and evaluates each int8 model (`edgeq calibrate`, `edgeq eval`).
Prints a Markdown table with PyTorch's FX post-training quantization (qnnpack) on the
same models and data (test/data/fmnist/torch_ptq_accuracy.json, from torch_ptq.py).

Then the ViT (test/data/fmnist/fmnist_vit.onnx) the same way, per-channel weights: every
method with LayerNorm, Softmax and GELU left float (the default) and fully int8
(--full-int8), and dynamic quantization per row and per tensor, beside PyTorch's dynamic
quantization (test/data/fmnist/torch_dynamic_accuracy.json, from torch_dynamic.py).

With --check (the ctest), fails unless:
  * int8 (histogram, per-channel) top-1 is within 0.3 points of float for fmnist_cnn
    and within 0.5 points for fmnist_dw;
  * every method, with either weight scheme, is within 0.5 points of float;
  * edgeq's best method is at least as accurate as PyTorch's best PTQ variant;
  * ViT: every static method, with and without --full-int8, within 0.5 points of float,
    both dynamic modes within 0.3, and edgeq's best static and best dynamic at least as
    accurate as PyTorch's best dynamic variant.

Usage: /usr/bin/python3 tools/fmnist/accuracy.py --edgeq build/edgeq --work build/fmnist [--check]
(the data comes from `tools/fmnist/train.py prepare-data --out WORK`, run here when missing).
"""

import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "test", "data", "fmnist")
METHODS = ["minmax", "ema", "histogram", "percentile", "entropy", "mse"]
LIMITS = {"fmnist_cnn": 0.3, "fmnist_dw": 0.5}
EVERY_METHOD_LIMIT = 0.5  # every method and weight scheme, both models
VIT_STATIC_LIMIT = 0.5
VIT_DYNAMIC_LIMIT = 0.3


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr))
    return r.stdout


def top1(edgeq, model, work):
    out = run([edgeq, "eval", model, "-i", os.path.join(work, "test_x.npy"),
               "--labels", os.path.join(work, "test_y.npy")])
    return float(re.search(r"top-1: ([0-9.]+)%", out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edgeq", required=True)
    ap.add_argument("--work", required=True, help="directory for data and models")
    ap.add_argument("--check", action="store_true", help="enforce the accuracy targets")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if not all(os.path.exists(os.path.join(a.work, f)) for f in ("calib_x.npy", "test_x.npy", "test_y.npy")):
        run([sys.executable, os.path.join(ROOT, "tools", "fmnist", "train.py"), "prepare-data", "--out", a.work])
    with open(os.path.join(DATA, "torch_ptq_accuracy.json")) as f:
        torch_ptq = json.load(f)

    failures = []
    rows = []
    for name in ("fmnist_cnn", "fmnist_dw"):
        f32 = os.path.join(a.work, name + "_f32.edgeq")
        run([a.edgeq, "convert", os.path.join(DATA, name + ".onnx"), "-o", f32])
        float_top1 = top1(a.edgeq, f32, a.work)
        stats = os.path.join(a.work, name + ".stats")
        results = {}
        total = 2 * len(METHODS)
        for i, method in enumerate(METHODS):
            for weights in ("per-channel", "per-tensor"):
                k = 2 * i + (weights == "per-tensor") + 1
                print("[%s %2d/%d] %s, %s" % (name, k, total, method, weights), file=sys.stderr, flush=True)
                q = os.path.join(a.work, "%s_%s_%s.edgeq" % (name, method, weights))
                # The first run observes the data; the others re-quantize from the cached statistics.
                data = ["--data", os.path.join(a.work, "calib_x.npy")] if k == 1 else []
                run([a.edgeq, "calibrate", f32, *data, "--stats", stats, "--method", method, "--" + weights,
                     "-o", q])
                results[(method, weights)] = top1(a.edgeq, q, a.work)
        # PyTorch's figures are fractions; edgeq prints percent.
        t = {k: 100.0 * v["top1"] for k, v in torch_ptq["models"][name].items() if isinstance(v, dict)}
        torch_best = max(t.values())
        rows.append((name, float_top1, results, t))
        got = results[("histogram", "per-channel")]
        if float_top1 - got > LIMITS[name]:
            failures.append("%s: int8 %.2f%% is more than %.1f points under float %.2f%%"
                            % (name, got, LIMITS[name], float_top1))
        for (method, weights), acc in sorted(results.items()):
            if float_top1 - acc > EVERY_METHOD_LIMIT:
                failures.append("%s: %s (%s) %.2f%% is more than %.1f points under float %.2f%%"
                                % (name, method, weights, acc, EVERY_METHOD_LIMIT, float_top1))
        best = max(results.values())
        if best < torch_best:
            failures.append("%s: edgeq's best %.2f%% is below PyTorch's %.2f%%" % (name, best, torch_best))

    print("| model | float | weights | " + " | ".join(METHODS) + " | PyTorch FX PTQ (qnnpack) |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in METHODS) + " | --- |")
    for name, float_top1, results, t in rows:
        for weights, key in (("per-channel", "per_channel"), ("per-tensor", "per_tensor")):
            cells = " | ".join("%.2f" % results[(m, weights)] for m in METHODS)
            torch_cell = "%.2f" % t[key] if key in t else "-"
            print("| %s | %.2f | %s | %s | %s |" % (name, float_top1, weights, cells, torch_cell))
    failures += vit(a)
    for f in failures:
        print("FAIL: " + f)
    if a.check and failures:
        sys.exit(1)


def vit(a):
    """The ViT's table and its failures (see the module comment)."""
    name = "fmnist_vit"
    f32 = os.path.join(a.work, name + "_f32.edgeq")
    run([a.edgeq, "convert", os.path.join(DATA, name + ".onnx"), "-o", f32])
    float_top1 = top1(a.edgeq, f32, a.work)
    stats = os.path.join(a.work, name + ".stats")
    variants = [(m, full) for full in (False, True) for m in METHODS] + [("row", None), ("tensor", None)]
    results = {}
    for k, (method, full) in enumerate(variants, 1):
        label = ("dynamic " + method) if full is None else (method + (" --full-int8" if full else ""))
        print("[%s %2d/%d] %s" % (name, k, len(variants), label), file=sys.stderr, flush=True)
        q = os.path.join(a.work, "%s_%s.edgeq" % (name, label.replace(" --", "_").replace(" ", "_")))
        if full is None:
            run([a.edgeq, "calibrate", f32, "--dynamic", "--dynamic-mode", method, "-o", q])
        else:
            data = ["--data", os.path.join(a.work, "calib_x.npy")] if k == 1 else []
            run([a.edgeq, "calibrate", f32, *data, "--stats", stats, "--method", method,
                 *(["--full-int8"] if full else []), "-o", q])
        results[(method, full)] = top1(a.edgeq, q, a.work)
    with open(os.path.join(DATA, "torch_dynamic_accuracy.json")) as f:
        td = json.load(f)["models"][name]
    torch = {k: 100.0 * td[k]["top1"] for k in ("per_tensor", "per_channel")}

    print()
    print("| ViT | float | " + " | ".join(METHODS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in METHODS) + " |")
    for full, label in ((False, "static, LayerNorm/Softmax/GELU float"), (True, "static --full-int8")):
        print("| %s | %.2f | %s |" % (label, float_top1, " | ".join("%.2f" % results[(m, full)] for m in METHODS)))
    print("| dynamic row / tensor | %.2f | %.2f / %.2f |" % (float_top1, results[("row", None)],
                                                          results[("tensor", None)]))
    print("| PyTorch dynamic (qnnpack) per tensor / per channel | %.2f | %.2f / %.2f |"
          % (float_top1, torch["per_tensor"], torch["per_channel"]))

    failures = []
    for (method, full), acc in sorted(results.items(), key=str):
        limit = VIT_DYNAMIC_LIMIT if full is None else VIT_STATIC_LIMIT
        if float_top1 - acc > limit:
            failures.append("%s: %s%s %.2f%% is more than %.1f points under float %.2f%%"
                            % (name, "dynamic " if full is None else "", method + (" --full-int8" if full else ""),
                               acc, limit, float_top1))
    torch_best = max(torch.values())
    best_static = max(v for (m, full), v in results.items() if full is not None)
    best_dynamic = max(v for (m, full), v in results.items() if full is None)
    for kind, best in (("static", best_static), ("dynamic", best_dynamic)):
        if best < torch_best:
            failures.append("%s: edgeq's best %s %.2f%% is below PyTorch's dynamic %.2f%%"
                            % (name, kind, best, torch_best))
    return failures


if __name__ == "__main__":
    main()
