#!/usr/bin/env python3
"""Export the torchvision networks whose int8 forms have float islands, for `edgeq bench`.

  efficientnet_b0_int8     SiLU between DequantizeLinear and QuantizeLinear (FX leaves
                           it in float), squeeze-excitation
  mobilenet_v3_small_int8  HardSwish and HardSigmoid (FX quantizes them), SE blocks

Random weights with fixed seeds, BatchNorm statistics fitted to synthetic images,
quantized with PyTorch FX (qnnpack) and exported as QDQ ONNX (opset 13), as
tools/make_models.py does for MobileNetV2 and ResNet-18. Writes OUT/NAME.onnx and
OUT/NAME.input.npy (a 1x3xSIZExSIZE image).

Usage (the system Python with torch and torchvision):
  /usr/bin/python3 tools/make_island_bench_models.py --out DIR [--only NAME,...] [--size 224]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_models import (export_onnx, log, prepare_float_network, quantize_fx, require_torch,  # noqa: E402
                         synthetic_images)

MODELS = {"efficientnet_b0_int8": ("efficientnet_b0", 1011), "mobilenet_v3_small_int8": ("mobilenet_v3_small", 1012)}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--only", default=",".join(MODELS))
    ap.add_argument("--size", type=int, default=224)
    opts = ap.parse_args(argv)
    require_torch()
    import torch
    import torchvision

    opts.out.mkdir(parents=True, exist_ok=True)
    for name in (n for n in opts.only.split(",") if n):
        if name not in MODELS:
            raise SystemExit(f"make_island_bench_models.py: unknown model '{name}'")
        arch, seed = MODELS[name]
        log(name)
        torch.manual_seed(seed)
        model = prepare_float_network(getattr(torchvision.models, arch)(weights=None), seed, opts.size, 8)
        x = synthetic_images(1, opts.size, seed + 2)
        calib = [synthetic_images(2, opts.size, seed + 10 + i) for i in range(4)]
        qmodel = quantize_fx(model, x, calib)
        path = opts.out / f"{name}.onnx"
        export_onnx(qmodel, x, path)
        np.save(opts.out / f"{name}.input.npy", x.numpy())
        log(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
