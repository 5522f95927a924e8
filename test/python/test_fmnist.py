"""The Fashion-MNIST CNN (test/data/fmnist) calibrated from a PyTorch DataLoader reaches
the same top-1 accuracy as the edgeq tool's route on the same 1,000 training images
(`edgeq calibrate --data`, `edgeq eval`), on all 10,000 test images, and stays within
0.3 points of the float model (the bar tools/fmnist/accuracy.py holds the tool to)."""

import os
import re
import sys

import numpy as np
import pytest

import edgeq
from conftest import DATA, SOURCE_DIR

sys.path.insert(0, os.path.join(SOURCE_DIR, "tools", "fmnist"))
import models as fmnist  # noqa: E402  (tools/fmnist/models.py: IDX reading, normalization)


def top1(model, x, y):
    """Top-1 in percent, counted as `edgeq eval` counts it: a sample is right when no
    class scores strictly higher than its label (int8 logits often tie)."""
    s = edgeq.Model(model).session()
    correct = 0
    for i in range(len(x)):
        (logits,) = s.run(x[i:i + 1])
        correct += int(not (logits[0] > logits[0, y[i]]).any())
    return 100.0 * correct / len(x)


def cli_top1(cli, model, paths):
    out, _ = cli("eval", model, "-i", paths["test_x"], "--labels", paths["test_y"])
    return float(re.search(r"top-1: ([0-9.]+)%", out).group(1))


def test_fmnist_dataloader_matches_cli(work, cli):
    torch = pytest.importorskip("torch")
    train_x, train_y = fmnist.load_normalized("train")
    test_x, test_y = fmnist.load_normalized("t10k")
    n = fmnist.CALIB_COUNT
    d = os.path.join(work, "fmnist")
    os.makedirs(d, exist_ok=True)
    paths = {k: os.path.join(d, k + ".npy") for k in ("calib_x", "test_x", "test_y")}
    np.save(paths["calib_x"], train_x[:n])
    np.save(paths["test_x"], test_x)
    np.save(paths["test_y"], test_y)
    f32 = os.path.join(d, "fmnist_cnn_f32.edgeq")
    edgeq.convert(os.path.join(DATA, "fmnist", "fmnist_cnn.onnx"), f32)

    # The tool's route.
    cli_int8 = os.path.join(d, "cli_int8.edgeq")
    cli("calibrate", f32, "--data", paths["calib_x"], "--method", "histogram", "-o", cli_int8)
    by_tool = cli_top1(cli, cli_int8, paths)

    # The PyTorch user's route: a DataLoader of (images, labels), shuffled off, any batch size.
    data = torch.utils.data.TensorDataset(torch.from_numpy(train_x[:n]), torch.from_numpy(train_y[:n]))
    loader = torch.utils.data.DataLoader(data, batch_size=64)
    cal = edgeq.Calibrator(f32, method="histogram")
    assert cal.calibrate(loader) == n
    py_int8 = cal.quantize(os.path.join(d, "py_int8.edgeq")).path
    py_top1 = top1(py_int8, test_x, test_y)
    float_top1 = top1(f32, test_x, test_y)
    print("float %.2f%%, int8 from a DataLoader %.2f%%, int8 by the tool %.2f%%" % (float_top1, py_top1, by_tool))
    assert "%.2f" % py_top1 == "%.2f" % by_tool
    assert cli_top1(cli, py_int8, paths) == by_tool  # the tool agrees on the package's model
    assert float_top1 - py_top1 <= 0.3
