#!/usr/bin/env python3
"""PyTorch's own post-training int8 quantization of the Fashion-MNIST models: the bar.

For each trained model (rebuilt from models.py with the committed NAME.pt weights) this
runs PyTorch FX static post-training quantization with the qnnpack backend, the same
way tools/make_models.py quantizes its models:

  per-tensor   get_default_qconfig_mapping("qnnpack"): HistogramObserver activations
               (uint8, full range), MinMax symmetric int8 weights, one scale per tensor;
  per-channel  the same activations, weights with one symmetric scale per output
               channel (qnnpack runs per-channel convolutions and linear layers).

PyTorch 1.13's qnnpack ReLU6 is wrong on the channels-last tensors its convolutions
return (see ContiguousInput); the script evaluates with that op fed NCHW input, which
gives the exact clamp. The exported ONNX files are made before that change.

Each variant is calibrated on the first 1,000 training images (the images of the
calib_x.npy that train.py prepare-data writes) in batches of 100, then the quantized model
classifies the 10,000 test images. The script prints a table and writes
torch_ptq_accuracy.json next to the models; edgeq's calibration should reach these
figures on the same data.

Usage (the system Python with torch 1.13):
  /usr/bin/python3 tools/fmnist/torch_ptq.py [--models-dir test/data/fmnist]
        [--export-dir DIR]

--export-dir also writes each quantized model as ONNX QDQ (opset 13, batch 1), named
NAME_int8.onnx / NAME_int8_perchannel.onnx.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

FMNIST_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(FMNIST_DIR))
sys.path.insert(0, str(FMNIST_DIR.parent))

import models  # noqa: E402
from make_models import export_onnx, quantize_fx  # noqa: E402
from train import DEFAULT_MODEL_DIR, THREADS  # noqa: E402

VARIANTS = {"per_tensor": False, "per_channel": True}
CALIB_BATCH = 100


class ContiguousInput(torch.nn.Module):
    """Runs the wrapped module on an NCHW-contiguous copy of its input.

    PyTorch 1.13's qnnpack clamp (quantized ReLU6 / hardtanh / clamp) reads its input
    as NCHW but lays out the output like the input; quantized convolutions return
    channels-last tensors, so a ReLU6 after a convolution scrambles the activations
    (the accuracy falls to chance). An NCHW input gives the exact clamp.
    """

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.contiguous())


def fix_qnnpack_clamp(qmodel):
    """Wrap every ReLU6 (Hardtanh) of a converted model in ContiguousInput; returns the count."""
    targets = [name for name, mod in qmodel.named_modules() if isinstance(mod, torch.nn.Hardtanh)]
    for name in targets:
        parent_name, _, child = name.rpartition(".")
        parent = qmodel.get_submodule(parent_name)
        setattr(parent, child, ContiguousInput(getattr(parent, child)))
    return len(targets)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models-dir", type=Path, default=DEFAULT_MODEL_DIR,
                    help="where NAME.pt are, and where torch_ptq_accuracy.json goes")
    ap.add_argument("--data-dir", type=Path, default=models.DATA_DIR,
                    help="directory with the Fashion-MNIST IDX .gz files")
    ap.add_argument("--export-dir", type=Path, help="also export the quantized models as ONNX QDQ here")
    args = ap.parse_args(argv)

    torch.set_num_threads(THREADS)
    train_x, _ = models.load_normalized("train", args.data_dir)
    calib = [torch.from_numpy(train_x[i:i + CALIB_BATCH])
             for i in range(0, models.CALIB_COUNT, CALIB_BATCH)]
    test_x, test_y = models.load_normalized("t10k", args.data_dir)
    example = torch.zeros(1, 1, 28, 28)

    float_report = json.loads((args.models_dir / "float_accuracy.json").read_text())
    results = {}
    rows = []
    for name in models.MODELS:
        model = models.load_trained(name, args.models_dir)
        float_top1 = models.top1(model, test_x, test_y)
        recorded = float_report["models"][name]["test_top1"]
        if abs(float_top1 - recorded) > 1e-4:
            raise SystemExit(f"{name}: float top-1 {float_top1:.4f} differs from the recorded {recorded:.4f}")
        results[name] = {"float_top1": round(float_top1, 4)}
        for variant, per_channel in VARIANTS.items():
            t0 = time.time()
            qmodel = quantize_fx(model, example, calib, per_channel=per_channel)
            if args.export_dir:
                args.export_dir.mkdir(parents=True, exist_ok=True)
                suffix = "_int8_perchannel" if per_channel else "_int8"
                export_onnx(qmodel, example, args.export_dir / f"{name}{suffix}.onnx")
            fixed = fix_qnnpack_clamp(qmodel)
            acc = models.top1(qmodel, test_x, test_y)
            results[name][variant] = {"top1": round(acc, 4), "drop": round(float_top1 - acc, 4)}
            rows.append((name, variant, float_top1, acc, fixed, time.time() - t0))

    print(f"{'model':<12} {'weights':<12} {'float':>7} {'int8':>7} {'drop':>7}")
    for name, variant, f, q, fixed, secs in rows:
        print(f"{name:<12} {variant:<12} {f:7.2%} {q:7.2%} {f - q:7.2%}   "
              f"({secs:.0f} s, {fixed} ReLU6 given NCHW input)")

    report = {
        "method": "PyTorch FX static PTQ, qnnpack backend; activations HistogramObserver uint8 "
                  "(reduce_range=False), weights symmetric int8 MinMax (per tensor) or per-channel "
                  "MinMax (per channel); calibrated on calib_x (first 1,000 training images, batch "
                  f"{CALIB_BATCH}); top-1 on the 10,000 test images; quantized ReLU6 run on "
                  "NCHW-contiguous input (qnnpack's clamp is wrong on channels-last tensors)",
        "torch_version": torch.__version__,
        "calib_images": models.CALIB_COUNT,
        "test_images": int(len(test_y)),
        "models": results,
    }
    path = args.models_dir / "torch_ptq_accuracy.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
