#!/usr/bin/env python3
"""Check that edgeq imports and runs the float Fashion-MNIST ONNX models correctly.

For each committed NAME.onnx (batch 1) this
  1. converts it with `edgeq convert` and runs `edgeq run` on the first --single test
     images one by one;
  2. makes a copy whose batch dimension is symbolic, converts it with --batch COUNT and
     runs the first --count test images in one go;
  3. runs the same images through ONNX Runtime (tools/ort/ort_run.js) and PyTorch (the
     model rebuilt from models.py with NAME.pt),
and prints the largest absolute difference of the logits between edgeq, ONNX Runtime
and PyTorch, how many arg-max classes agree, and the top-1 of each on those images.
Exit status 1 if edgeq's logits differ from ONNX Runtime's by more than --tol.

--goldens also writes, next to each committed NAME.onnx, NAME.input.npy (the first
test image) and NAME.ort.npy (ONNX Runtime's logits for it), the pair
tools/make_models.py's manifest and test/model_test.cc expect beside every model under
test/data; --goldens-only writes just those (no edgeq), as for fmnist_vit.

Usage (the system Python with torch 1.13; after building edgeq and
`train.py prepare-data --out DATA`):
  /usr/bin/python3 tools/fmnist/check_edgeq.py --edgeq build/edgeq --data build/fmnist
        [--models NAME,...] [--count 1000] [--single 5] [--work DIR] [--ort-dir DIR]
        [--goldens]
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch

FMNIST_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(FMNIST_DIR))
sys.path.insert(0, str(FMNIST_DIR.parent))

import models  # noqa: E402
from make_models import finish_model, run_ort  # noqa: E402
from train import DEFAULT_MODEL_DIR  # noqa: E402


def run(cmd):
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{res.stderr.strip()}")


def edgeq_logits(edgeq, onnx_path, x, work, tag, batch=None):
    """Convert onnx_path and run it on x with edgeq; returns the float32 logits."""
    model = work / f"{tag}.edgeq"
    run([edgeq, "convert", onnx_path, "-o", model] + (["--batch", batch] if batch else []))
    inp, out = work / f"{tag}.in.npy", work / f"{tag}.out.npy"
    np.save(inp, x)
    run([edgeq, "run", model, "--input", inp, "--output", out, "--threads", 1])
    return np.load(out)


def symbolic_batch_copy(onnx_path, dst):
    """Copy of the model with its graph input/output batch dimension named 'batch'."""
    model = onnx.load(str(onnx_path))
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return dst


def compare(label, a, b):
    diff = float(np.abs(a - b).max())
    agree = int((a.argmax(1) == b.argmax(1)).sum())
    print(f"  {label:<24} max |diff| {diff:.3g}, arg-max agrees on {agree}/{len(a)}")
    return diff


def check_model(name, opts, x, y, work):
    onnx_path = opts.models_dir / f"{name}.onnx"
    print(f"{name}:")
    if opts.golden:
        finish_model(onnx_path, [x[:1]], opts)
    if opts.goldens_only:
        return 0.0
    # The committed batch-1 file, image by image.
    single = np.concatenate([edgeq_logits(opts.edgeq, onnx_path, x[i:i + 1], work, f"{name}_1_{i}")
                             for i in range(opts.single)])
    # A symbolic-batch copy on many images at once.
    batched_path = symbolic_batch_copy(onnx_path, work / f"{name}_batch.onnx")
    batched = edgeq_logits(opts.edgeq, batched_path, x, work, f"{name}_n", batch=opts.count)
    ort_out = work / f"{name}_n.ort.npy"
    run_ort(batched_path, [work / f"{name}_n.in.npy"], [ort_out], opts.ort_dir)
    ort = np.load(ort_out)
    with torch.no_grad():
        ref = models.load_trained(name, opts.models_dir)(torch.from_numpy(x)).numpy()

    worst = compare(f"batch 1 vs batch {opts.count}", single, batched[:opts.single])
    worst = max(worst, compare("edgeq vs ONNX Runtime", batched, ort))
    compare("edgeq vs PyTorch", batched, ref)
    compare("ONNX Runtime vs PyTorch", ort, ref)
    accs = {k: float((v.argmax(1) == y).mean()) for k, v in
            [("edgeq", batched), ("ONNX Runtime", ort), ("PyTorch", ref)]}
    print("  top-1 on these images: " + ", ".join(f"{k} {v:.2%}" for k, v in accs.items()))
    return worst


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edgeq", type=Path, help="the edgeq tool (required unless --goldens-only)")
    ap.add_argument("--data", type=Path, required=True, help="directory with test_x.npy, test_y.npy")
    ap.add_argument("--models-dir", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--models", default=",".join(models.MODELS), help="comma-separated model names")
    ap.add_argument("--count", type=int, default=1000, help="test images run in one batch")
    ap.add_argument("--single", type=int, default=5, help="test images run one by one on the batch-1 file")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed |edgeq - ONNX Runtime|")
    ap.add_argument("--work", type=Path, help="keep the intermediate files here")
    ap.add_argument("--ort-dir", type=Path, help="directory holding node_modules/onnxruntime-node")
    ap.add_argument("--goldens", dest="golden", action="store_true",
                    help="write NAME.input.npy and NAME.ort.npy next to the committed models")
    ap.add_argument("--goldens-only", action="store_true",
                    help="only write NAME.input.npy and NAME.ort.npy (for models edgeq cannot run yet)")
    opts = ap.parse_args(argv)
    opts.golden = opts.golden or opts.goldens_only
    if opts.edgeq is None and not opts.goldens_only:
        ap.error("--edgeq is required")
    opts.single = min(opts.single, opts.count)

    torch.set_num_threads(1)
    x = np.load(opts.data / "test_x.npy")[:opts.count]
    y = np.load(opts.data / "test_y.npy")[:opts.count]
    with tempfile.TemporaryDirectory() as tmp:
        work = opts.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        worst = max(check_model(name, opts, x, y, work) for name in opts.models.split(",") if name)
    if worst > opts.tol:
        print(f"FAIL: edgeq differs by {worst:.3g} > {opts.tol}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
