"""Fashion-MNIST networks and data loading shared by train.py and torch_ptq.py.

Two small float networks, written so that PyTorch FX post-training quantization can
trace them (plain modules, `+` for the residual add, torch.flatten) and so that their
ONNX export uses only ops edgeq imports:

  fmnist_cnn  conv-bn-relu blocks with 2x2 max pooling, then one fully connected layer.
  fmnist_dw   a MobileNet-style network: conv3x3 stride-2 stem, depthwise 3x3 + pointwise
              1x1 blocks with BN and ReLU6 (one with stride 2), one inverted residual block
              (expand 1x1, depthwise 3x3, project 1x1, Add), global average pool, FC.

Input: float32 NCHW [N, 1, 28, 28], pixels scaled to [0, 1] then normalized with the
training set's mean and standard deviation (PIXEL_MEAN, PIXEL_STD below, computed
over all 60,000 training images).

The data comes from the IDX files of the Debian package dataset-fashion-mnist
(DATA_DIR); --data-dir in the scripts points elsewhere.
"""

import gzip
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA_DIR = Path("/usr/share/datasets/fashion-mnist")

# Mean and standard deviation of the 60,000 training images, pixels in [0, 1].
PIXEL_MEAN = 0.2860406
PIXEL_STD = 0.3530242

NUM_CLASSES = 10
CALIB_COUNT = 1000  # calibration set: the first CALIB_COUNT training images


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def read_idx(path):
    """Read a gzipped IDX file (unsigned bytes) into a numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {body.size} bytes of data for shape {shape}")
    return body.reshape(shape)


def load_split(split, data_dir=DATA_DIR):
    """Raw images uint8 [N, 28, 28] and labels int64 [N] of 'train' or 't10k'."""
    data_dir = Path(data_dir)
    images = read_idx(data_dir / f"{split}-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return images, labels


def normalize(images):
    """uint8 [N, 28, 28] -> float32 NCHW [N, 1, 28, 28], normalized as the models expect."""
    x = images.astype(np.float32)[:, None, :, :] / np.float32(255.0)
    return (x - np.float32(PIXEL_MEAN)) / np.float32(PIXEL_STD)


def load_normalized(split, data_dir=DATA_DIR):
    images, labels = load_split(split, data_dir)
    return normalize(images), labels


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

def conv_bn(cin, cout, k=3, stride=1, groups=1, act=None):
    """Conv (no bias, 'same' padding for odd k) + BatchNorm [+ activation]."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class FmnistCnn(nn.Module):
    """28x28 -> 3 conv-bn-relu stages with 2x2 max pooling (28, 14, 7 -> 3) -> FC."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 16, act=nn.ReLU), nn.MaxPool2d(2),   # 16 x 14 x 14
            conv_bn(16, 32, act=nn.ReLU), nn.MaxPool2d(2),  # 32 x 7 x 7
            conv_bn(32, 64, act=nn.ReLU), nn.MaxPool2d(2),  # 64 x 3 x 3
        )
        self.fc = nn.Linear(64 * 3 * 3, NUM_CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def separable(cin, cout, stride):
    """Depthwise 3x3 + BN + ReLU6, then pointwise 1x1 + BN + ReLU6."""
    return nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin, act=nn.ReLU6),
                         conv_bn(cin, cout, 1, act=nn.ReLU6))


class InvertedResidual(nn.Module):
    """MobileNetV2 block with stride 1 and equal widths: x + project(dw(expand(x)))."""

    def __init__(self, channels, expand):
        super().__init__()
        hidden = channels * expand
        self.body = nn.Sequential(conv_bn(channels, hidden, 1, act=nn.ReLU6),
                                  conv_bn(hidden, hidden, 3, groups=hidden, act=nn.ReLU6),
                                  conv_bn(hidden, channels, 1))

    def forward(self, x):
        return x + self.body(x)


class FmnistDw(nn.Module):
    """Stride-2 stem (28 -> 14) -> separable blocks (stride 2: 7) with an inverted residual -> GAP -> FC."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 16, 3, stride=2, act=nn.ReLU6),  # 16 x 14 x 14
            separable(16, 32, stride=1),                 # 32 x 14 x 14
            separable(32, 64, stride=2),                 # 64 x 7 x 7
            InvertedResidual(64, expand=2),              # 64 x 7 x 7
            separable(64, 128, stride=1),                # 128 x 7 x 7
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, NUM_CLASSES)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


MODELS = {"fmnist_cnn": FmnistCnn, "fmnist_dw": FmnistDw}


def build(name):
    return MODELS[name]()


def load_trained(name, weights_dir):
    """The network NAME with its committed weights (NAME.pt in weights_dir), in eval mode."""
    model = build(name)
    state = torch.load(Path(weights_dir) / f"{name}.pt", map_location="cpu")
    model.load_state_dict(state)
    return model.eval()


@torch.no_grad()
def predict(model, x, batch=500):
    """Arg-max class of every row of the float32 array x, as int64 numpy."""
    out = []
    for i in range(0, len(x), batch):
        out.append(model(torch.from_numpy(x[i:i + batch])).argmax(1))
    return torch.cat(out).numpy()


def top1(model, x, labels):
    return float((predict(model, x) == labels).mean())
