#!/usr/bin/env python3
"""Build the int8 model zoo: torchvision classification networks as QDQ ONNX.

Each architecture is a torchvision network with fixed-seed random weights (no weights
are downloaded), its BatchNorm statistics fitted to synthetic images, quantized with
PyTorch FX post-training quantization (qnnpack qconfig mapping, static, calibrated on
synthetic images) and exported at opset 13, exactly as tools/make_models.py makes
resnet18_int8 and mobilenet_v2_int8. What each one brings to the zoo:

  resnet18            residual (basic blocks)
  resnet50            residual (bottlenecks)
  mobilenet_v2        inverted residual, depthwise convolution, ReLU6
  mobilenet_v3_small  squeeze-excitation, hardswish, hardsigmoid
  mobilenet_v3_large  squeeze-excitation, hardswish, hardsigmoid
  efficientnet_b0     SiLU (left in float by FX: DQ -> Sigmoid, Mul -> Q), squeeze-excitation
  regnet_x_400mf      grouped convolution (group width 16)
  regnet_y_400mf      grouped convolution, squeeze-excitation
  shufflenet_v2_x1_0  channel shuffle (Reshape-Transpose-Reshape), channel split
  densenet121         dense concatenation
  mnasnet1_0          inverted residual, 5x5 depthwise convolution
  squeezenet1_1       fire modules (concatenation), no batch norm
  googlenet           inception blocks: parallel branches, 5x5 and pooling branches
  inception_v3        factorized 1x7 / 7x1 convolutions, padded average pools (exported
                      as Pad -> AveragePool), branches quantized apart and concatenated

Two variants of every architecture:
  full  (default)  torchvision's network, batch 1, 3x224x224: the benchmark models
                   (bench/peers/compare.py --zoo).
  tiny  (--tiny)   the same torchvision classes built narrower and shallower (fewer
                   blocks per stage, smaller widths, 100 classes; squeezenet1_1 and
                   googlenet as they are but for the classes, mnasnet as mnasnet0_5),
                   batch 1, 3x32x32 (inception_v3: 3x75x75, the smallest input its
                   stride-2 stem and reductions take): the test models
                   (ctest make_zoo_models + zoo_vs_onnxruntime), made in seconds.

Two changes to the torchvision code, both because torch 1.13 cannot trace or export
the original (the computation is the same):
  * shufflenet_v2: the block's forward splits channels with x.chunk(2) and shuffles
    with x.view(n, 2, c // 2, h, w) after unpacking x.size(); FX cannot trace either.
    The replacement slices the two halves and reshapes to sizes noted by a float run
    (fixed input size; any batch).
  * densenet: a pre-activation BatchNorm (not after a convolution, so FX cannot fold
    it) followed by ReLU quantizes to quantized::batch_norm2d_relu, which the ONNX
    exporter rejects. Those BatchNorms become the same per-channel affine map as a
    1x1 depthwise convolution before quantization.

How cost grows (--scaling): one full-size network (default resnet18), quantized once at
224x224, exported at every input size and batch asked for, as
NAME_SIZExSIZE_bBATCH.onnx with its input (no goldens, no manifest); timed by
bench/peers/scaling.py.

For each model NAME the output directory gets NAME.onnx, NAME.input.npy, NAME.ort.npy
(ONNX Runtime's output, unless --no-golden) and, at the end, manifest.json (the format
of tools/make_models.py, which tests read).

Usage (the system Python that has torch 1.13, torchvision, onnx, numpy):
  /usr/bin/python3 tools/make_zoo.py --out DIR [--tiny] [--only NAME[,NAME...]]
        [--no-golden] [--ort-dir DIR] [--list]
  /usr/bin/python3 tools/make_zoo.py --out DIR --scaling [--only resnet18]
        [--sizes 112,224,448] [--batches 1,4,16]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_models as mm  # noqa: E402  (shared helpers: quantization, export, goldens)

FULL_SIZE = 224
TINY_SIZE = 32
TINY_SIZES = {"inception_v3": 75}  # tiny inputs other than TINY_SIZE


# ---------------------------------------------------------------------------
# Traceable / exportable replacements (see the top of the file)
# ---------------------------------------------------------------------------

def shufflenet_block_forward(self, x):
    """torchvision's ShuffleNetV2 InvertedResidual.forward, in a form FX can trace and
    torch 1.13 can export: the shuffle's sizes are plain numbers, recorded by a float
    forward pass before quantization (a reshape to sizes read from the quantized tensor
    trips the exporter)."""
    import torch

    if self.stride == 1:
        half = self.branch2[0].in_channels
        out = torch.cat((x[:, :half], self.branch2(x[:, half:])), dim=1)
    else:
        out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
    if isinstance(out, torch.Tensor):  # a real run, not FX tracing: note the sizes
        self.shuffle_chw = tuple(int(v) for v in out.shape[1:])
    c, h, w = self.shuffle_chw
    return out.reshape(-1, 2, c // 2, h, w).transpose(1, 2).reshape(-1, c, h, w)


def patch_shufflenet():
    import torchvision.models.shufflenetv2 as shufflenet

    shufflenet.InvertedResidual.forward = shufflenet_block_forward


def batchnorm_as_depthwise_conv(bn):
    """A 1x1 depthwise Conv2d computing what the (eval-mode) BatchNorm2d computes."""
    import torch

    c = bn.num_features
    conv = torch.nn.Conv2d(c, c, 1, groups=c, bias=True)
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv.weight.copy_(scale.view(c, 1, 1, 1))
        conv.bias.copy_(bn.bias - bn.running_mean * scale)
    return conv


def densenet_fold_preactivation_norms(model):
    """Replace DenseNet's pre-activation BatchNorms (norm1 of each layer, the norm of
    each transition and the final norm5) by 1x1 depthwise convolutions."""
    import torchvision.models.densenet as densenet

    for mod in model.modules():
        if isinstance(mod, densenet._DenseLayer):
            mod.norm1 = batchnorm_as_depthwise_conv(mod.norm1)
        elif isinstance(mod, densenet._Transition):
            mod.norm = batchnorm_as_depthwise_conv(mod.norm)
    model.features.norm5 = batchnorm_as_depthwise_conv(model.features.norm5)
    return model


# ---------------------------------------------------------------------------
# The zoo: name -> (what it covers, full builder, tiny builder)
# ---------------------------------------------------------------------------

def tv():
    import torchvision

    return torchvision.models


TINY_CLASSES = 100  # the tiny variants' classifier width


def tiny_resnet(block_name, widths=(16, 32, 64, 128)):
    """torchvision's ResNet with one block per stage and narrower stages (the class
    fixes 64..512 channels; its own _make_layer builds the stages here)."""
    from torch import nn
    from torchvision.models import resnet

    class TinyResNet(resnet.ResNet):
        def __init__(self, block):
            nn.Module.__init__(self)
            self._norm_layer = nn.BatchNorm2d
            self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
            self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(widths[0])
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, widths[0], 1)
            self.layer2 = self._make_layer(block, widths[1], 1, stride=2)
            self.layer3 = self._make_layer(block, widths[2], 1, stride=2)
            self.layer4 = self._make_layer(block, widths[3], 1, stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(widths[3] * block.expansion, TINY_CLASSES)

    return TinyResNet(getattr(resnet, block_name))


def tiny_mobilenet_v3(arch):
    from torchvision.models import mobilenetv3

    setting, last = mobilenetv3._mobilenet_v3_conf(arch, width_mult=0.5)
    return mobilenetv3.MobileNetV3(setting[:6], last // 4, num_classes=TINY_CLASSES)


def tiny_efficientnet():
    from torchvision.models import efficientnet

    setting, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.5, depth_mult=0.3)
    return efficientnet.EfficientNet(setting, 0.2, num_classes=TINY_CLASSES, last_channel=last)


def tiny_regnet(se_ratio):
    from torchvision.models import regnet

    params = regnet.BlockParams.from_init_params(depth=6, w_0=24, w_a=24.48, w_m=2.54, group_width=8,
                                                 se_ratio=se_ratio)
    return regnet.RegNet(params, num_classes=TINY_CLASSES)


def tiny_shufflenet():
    from torchvision.models import shufflenetv2

    return shufflenetv2.ShuffleNetV2([2, 2, 2], [24, 48, 96, 192, 256], num_classes=TINY_CLASSES)


def tiny_densenet():
    from torchvision.models import densenet

    return densenet.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, bn_size=2,
                             num_classes=TINY_CLASSES)


def tiny_mobilenet_v2():
    from torchvision.models import mobilenetv2

    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1], [6, 160, 1, 2]]
    return mobilenetv2.MobileNetV2(num_classes=TINY_CLASSES, width_mult=0.5, inverted_residual_setting=setting)


ZOO = {
    "resnet18": ("residual (basic blocks)",
                 lambda: tv().resnet18(weights=None), lambda: tiny_resnet("BasicBlock")),
    "resnet50": ("residual (bottlenecks)",
                 lambda: tv().resnet50(weights=None), lambda: tiny_resnet("Bottleneck")),
    "mobilenet_v2": ("inverted residual, depthwise",
                     lambda: tv().mobilenet_v2(weights=None), tiny_mobilenet_v2),
    "mobilenet_v3_small": ("squeeze-excitation, hardswish",
                           lambda: tv().mobilenet_v3_small(weights=None),
                           lambda: tiny_mobilenet_v3("mobilenet_v3_small")),
    "mobilenet_v3_large": ("squeeze-excitation, hardswish",
                           lambda: tv().mobilenet_v3_large(weights=None),
                           lambda: tiny_mobilenet_v3("mobilenet_v3_large")),
    "efficientnet_b0": ("SiLU, squeeze-excitation",
                        lambda: tv().efficientnet_b0(weights=None), tiny_efficientnet),
    "regnet_x_400mf": ("grouped convolution",
                       lambda: tv().regnet_x_400mf(weights=None), lambda: tiny_regnet(None)),
    "regnet_y_400mf": ("grouped convolution, squeeze-excitation",
                       lambda: tv().regnet_y_400mf(weights=None), lambda: tiny_regnet(0.25)),
    "shufflenet_v2_x1_0": ("channel shuffle",
                           lambda: tv().shufflenet_v2_x1_0(weights=None), tiny_shufflenet),
    "densenet121": ("dense concatenation",
                    lambda: tv().densenet121(weights=None), tiny_densenet),
    "mnasnet1_0": ("inverted residual, 5x5 depthwise",
                   lambda: tv().mnasnet1_0(weights=None),
                   lambda: tv().mnasnet0_5(weights=None, num_classes=TINY_CLASSES)),
    "squeezenet1_1": ("fire modules (concatenation)",
                      lambda: tv().squeezenet1_1(weights=None),
                      lambda: tv().squeezenet1_1(weights=None, num_classes=TINY_CLASSES)),
    "googlenet": ("inception blocks",
                  lambda: tv().googlenet(weights=None, aux_logits=False, init_weights=True),
                  lambda: tv().googlenet(weights=None, aux_logits=False, init_weights=True,
                                         num_classes=TINY_CLASSES)),
    "inception_v3": ("factorized convolutions, padded average pools",
                     lambda: tv().inception_v3(weights=None, aux_logits=False, init_weights=True),
                     lambda: tv().inception_v3(weights=None, aux_logits=False, init_weights=True,
                                               num_classes=TINY_CLASSES)),
}


def build_float(name, tiny, seed, size):
    """The float network of zoo model `name`, weights from `seed`, BN fitted."""
    import torch

    torch.manual_seed(seed)
    _, full, small = ZOO[name]
    model = (small if tiny else full)()
    model = mm.prepare_float_network(model, seed, size, calib_count=4 if tiny else 8)
    if name == "densenet121":
        model = densenet_fold_preactivation_norms(model)
    return model.eval()


def make_one(name, out_dir, tiny, opts):
    seed = mm.seed_of(name)
    size = TINY_SIZES.get(name, TINY_SIZE) if tiny else FULL_SIZE
    start = time.time()
    model = build_float(name, tiny, seed, size)
    x = mm.synthetic_images(1, size, seed + 2)
    calib = [mm.synthetic_images(4 if tiny else 2, size, seed + 10 + i) for i in range(4 if tiny else 3)]
    qmodel = mm.quantize_fx(model, x, calib)
    path = out_dir / f"{name}.onnx"
    mm.export_onnx(qmodel, x, path)
    mm.finish_model(path, [x.numpy()], opts)
    return time.time() - start


def make_scaling(name, out_dir, sizes, batches):
    """`name` quantized once at 224x224, exported at every size and batch."""
    seed = mm.seed_of(name)
    start = time.time()
    model = build_float(name, False, seed, FULL_SIZE)
    x = mm.synthetic_images(1, FULL_SIZE, seed + 2)
    calib = [mm.synthetic_images(2, FULL_SIZE, seed + 10 + i) for i in range(3)]
    qmodel = mm.quantize_fx(model, x, calib)
    mm.log(f"{name} quantized in {time.time() - start:.1f} s")
    shapes = [(s, b) for s in sizes for b in batches]
    for i, (size, batch) in enumerate(shapes, 1):
        xs = mm.synthetic_images(batch, size, seed + 3)
        path = out_dir / f"{name}_{size}x{size}_b{batch}.onnx"
        mm.export_onnx(qmodel, xs, path)
        mm.save_inputs(path, [xs.numpy()])
        mm.log(f"[{i}/{len(shapes)}] {path.name} (total {time.time() - start:.0f} s)")


def int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return values


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="output directory (created if missing)")
    ap.add_argument("--tiny", action="store_true", help="the small test variants at 3x32x32")
    ap.add_argument("--only", default="", help="comma-separated zoo names (default: all)")
    ap.add_argument("--list", action="store_true", help="list the zoo, then exit")
    ap.add_argument("--scaling", action="store_true",
                    help="one network (--only, default resnet18) at every --sizes x --batches")
    ap.add_argument("--sizes", type=int_list, default=[112, 224, 448], help="--scaling input sizes")
    ap.add_argument("--batches", type=int_list, default=[1, 4, 16], help="--scaling batch sizes")
    ap.add_argument("--no-golden", dest="golden", action="store_false", help="do not run ONNX Runtime")
    ap.add_argument("--ort-dir", type=Path, default=os.environ.get("EDGEQ_ORT_DIR"),
                    help="directory holding node_modules/onnxruntime-node (default: EDGEQ_ORT_DIR or tools/ort)")
    opts = ap.parse_args(argv)
    if not opts.list and opts.out is None:
        ap.error("--out is required")
    return opts


def main(argv=None):
    opts = parse_args(argv)
    if opts.list:
        for name, (covers, _, _) in ZOO.items():
            print(f"{name:<20} {covers}")
        return 0
    names = [n.strip() for n in opts.only.split(",") if n.strip()] or (["resnet18"] if opts.scaling else list(ZOO))
    unknown = [n for n in names if n not in ZOO]
    if unknown:
        raise SystemExit(f"make_zoo.py: unknown zoo model(s) {', '.join(unknown)} (see --list)")
    mm.require_torch()
    patch_shufflenet()
    out_dir = opts.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if opts.scaling:
        for name in names:
            make_scaling(name, out_dir, opts.sizes, opts.batches)
        return 0
    start = time.time()
    for i, name in enumerate(names, 1):
        size = TINY_SIZES.get(name, TINY_SIZE) if opts.tiny else FULL_SIZE
        variant = f"{'tiny' if opts.tiny else 'full'}, 3x{size}x{size}"
        mm.log(f"[{i}/{len(names)}] {name} ({variant}; {ZOO[name][0]}) ...")
        secs = make_one(name, out_dir, opts.tiny, opts)
        mm.log(f"[{i}/{len(names)}] {name} done in {secs:.1f} s (total {time.time() - start:.0f} s)")
    mm.write_manifest(out_dir, opts.ort_dir, spread=opts.golden)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as err:
        print(f"make_zoo.py: error: {err}", file=sys.stderr)
        sys.exit(1)
