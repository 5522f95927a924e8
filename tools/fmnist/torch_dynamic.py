#!/usr/bin/env python3
"""PyTorch's dynamic int8 quantization of the Fashion-MNIST models: the bar for run-time quantization.

For each trained model (rebuilt from models.py with the committed NAME.pt weights) this
runs torch.quantization.quantize_dynamic on every nn.Linear with the qnnpack engine:

  per-tensor   default_dynamic_qconfig: int8 weights, one symmetric MinMax scale per
               tensor; activations quantized to uint8 at run time from each batch's range;
  per-channel  per_channel_dynamic_qconfig: one weight scale per output feature.

Only Linear layers are quantized (convolutions, attention products, LayerNorm, GELU stay
float), so the CNNs change only in their last layer while fmnist_vit has every
projection and MLP layer in int8. The quantized model classifies the 10,000 test images
in batches of EVAL_BATCH (the activation range, hence the result, depends on the batch).
The script prints a table and writes torch_dynamic_accuracy.json next to the models.

Usage (the system Python with torch 1.13):
  /usr/bin/python3 tools/fmnist/torch_dynamic.py [--models-dir test/data/fmnist] [--models NAME,...]
"""

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see train.py

import torch  # noqa: E402

FMNIST_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(FMNIST_DIR))

import models  # noqa: E402
from train import DEFAULT_MODEL_DIR, THREADS  # noqa: E402

EVAL_BATCH = 500  # models.predict's batch
VARIANTS = {"per_tensor": torch.quantization.default_dynamic_qconfig,
            "per_channel": torch.quantization.per_channel_dynamic_qconfig}


@contextlib.contextmanager
def quiet_stderr():
    """Silence file descriptor 2: nn.quantized.dynamic.Linear always asks for reduce_range,
    which qnnpack ignores (it uses the full uint8 range) and says so on every call.
    Failures still raise Python exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models-dir", type=Path, default=DEFAULT_MODEL_DIR,
                    help="where NAME.pt are, and where torch_dynamic_accuracy.json goes")
    ap.add_argument("--models", default=",".join(models.MODELS), help="comma-separated model names")
    ap.add_argument("--data-dir", type=Path, default=models.DATA_DIR)
    args = ap.parse_args(argv)

    torch.set_num_threads(THREADS)
    torch.backends.quantized.engine = "qnnpack"
    test_x, test_y = models.load_normalized("t10k", args.data_dir)
    float_report = json.loads((args.models_dir / "float_accuracy.json").read_text())
    report = {
        "method": "torch.quantization.quantize_dynamic on nn.Linear, qnnpack engine; int8 weights "
                  "(per-tensor default_dynamic_qconfig or per_channel_dynamic_qconfig), activations "
                  f"quantized at run time to the full uint8 range (qnnpack ignores reduce_range) per batch of "
                  f"{EVAL_BATCH}; top-1 on the 10,000 test images",
        "torch_version": torch.__version__,
        "test_images": len(test_y),
        "models": {},
    }
    print("| model | float | per-tensor | per-channel | quantized Linear layers |")
    print("| --- | --- | --- | --- | --- |")
    for name in (n for n in args.models.split(",") if n):
        model = models.load_trained(name, args.models_dir)
        float_top1 = float_report["models"][name]["test_top1"]
        entry = {"float_top1": float_top1}
        linears = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
        for variant, qconfig in VARIANTS.items():
            qmodel = torch.quantization.quantize_dynamic(models.load_trained(name, args.models_dir),
                                                         {torch.nn.Linear: qconfig}, dtype=torch.qint8).eval()
            with quiet_stderr():
                top1 = round(models.top1(qmodel, test_x, test_y), 4)
            entry[variant] = {"top1": top1, "drop": round(float_top1 - top1, 4)}
        entry["quantized_linear_layers"] = linears
        report["models"][name] = entry
        print(f"| {name} | {float_top1:.4f} | {entry['per_tensor']['top1']:.4f} | "
              f"{entry['per_channel']['top1']:.4f} | {linears} |", flush=True)
    path = args.models_dir / "torch_dynamic_accuracy.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    report["models"] = {**old.get("models", {}), **report["models"]}  # keep models not rerun
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
