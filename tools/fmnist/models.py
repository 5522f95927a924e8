"""Fashion-MNIST networks and data loading shared by train.py, torch_ptq.py and torch_dynamic.py.

Three small float networks, the CNNs written so that PyTorch FX post-training quantization can
trace them (plain modules, `+` for the residual add, torch.flatten) and so that their
ONNX export uses only ops edgeq imports:

  fmnist_cnn  conv-bn-relu blocks with 2x2 max pooling, then one fully connected layer.
  fmnist_dw   a MobileNet-style network: conv3x3 stride-2 stem, depthwise 3x3 + pointwise
              1x1 blocks with BN and ReLU6 (one with stride 2), one inverted residual block
              (expand 1x1, depthwise 3x3, project 1x1, Add), global average pool, FC.
  fmnist_vit  a small pre-norm Vision Transformer: 7x7 stride-7 patch convolution (16
              tokens of width 64), a class token, learned position embeddings, 4 encoder
              layers (4 heads, GELU MLP of width 128), final LayerNorm, linear head on
              the class token. Attention is written with plain nn.Linear projections so
              that torch.quantization.quantize_dynamic quantizes every projection and the
              ONNX export is MatMul/Add/Softmax/LayerNormalization-style primitives.

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
import torch.nn.functional as F
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


def token_linear(layer, x):
    """layer(x) for x [n, tokens, d]; in training, as a 1x1 convolution.

    This PyTorch build's float matrix products go through the reference BLAS, about
    twice as slow as its oneDNN convolutions, so training runs every Linear of the ViT
    as the equal 1x1 convolution (same parameters). Inference, quantize_dynamic and the
    ONNX export see the plain nn.Linear.
    """
    if not layer.training or type(layer) is not nn.Linear:  # eval, or quantize_dynamic's Linear
        return layer(x)
    n, t, d = x.shape
    y = F.conv2d(x.reshape(n * t, d, 1, 1), layer.weight[:, :, None, None], layer.bias)
    return y.reshape(n, t, -1)


class VitAttention(nn.Module):
    """Multi-head self-attention: fused qkv Linear, softmax(q k^T / sqrt(dh)) v, output Linear."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, d = x.shape
        qkv = token_linear(self.qkv, x).reshape(n, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [n, heads, t, head_dim]
        attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * (self.head_dim ** -0.5), dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(n, t, d)
        return token_linear(self.proj, out)


class VitBlock(nn.Module):
    """Pre-norm encoder layer: x + attn(ln(x)), then x + mlp(ln(x)) with a GELU MLP."""

    def __init__(self, dim, heads, mlp_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = VitAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(mlp_dim, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + token_linear(self.fc2, self.act(token_linear(self.fc1, self.norm2(x))))


class FmnistVit(nn.Module):
    """28x28 -> 4x4 patches of 7x7 (16 tokens) + class token -> 4 pre-norm layers -> LN -> head."""

    def __init__(self, patch=7, dim=64, depth=4, heads=4, mlp_dim=128):
        super().__init__()
        tokens = (28 // patch) ** 2
        self.patch_embed = nn.Conv2d(1, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[VitBlock(dim, heads, mlp_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, NUM_CLASSES)

    def forward(self, x):
        x = torch.flatten(self.patch_embed(x), 2).transpose(1, 2)  # [n, tokens, dim]
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


MODELS = {"fmnist_cnn": FmnistCnn, "fmnist_dw": FmnistDw, "fmnist_vit": FmnistVit}


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
