#!/usr/bin/env python3
"""Train the Fashion-MNIST float models and write the data files edgeq calibrates on.

Two subcommands:

  prepare-data --out DIR
      Writes the preprocessed arrays (no training, a few seconds):
        DIR/calib_x.npy  float32 [1000, 1, 28, 28]  the first 1,000 training images
        DIR/test_x.npy   float32 [10000, 1, 28, 28] the whole test set
        DIR/test_y.npy   int64   [10000]            its labels
      Images are scaled to [0, 1] and normalized with the training set's mean and
      standard deviation (models.PIXEL_MEAN, models.PIXEL_STD). These files are large
      (31 MB) and are made at build/test time, never committed.

  train [--models fmnist_cnn,fmnist_dw,fmnist_vit] [--out test/data/fmnist]
      Trains each model from a fixed seed and writes into --out:
        NAME.onnx   the float model, ONNX opset 13, fixed input [1, 1, 28, 28]
                    ("input") and output [1, 10] ("output", logits); BatchNorm is
                    folded into the convolutions by the exporter
        NAME.pt     its state_dict (torch_ptq.py rebuilds the model from models.py)
      and (re)writes float_accuracy.json: top-1 on the 10,000 test images, the seed,
      the epochs and the measured training time of each model.

Training is deterministic: fixed seeds, torch.use_deterministic_algorithms, and a fixed
thread count (2, --threads), since the split of reductions over threads can change the
last bits of float results. Tensors are channels-last during training only because
PyTorch's CPU convolutions (depthwise ones above all) are several times faster that way.

Usage (the system Python with torch 1.13):
  /usr/bin/python3 tools/fmnist/train.py prepare-data --out build/fmnist
  /usr/bin/python3 tools/fmnist/train.py train
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning: on a busy machine two spinning threads
# made the ViT's many small ops about ten times slower. Numerics do not change.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn.functional as F

FMNIST_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(FMNIST_DIR))
sys.path.insert(0, str(FMNIST_DIR.parent))

import models  # noqa: E402
from make_models import export_onnx  # noqa: E402

DEFAULT_MODEL_DIR = FMNIST_DIR.parent.parent / "test" / "data" / "fmnist"
SEED = 20240
THREADS = 2

# Per-model schedule: AdamW with a one-cycle learning rate.
SCHEDULES = {
    "fmnist_cnn": {"epochs": 2, "batch": 128, "max_lr": 0.01, "weight_decay": 1e-4},
    "fmnist_dw": {"epochs": 2, "batch": 128, "max_lr": 0.01, "weight_decay": 1e-4},
    "fmnist_vit": {"epochs": 5, "batch": 64, "max_lr": 0.002, "weight_decay": 0.05},
}


def log(msg):
    print(msg, flush=True)


def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr))
    log(f"  {path}: {arr.dtype} {list(arr.shape)}")


def prepare_data(out_dir, data_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    train_x, _ = models.load_normalized("train", data_dir)
    test_x, test_y = models.load_normalized("t10k", data_dir)
    save_npy(out_dir / "calib_x.npy", train_x[:models.CALIB_COUNT])
    save_npy(out_dir / "test_x.npy", test_x)
    save_npy(out_dir / "test_y.npy", test_y)


def train_one(name, train_x, train_y, seed):
    """Train model NAME from seed; returns (model in eval mode, info dict)."""
    sched = SCHEDULES[name]
    torch.manual_seed(seed)
    model = models.build(name).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=sched["max_lr"], weight_decay=sched["weight_decay"])
    steps_per_epoch = (len(train_x) + sched["batch"] - 1) // sched["batch"]
    lr_sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=sched["max_lr"], epochs=sched["epochs"],
                                                   steps_per_epoch=steps_per_epoch)
    gen = torch.Generator().manual_seed(seed + 1)
    x_all = torch.from_numpy(train_x)
    y_all = torch.from_numpy(train_y)
    wall0, cpu0 = time.time(), time.process_time()
    model.train()
    for epoch in range(sched["epochs"]):
        order = torch.randperm(len(x_all), generator=gen)
        flips = torch.rand(len(x_all), generator=gen) < 0.5  # random horizontal flips
        total_loss = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * sched["batch"]:(step + 1) * sched["batch"]]
            xb = x_all[idx]
            flip = flips[idx]
            xb[flip] = xb[flip].flip(-1)
            xb = xb.contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(xb), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            lr_sched.step()
            total_loss += float(loss)
        log(f"  {name} epoch {epoch + 1}/{sched['epochs']}: loss {total_loss / steps_per_epoch:.4f}, "
            f"{time.time() - wall0:.0f} s")
    info = dict(sched, seed=seed, train_wall_s=round(time.time() - wall0, 1),
                train_cpu_s=round(time.process_time() - cpu0, 1))
    model = model.to(memory_format=torch.contiguous_format).eval()
    return model, info


def train(names, out_dir, data_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    train_x, train_y = models.load_normalized("train", data_dir)
    test_x, test_y = models.load_normalized("t10k", data_dir)
    report_path = out_dir / "float_accuracy.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    report.update({
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist), 60,000 train / 10,000 test",
        "input": "float32 NCHW [N,1,28,28]: pixel/255, then (x - mean) / std",
        "pixel_mean": models.PIXEL_MEAN,
        "pixel_std": models.PIXEL_STD,
        "torch_version": torch.__version__,
        "threads": THREADS,
    })
    report.setdefault("models", {})
    for name in names:
        # One seed per model, independent of which models are trained in this run.
        model, info = train_one(name, train_x, train_y, SEED + 100 * list(models.MODELS).index(name))
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        torch.save(state, out_dir / f"{name}.pt")
        export_onnx(model, torch.zeros(1, 1, 28, 28), out_dir / f"{name}.onnx")
        info["params"] = sum(p.numel() for p in model.parameters())
        info["test_top1"] = round(models.top1(model, test_x, test_y), 4)
        report["models"][name] = info
        log(f"{name}: test top-1 {info['test_top1']:.4f}, trained in {info['train_wall_s']} s wall "
            f"({info['train_cpu_s']} s CPU), {(out_dir / f'{name}.onnx').stat().st_size / 1024:.1f} KB ONNX")
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {report_path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=models.DATA_DIR,
                    help="directory with the Fashion-MNIST IDX .gz files")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare-data", help="write calib_x.npy, test_x.npy, test_y.npy")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("train", help="train, export ONNX + state_dicts, write float_accuracy.json")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--models", default=",".join(models.MODELS),
                   help=f"comma-separated subset of {', '.join(models.MODELS)}")
    args = ap.parse_args(argv)

    if args.command == "prepare-data":
        prepare_data(args.out, args.data_dir)
        return 0
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in models.MODELS]
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)}")
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    train(names, args.out, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
