#!/usr/bin/env python3
"""A cycle model of edgeq's ARM kernels (and, for comparison, XNNPACK's), built from
their machine code with llvm-mca, and combined with the layer shapes of ResNet-18,
MobileNetV2 and a MobileNetV3-style network into modeled per-layer and per-model times.

    tools/arm_cycle_model.py kernels  [--arm64 DIR] [--armhf DIR]       per-kernel loop costs
    tools/arm_cycle_model.py report   [--arm64 DIR] [--armhf DIR] [--xnnpack-arm64 SO] [--ghz G]
    tools/arm_cycle_model.py x86      --host DIR [--bench-json FILE] [--mcpu znver4]

How a kernel is modeled (nothing is taken from hard-coded offsets):
 * The object files of the cross builds (build-arm64, build-armhf: tools/arm_test.sh
   or the few kernel objects, see docs/arm-cycle-model.md) are disassembled with
   llvm-objdump. A kernel is found by its symbol; its loops by their back-edge branches
   (a branch to a lower address in the same function). The innermost loop with the most
   multiply instructions is the main k loop; another innermost loop with multiplies in
   the same enclosing loop is the k remainder; the enclosing loop is the tap loop.
 * Each loop body goes to llvm-mca as a loop (-iterations=200; cycles per iteration =
   total cycles / 200). The code around the loops is costed as straight-line code:
   the instructions of the tap loop outside its inner loops (per tap), and the path a
   tile takes outside the tap loop (per tile: the prologue, the stores of the
   accumulators and the called requantize-and-store function), walked from the entry
   following fall-through at conditional branches and into called functions of the same
   object, until the return. Straight-line blocks are also costed at steady state
   (200 copies back to back), i.e. as if they overlapped with their neighbours.
 * The k step of a loop (k per iteration) is its multiply-accumulates per iteration
   divided by the tile's MR x NR, counted from the instructions themselves.
 * A level may have a second GEMM kernel, valid only for weights in [-127, 127]
   (<level>_mlal objects, KernelSet::gemm_w127: NEON's smull + smlal): the report gives
   both kernels' rows and models the networks on it, assuming weights without -128
   (what kernels/gemm_pick.h then picks, but for layers of at most 8 input channels,
   which keep the exact kernel), with the exact kernel's rows beside them.
 * A GEMM layer (convolution or fully connected, edgeq's indirect GEMM, kernels/qconv.cc):
   tiles = ceil(M / MR) x ceil(N / NR), M = output pixels, N = output channels, and
       cycles = tiles x (tile + taps x (tap + main x floor(K'/kstep) + rem x ceil(r/kstep_r)))
   with K' = in_c rounded up to KR, r the k left after the main loop.
 * A depthwise layer (kernels/dw_rows.h, one call per output row): per output row and
   channel tile, the column build loop runs once per input column the row's windows
   cover (per kernel-row group) and the pixel loop once per output pixel.
 * llvm-mca assumes every load hits L1 and knows no memory system, frequency scaling or
   other process: the figures are a lower bound of a kind, and the x86 subcommand
   measures how far that kind of model is from a real machine.
Everything here is the model of one core at a stated clock; other ops (adds, pooling,
activations outside the convolutions) are not modeled.
"""
import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys
import tempfile

MCA = os.environ.get("EDGEQ_LLVM_MCA", "llvm-mca-19")
OBJDUMP = os.environ.get("EDGEQ_LLVM_OBJDUMP", "llvm-objdump-19")
ITER = 200

# ---------------------------------------------------------------- instructions

# Multiply-accumulates of one instruction (8-bit operands, int32 sums); x86 below.
ARM_MACS = {"smull": 8, "smull2": 8, "vmull.s8": 8, "vmlal.s8": 8, "vmlal.s16": 4, "vmull.s16": 4,
            "sdot": 16, "udot": 16, "usdot": 16, "smmla": 32, "ummla": 32, "usmmla": 32}


def macs_of(mn, ops):
    if mn in ("smlal", "smlal2", "smull", "smull2"):
        dest = ops.split(",")[0].strip()
        if dest.endswith(".8h"):
            return 8
        if dest.endswith(".4s"):
            return 4
        return 0
    if mn in ARM_MACS:
        return ARM_MACS[mn]
    # x86: vpdpbusd (4 MACs per 32-bit lane), vpmaddwd (2 per lane) after widening.
    if mn.startswith("vpdpbusd"):
        width = 16 if "zmm" in ops else 8 if "ymm" in ops else 4
        return 4 * width
    if mn.startswith("vpmaddwd"):
        width = 16 if "zmm" in ops else 8 if "ymm" in ops else 4
        return 2 * width
    return 0


BRANCH_ARM = re.compile(r"^(b|b\.\w+|b\.[nw]|b(eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)(\.[nw])?|cbz|cbnz|tbz|tbnz)$")
BRANCH_X86 = re.compile(r"^j[a-z]+$")
UNCOND = {"b", "b.w", "b.n", "jmp"}
CALLS = {"bl", "blx", "call", "callq"}
RETS = {"ret", "retq", "bx", "pop.w", "pop"}  # pop {..., pc} returns on ARMv7


class Insn:
    __slots__ = ("addr", "mn", "ops", "target")

    def __init__(self, addr, mn, ops, target):
        self.addr, self.mn, self.ops, self.target = addr, mn, ops, target

    def is_ret(self):
        if self.mn in ("ret", "retq"):
            return True
        if self.mn == "bx" and self.ops.strip() == "lr":
            return True
        return self.mn in ("pop", "pop.w", "ldm", "ldmia.w") and "pc" in self.ops

    def is_branch(self):
        return (BRANCH_ARM.match(self.mn) or BRANCH_X86.match(self.mn)) and self.target is not None


def disassemble(path, extra=()):
    """{function name: [Insn]} of an object or shared library (llvm-objdump, demangled)."""
    out = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", "-C", *extra, path], check=True,
                         capture_output=True, text=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if m:
            cur = m.group(2)
            funcs[cur] = []
            continue
        m = re.match(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if not m or cur is None:
            continue
        mn, ops = m.group(2), m.group(3)
        if mn.startswith("{") and ops:  # an encoding prefix ({vex}): the mnemonic follows
            mn, _, ops = ops.partition("\t") if "\t" in ops else ops.partition(" ")
            mn, ops = mn.strip(), ops.strip()
        if mn.startswith("<") or mn in (".word", ".byte", ".short", ".long"):
            continue
        target = None
        t = re.search(r"(?:^|[\s,])(?:0x)?([0-9a-f]+) <", ops)
        if t:
            target = int(t.group(1), 16)
        funcs[cur].append(Insn(int(m.group(1), 16), mn, ops, target))
    return funcs


def clean(insn):
    """The instruction as assembler text for llvm-mca (branch targets become labels)."""
    ops = insn.ops
    ops = re.split(r"\s(//|@|#) ", " " + ops)[0].strip() if re.search(r"\s(//|@|#) ", " " + ops) else ops
    if " <" in ops:  # a symbol reference runs to the end (demangled names hold '>')
        ops = ops[:ops.index(" <")]
        if insn.target is not None:
            ops = re.sub(r"(0x)?[0-9a-f]+$", ".Ltarget", ops)
    return f"{insn.mn}\t{ops}".strip()


def loops_of(ins):
    """[(start, end, body)] for every back edge of a function, innermost first."""
    loops = []
    for i, x in enumerate(ins):
        if x.is_branch() and x.mn not in CALLS and x.target is not None and x.target <= x.addr \
                and ins[0].addr <= x.target:
            body = [y for y in ins if x.target <= y.addr <= x.addr]
            loops.append((x.target, x.addr, body))
    loops.sort(key=lambda l: l[1] - l[0])
    return loops


def innermost(loops):
    return [l for l in loops if not any(o is not l and l[0] <= o[0] and o[1] <= l[1] for o in loops)]


def loop_macs(body):
    return sum(macs_of(x.mn, x.ops) for x in body)


def mul_count(body):
    return sum(macs_of(x.mn, x.ops) > 0 for x in body)


# ---------------------------------------------------------------- llvm-mca

class Mca:
    """llvm-mca for one target; results cached by (cpu, text)."""

    def __init__(self, triple, mattr=""):
        self.triple, self.mattr, self.cache = triple, mattr, {}

    def cycles(self, lines, cpu, loop):
        """Cycles per iteration of `lines` (a loop when `loop`; else straight-line code)."""
        if not lines:
            return 0.0
        key = (cpu, loop, tuple(lines))
        if key in self.cache:
            return self.cache[key]
        lines = list(lines)
        dropped = 0
        for _ in range(40):
            text = ".Ltarget:\n" + "\n".join(lines) + "\n"
            with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
                f.write(text)
                name = f.name
            cmd = [MCA, f"-mtriple={self.triple}", f"-mcpu={cpu}", f"-iterations={ITER}", name]
            if self.mattr:
                cmd.insert(3, f"-mattr={self.mattr}")
            r = subprocess.run(cmd, capture_output=True, text=True)
            os.unlink(name)
            m = re.search(r"Total Cycles:\s+(\d+)", r.stdout)
            if m:
                value = int(m.group(1)) / ITER
                self.cache[key] = value
                if dropped:
                    print(f"  (llvm-mca: {dropped} instruction(s) it could not parse were left out)", file=sys.stderr)
                return value
            bad = re.search(r":(\d+):\d+: error", r.stderr)
            if not bad:
                raise RuntimeError(f"llvm-mca failed ({' '.join(cmd)}):\n{r.stderr[:2000]}")
            del lines[int(bad.group(1)) - 2]  # line 1 is the label
            dropped += 1
        raise RuntimeError("llvm-mca: too many instructions it cannot parse")


# ---------------------------------------------------------------- kernel analysis

# kernels/qconv.h kRowFoldMinWidth: convolutions over at most kr input channels and at
# least this wide run with each window row folded into one tap.
ROW_FOLD_MIN_WIDTH = 5


class GemmModel:
    """The loops and straight-line parts of one GEMM microkernel."""

    def __init__(self, name, funcs, func, mr, nr, kr):
        self.name, self.mr, self.nr, self.kr = name, mr, nr, kr
        ins = funcs[func]
        loops = loops_of(ins)
        inner = [l for l in innermost(loops) if mul_count(l[2])]
        if not inner:
            raise RuntimeError(f"{name}: no loop with multiplies in {func}")
        self.main = max(inner, key=lambda l: (loop_macs(l[2]), -l[0]))
        self.main_macs = loop_macs(self.main[2])
        self.kstep = self.main_macs / (mr * nr)
        if self.kstep != int(self.kstep) or int(self.kstep) % kr:
            raise RuntimeError(f"{name}: the loop found ({self.main_macs} MACs) is not a whole k step of a "
                               f"{mr}x{nr}c{kr} tile: the loop search no longer fits the code")
        enclosing = [l for l in loops if l[0] <= self.main[0] and self.main[1] <= l[1] and l is not self.main]
        self.tap = min(enclosing, key=lambda l: l[1] - l[0]) if enclosing else None
        rest = [l for l in inner if l is not self.main and (self.tap is None or self.tap[0] <= l[0] <= self.tap[1])]
        self.rem = max(rest, key=lambda l: loop_macs(l[2])) if rest else None
        self.kstep_rem = loop_macs(self.rem[2]) / (mr * nr) if self.rem else self.kstep
        in_loops = set()
        for l in loops:
            in_loops.update(x.addr for x in l[2])
        inner_addrs = set()
        for l in innermost([l for l in loops if self.tap is None or (self.tap[0] <= l[0] and l[1] < self.tap[1] + 1
                                                                     and l is not self.tap)]):
            inner_addrs.update(x.addr for x in l[2])
        self.tap_lines = [clean(x) for x in (self.tap[2] if self.tap else [])
                          if x.addr not in inner_addrs and not x.is_branch()]
        self.tile_lines = walk(funcs, func, in_loops)

    def describe(self):
        return (f"main loop {len(self.main[2])} instr, {self.main_macs} MACs, k step {self.kstep:g}; "
                f"remainder {len(self.rem[2]) if self.rem else 0} instr (k step {self.kstep_rem:g}); "
                f"per tap {len(self.tap_lines)}; per tile {len(self.tile_lines)}")

    def costs(self, mca, cpu):
        main = mca.cycles([clean(x) for x in self.main[2]], cpu, True)
        rem = mca.cycles([clean(x) for x in self.rem[2]], cpu, True) if self.rem else main
        return {"main": main, "rem": rem, "tap": mca.cycles(self.tap_lines, cpu, False),
                "tile": mca.cycles(self.tile_lines, cpu, False)}

    def layer_cycles(self, c, layer):
        m = layer["out_hw"] ** 2 if not layer.get("fc") else 1
        tiles = math.ceil(m / self.mr) * math.ceil(layer["cout"] / self.nr) * layer.get("groups", 1)
        kc = layer["cin"] // layer.get("groups", 1)
        taps = layer["k"] ** 2
        if (not layer.get("fc") and layer.get("groups", 1) == 1 and layer["k"] >= ROW_FOLD_MIN_WIDTH
                and kc <= self.kr):
            # kernels/qconv.h fold_window_rows: a window row of k x in_c bytes is one tap.
            kc, taps = layer["k"] * kc, layer["k"]
        kp = math.ceil(kc / self.kr) * self.kr
        main_iters = int(kp // self.kstep)
        left = kp - main_iters * self.kstep
        rem_iters = math.ceil(left / self.kstep_rem) if left > 0 else 0
        return tiles * (c["tile"] + taps * (c["tap"] + main_iters * c["main"] + rem_iters * c["rem"]))


def walk(funcs, func, skip, depth=0, limit=600):
    """Straight-line text of the path from `func`'s entry to its return: conditional
    branches fall through, unconditional ones are followed forward, calls into functions
    of the same object are followed; instructions inside loops (`skip`) are left out."""
    ins = funcs[func]
    by_addr = {x.addr: i for i, x in enumerate(ins)}
    out, i, seen = [], 0, set()
    starts = {ins[0].addr if ins else 0}
    callee_of = {}
    for name, body in funcs.items():
        if body:
            callee_of[body[0].addr] = name
    def descend(target):  # the straight-line text of a called function, its loops left out
        callee = callee_of.get(target)
        if not callee or callee == func or depth >= 2:
            return []
        sub_skip = set()
        for l in loops_of(funcs[callee]):
            sub_skip.update(y.addr for y in l[2])
        return walk(funcs, callee, sub_skip, depth + 1, limit - len(out))

    while i < len(ins) and len(out) < limit and i not in seen:
        seen.add(i)
        x = ins[i]
        if x.is_ret():
            break
        if x.mn in CALLS:
            out += descend(x.target)
            i += 1
            continue
        if x.mn in UNCOND and x.target is not None:
            if x.target > x.addr and x.target in by_addr:
                i = by_addr[x.target]
                continue
            if x.target in starts or x.target not in by_addr:  # a tail call
                out += descend(x.target)
                break
        if x.addr not in skip and not x.is_branch():
            out.append(clean(x))
        i += 1
    return out


class DwModel:
    """The pixel loop and the column build loop of one depthwise row kernel instance."""

    def __init__(self, name, funcs, func, tile, k):
        self.name, self.tile = name, tile
        ins = funcs[func]
        loops = loops_of(ins)
        inner = innermost(loops)
        pix = [l for l in inner if mul_count(l[2])]
        if not pix:
            raise RuntimeError(f"{name}: no pixel loop in {func}")
        best = max(loop_macs(l[2]) for l in pix)
        pix = [l for l in pix if loop_macs(l[2]) == best]
        # One pixel loop per requantization scheme: take the fp32 one (a float convert
        # in it), the scheme of the benchmarks and of the converted models.
        fp32 = [l for l in pix if any(x.mn in ("scvtf", "vcvt.f32.s32", "cvtdq2ps", "vcvtdq2ps") for x in l[2])]
        self.pixel = (fp32 or pix)[0]
        self.pixel_macs = best
        # Outputs per pixel-loop iteration: the tile (one pixel of it), or for the direct
        # kernel (kernels/arm/dw_direct_neon.h, no column build) 8 channels of one or two
        # pixels (8 x pixels), one window of k x k taps each.
        self.direct = " direct " in name
        if self.direct:
            self.per_loop = best // (k * k)
            if self.per_loop % 8 or self.per_loop * k * k != best:
                raise RuntimeError(f"{name}: the pixel loop found ({best} MACs) is not 8 channels x whole pixels")
        else:
            self.per_loop = tile if best % tile == 0 and best >= tile * k * k else best // (k * k)
            if self.per_loop * k * k > best or tile % self.per_loop:
                raise RuntimeError(f"{name}: the pixel loop found ({best} MACs) does not fit a {tile}-channel tile")
        # The column build: the nearest loop before the pixel loop that stores and multiplies
        # nothing. The direct kernel has none (a loop of its partial-store or edge code
        # would be taken for one).
        builds = [l for l in inner if not self.direct and not mul_count(l[2]) and l[1] < self.pixel[0]
                  and any(x.mn.startswith(("st", "vst")) for x in l[2])]
        self.build = max(builds, key=lambda l: l[0]) if builds else None

    def describe(self):
        return (f"pixel loop {len(self.pixel[2])} instr, {self.pixel_macs} MACs; "
                f"column build {len(self.build[2]) if self.build else 0} instr")

    def costs(self, mca, cpu):
        return {"pixel": mca.cycles([clean(x) for x in self.pixel[2]], cpu, True),
                "build": mca.cycles([clean(x) for x in self.build[2]], cpu, True) if self.build else 0.0}

    def layer_cycles(self, c, layer):
        out_w = layer["out_hw"]
        if self.direct:  # per 8-channel half (halves past the channels skipped), out_w / pixels iterations
            halves = math.ceil(layer["cout"] / 8)
            return layer["out_hw"] * halves * out_w / (self.per_loop // 8) * c["pixel"]
        tiles = math.ceil(layer["cout"] / self.tile)
        ncols = (out_w - 1) * layer["stride"] + layer["k"]
        parts = math.ceil(layer["cout"] / self.per_loop)  # pixel-loop runs per pixel (parts past the channels skipped)
        return layer["out_hw"] * (tiles * ncols * c["build"] + parts * out_w * c["pixel"])


# ---------------------------------------------------------------- networks

def conv(name, out_hw, cin, cout, k=1, stride=1, dw=False, fc=False):
    return {"name": name, "out_hw": out_hw, "cin": cin, "cout": cout, "k": k, "stride": stride, "dw": dw, "fc": fc}


def resnet18():
    layers = [conv("conv1 7x7/2", 112, 3, 64, 7, 2)]
    hw, cin = 56, 64
    for stage, c in enumerate((64, 128, 256, 512)):
        for block in range(2):
            s = 2 if stage > 0 and block == 0 else 1
            out = hw // s
            layers.append(conv(f"l{stage + 1}.{block} conv1 3x3/{s}", out, cin, c, 3, s))
            layers.append(conv(f"l{stage + 1}.{block} conv2 3x3", out, c, c, 3, 1))
            if s == 2:
                layers.append(conv(f"l{stage + 1}.{block} downsample 1x1/2", out, cin, c, 1, 2))
            hw, cin = out, c
    layers.append(conv("fc 512x1000", 1, 512, 1000, fc=True))
    return layers


def mobilenet_v2():
    layers = [conv("conv0 3x3/2", 112, 3, 32, 3, 2)]
    hw, cin, b = 112, 32, 0
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            exp = cin * t
            if t != 1:
                layers.append(conv(f"b{b} expand", hw, cin, exp))
            out = hw // stride
            layers.append(conv(f"b{b} dw 3x3/{stride}", out, exp, exp, 3, stride, dw=True))
            layers.append(conv(f"b{b} project", out, exp, c))
            hw, cin, b = out, c, b + 1
    layers.append(conv("conv last 1x1", 7, 320, 1280))
    layers.append(conv("fc 1280x1000", 1, 1280, 1000, fc=True))
    return layers


def make_divisible(v, d=8):
    r = max(d, int(v + d / 2) // d * d)
    return r + d if r < 0.9 * v else r


def mobilenet_v3():
    """MobileNetV3-Large's convolutions (torchvision's layout): SE blocks as two fully
    connected layers each; activations and pooling not modeled."""
    layers = [conv("conv0 3x3/2", 112, 3, 16, 3, 2)]
    hw, cin = 112, 16
    config = [(3, 16, 16, 0, 1), (3, 64, 24, 0, 2), (3, 72, 24, 0, 1), (5, 72, 40, 1, 2), (5, 120, 40, 1, 1),
              (5, 120, 40, 1, 1), (3, 240, 80, 0, 2), (3, 200, 80, 0, 1), (3, 184, 80, 0, 1), (3, 184, 80, 0, 1),
              (3, 480, 112, 1, 1), (3, 672, 112, 1, 1), (5, 672, 160, 1, 2), (5, 960, 160, 1, 1), (5, 960, 160, 1, 1)]
    for b, (k, exp, c, se, s) in enumerate(config):
        if exp != cin:
            layers.append(conv(f"b{b} expand", hw, cin, exp))
        out = hw // s
        layers.append(conv(f"b{b} dw {k}x{k}/{s}", out, exp, exp, k, s, dw=True))
        if se:
            sq = make_divisible(exp // 4)
            layers.append(conv(f"b{b} se fc1", 1, exp, sq, fc=True))
            layers.append(conv(f"b{b} se fc2", 1, sq, exp, fc=True))
        layers.append(conv(f"b{b} project", out, exp, c))
        hw, cin = out, c
    layers.append(conv("conv last 1x1", 7, 160, 960))
    layers.append(conv("fc1 960x1280", 1, 960, 1280, fc=True))
    layers.append(conv("fc2 1280x1000", 1, 1280, 1000, fc=True))
    return layers


NETWORKS = {"resnet18": resnet18, "mobilenetv2": mobilenet_v2, "mobilenetv3": mobilenet_v3}


def macs(layer):
    m = 1 if layer["fc"] else layer["out_hw"] ** 2
    if layer["dw"]:
        return m * layer["cout"] * layer["k"] ** 2
    return m * layer["cout"] * layer["cin"] * layer["k"] ** 2


# ---------------------------------------------------------------- edgeq's kernels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The CPUs each ARM level is modeled on (llvm-mca -mcpu); i8mm needs a core that has it.
ARM64_CPUS = {"neon": ["cortex-a53", "cortex-a55", "cortex-a76", "neoverse-n1"],
              "neondot": ["cortex-a55", "cortex-a76", "neoverse-n1"],
              "neoni8mm": ["cortex-a510", "neoverse-n2"]}
# LLVM has no AArch32 scheduling model of the Cortex-A53/A55; Cortex-A57's is the
# nearest ARMv8 core it models in AArch32 state.
ARMHF_CPUS = {"neon": ["cortex-a57"]}
ISA_OF_LEVEL = {"neon": "neon", "neondot": "neondot", "neoni8mm": "neoni8mm"}
DW_FILE = {"neon": "dw_neon", "neondot": "dw_neondot", "neoni8mm": "dw_neondot"}


def follow_body(funcs, func):
    """`func` or, when it only forwards to a body function (call or tail branch), that body."""
    ins = funcs[func]
    if any(mul_count(l[2]) for l in loops_of(ins)):
        return func
    starts = {body[0].addr: name for name, body in funcs.items() if body}
    for x in ins:
        if (x.mn in CALLS or x.mn in UNCOND) and x.target in starts and starts[x.target] != func:
            return follow_body(funcs, starts[x.target])
    return func


def dw_registry(source):
    """[(traits template, tile, tile_cost)] of an ARM depthwise source, in its order."""
    text = open(source).read()
    return [(m.group(1), int(m.group(3)), int(m.group(4)))
            for m in re.finditer(r'dw_(?:direct_)?kernel_of<(\w+<\d+>)>\("(\w+?_(\d+)c\d+__\w+)",[^,]+,[^,]+,\s*(\d+)\)', text)]


def edgeq_kernels(build, act="signed char"):
    """{level: {"gemm": GemmModel, "dw": {(k, stride, tile): DwModel}, "dw_choice": [...]}} of a build."""
    objdir = os.path.join(build, "CMakeFiles", "edgeq_runtime.dir", "kernels", "arm")
    if not os.path.isdir(objdir):
        raise SystemExit(f"no ARM kernel objects in {build} (build them: docs/arm-cycle-model.md)")
    levels = {}
    for obj in sorted(glob.glob(os.path.join(objdir, "q8_igemm_minmax_ukernel_*.o"))):
        m = re.search(r"ukernel_(\d+)x(\d+)c(\d+)__(\w+?)\.cc\.o$", obj)
        mr, nr, kr, isa = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
        funcs = disassemble(obj)
        want = "qs8" if act == "signed char" else "qu8"
        entry = next(n for n in funcs if re.search(rf"\b{want}_igemm_minmax_ukernel_{mr}x{nr}c{kr}__{isa}\(", n))
        body = follow_body(funcs, entry)
        # <level>_mlal: the level's kernel for weights in [-127, 127] (KernelSet::gemm_w127).
        level, key = (isa[:-len("_mlal")], "gemm_w127") if isa.endswith("_mlal") else (isa, "gemm")
        levels.setdefault(level, {})[key] = GemmModel(f"{want}_igemm_{mr}x{nr}c{kr}__{isa}", funcs, body, mr, nr, kr)
    for level in list(levels):
        src = os.path.join(ROOT, "kernels", "arm", DW_FILE[level] + ".cc")
        obj = os.path.join(objdir, DW_FILE[level] + ".cc.o")
        if not os.path.exists(obj):
            continue
        funcs = disassemble(obj)
        levels[level]["dw_choice"] = dw_registry(src)
        dws, dws127 = {}, {}
        for traits, tile, _ in levels[level]["dw_choice"]:
            for k in (3, 5):
                for s in (1, 2):
                    # dw_rows<Traits, T, KW, NG, SW, KH>: KH = k (a square window) where the
                    # traits have such an instance, else 0; the KH-less name of older builds.
                    pat = re.compile(rf"dw_rows<[^<]*::{re.escape(traits)}, (signed|unsigned) char, {k}, \d+, {s}(, ({k}|0))?>")
                    cands = [n for n in funcs if pat.search(n)]
                    cands = [n for n in cands if pat.search(n).group(3) == str(k)] or cands
                    pick = [n for n in cands if f", {act}," in n] or cands
                    # The direct kernel (kernels/arm/dw_direct_neon.h): its fp32 pixel loop
                    # is in dw_direct_half<Traits, T, KW, NG, SW, KH, false, kNarrow>; the
                    # narrow variant (kNarrow true) runs the layers without a -128 weight.
                    direct = re.compile(rf"dw_direct_half<[^<]*::{re.escape(traits)}, {act}, {k}, \d+, {s}, {k}, false(, (true|false))?>\(")
                    dpick = [n for n in funcs if direct.search(n) and "lambda" not in n]
                    exact = [n for n in dpick if direct.search(n).group(2) != "true"]
                    narrow = [n for n in dpick if direct.search(n).group(2) == "true"]
                    if exact:
                        dws[(k, s, tile)] = DwModel(f"dw direct {traits} {k}x{k}/{s}", funcs, exact[0], tile, k)
                    elif pick:
                        dws[(k, s, tile)] = DwModel(f"dw {traits} {k}x{k}/{s}", funcs, pick[0], tile, k)
                    if narrow:
                        dws127[(k, s, tile)] = DwModel(f"dw direct narrow {traits} {k}x{k}/{s}", funcs, narrow[0], tile, k)
        levels[level]["dw"] = dws
        # The depthwise kernels for weights in [-127, 127] (DwArgs::w127): the narrow
        # variants where the level has them, else its exact ones.
        levels[level]["dw_w127"] = {**dws, **dws127}
    return levels


def dw_pick(level_models, channels):
    best = None
    for traits, tile, cost in level_models["dw_choice"]:
        c = math.ceil(channels / tile) * cost
        if best is None or c < best[0]:
            best = (c, tile)
    return best[1]


def gemm_of(level_models, gemm, layer):
    """The GEMM model a layer runs on: level_models[gemm], but the exact kernel for the
    layers kernels/gemm_pick.h keeps on it (at most 8 input channels per group)."""
    if gemm == "gemm_w127" and layer["cin"] // layer.get("groups", 1) <= 8:
        return level_models["gemm"]
    return level_models[gemm]


def dw_key(level_models, gemm):
    """The depthwise models that go with the GEMM kernel `gemm`: the ones for weights in
    [-127, 127] beside gemm_w127, else the exact ones."""
    return "dw_w127" if gemm == "gemm_w127" and "dw_w127" in level_models else "dw"


def model_network(layers, level_models, costs_of, gemm="gemm"):
    """[(layer, cycles)] for one network on one level; costs_of(model) -> cost dict; the
    GEMM layers on level_models[gemm] ("gemm_w127": the kernels for weights in [-127, 127],
    the depthwise layers then on level_models["dw_w127"])."""
    out = []
    for layer in layers:
        if layer["dw"]:
            tile = dw_pick(level_models, layer["cout"])
            km = level_models[dw_key(level_models, gemm)].get((layer["k"], layer["stride"], tile))
            cyc = km.layer_cycles(costs_of(km), layer) if km else float("nan")
        else:
            km = gemm_of(level_models, gemm, layer)
            cyc = km.layer_cycles(costs_of(km), layer)
        out.append((layer, cyc))
    return out


# ---------------------------------------------------------------- XNNPACK's kernels

PROBE_KINDS = ["gemm", "igemm", "dw3s1", "dw3s2", "dw5s1", "dw5s2"]
ARCH = {"arm64": {"triplet": "aarch64-linux-gnu", "qemu": "qemu-aarch64", "triple": "aarch64",
                  "mattr": "+dotprod,+i8mm", "qemu_cpu": {"neon": "cortex-a53", "neondot": "cortex-a76",
                                                          "neoni8mm": "max"}, "cpus": ARM64_CPUS},
        "armhf": {"triplet": "arm-linux-gnueabihf", "qemu": "qemu-arm", "triple": "thumbv7a", "xnn_triple": "armv7a",
                  "mattr": "+neon", "qemu_cpu": {"neon": "cortex-a15"}, "cpus": ARMHF_CPUS}}


def xnnpack_hot_loops(build, arch, level, work):
    """{probe kind: (loop body, executions)}: the hottest loop with multiplies that XNNPACK
    ran for each kind of layer under qemu with the level's CPU (Debian's libXNNPACK of
    the build's sysroot; its microkernel symbols are stripped, so the trace finds them)."""
    a = ARCH[arch]
    lib_dir = os.path.join(build, "sysroot", "usr", "lib", a["triplet"])
    lib = os.path.realpath(os.path.join(lib_dir, "libXNNPACK.so"))
    if not os.path.exists(lib):
        return None
    os.makedirs(work, exist_ok=True)
    probe = os.path.join(work, "xnnpack_probe")
    if not os.path.exists(probe) or os.path.getmtime(probe) < os.path.getmtime(os.path.join(ROOT, "tools", "xnnpack_probe.c")):
        subprocess.run([f"{a['triplet']}-gcc", "-O1", "-I", os.path.join(build, "sysroot", "usr", "include"),
                        os.path.join(ROOT, "tools", "xnnpack_probe.c"), "-o", probe, "-L", lib_dir,
                        f"-Wl,-rpath-link,{lib_dir}", "-lXNNPACK", "-ldl"], check=True)
    flat = xnnpack_flat(lib)
    addrs = [x.addr for x in flat]
    out = {}
    for kind in PROBE_KINDS:
        log = os.path.join(work, f"{level}-{kind}.log")
        r = subprocess.run([a["qemu"], "-L", f"/usr/{a['triplet']}", "-E", f"LD_LIBRARY_PATH={lib_dir}",
                            "-cpu", a["qemu_cpu"][level], "-d", "exec,nochain", "-D", log, probe, kind],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"xnnpack_probe {kind} failed: {r.stderr}")
        base = int(re.search(r"base (0x[0-9a-f]+)", r.stdout).group(1), 16)
        counts = {}
        with open(log) as f:
            for line in f:
                m = re.search(r"\[[0-9a-f]+/([0-9a-f]+)/", line)
                if m:
                    pc = int(m.group(1), 16) - base
                    if arch == "armhf":
                        pc &= ~1  # Thumb bit
                    counts[pc] = counts.get(pc, 0) + 1
        os.unlink(log)
        best = None
        for pc, n in sorted(counts.items(), key=lambda kv: -kv[1])[:400]:
            loop = loop_at(flat, addrs, pc)
            if loop and mul_count(loop) and (best is None or n > best[1]):
                best = (loop, n)
        out[kind] = best
    return out


_FLAT = {}


def xnnpack_flat(lib):
    if lib not in _FLAT:
        funcs = disassemble(lib)
        flat = sorted((x for body in funcs.values() for x in body), key=lambda x: x.addr)
        _FLAT[lib] = flat
    return _FLAT[lib]


def loop_at(flat, addrs, pc, reach=4096):
    """The innermost back-edge loop (within `reach` bytes) that holds address pc."""
    import bisect
    i = bisect.bisect_left(addrs, pc)
    best = None
    j = i
    while j < len(flat) and flat[j].addr < pc + reach:
        x = flat[j]
        if x.is_branch() and x.mn not in CALLS and x.target is not None and x.target <= pc <= x.addr:
            if best is None or x.addr - x.target < best[1] - best[0]:
                best = (x.target, x.addr)
        if x.is_ret():
            break
        j += 1
    if best is None:
        return None
    lo = bisect.bisect_left(addrs, best[0])
    hi = bisect.bisect_right(addrs, best[1])
    return flat[lo:hi]


# ---------------------------------------------------------------- report

def xnnpack_layer_cycles(loops, costs, layer):
    """XNNPACK's layer from its hot loop alone: exact MACs x its cycles per MAC (GEMM), or
    outputs x its cycles per output (depthwise); no tile padding, no code around the loop."""
    if layer["dw"]:
        kind = f"dw{layer['k']}s{layer['stride']}"
        if not loops.get(kind):
            return float("nan")
        loop, _ = loops[kind]
        outputs = loop_macs(loop) / layer["k"] ** 2
        return macs(layer) / layer["k"] ** 2 / outputs * costs[kind]
    kind = "gemm" if layer["k"] == 1 else "igemm"
    loop, _ = loops[kind]
    return macs(layer) / loop_macs(loop) * costs[kind]


def edgeq_loop_only(level_models, costs_of, layer, gemm="gemm"):
    """edgeq's layer from its main loops alone, the same bound as xnnpack_layer_cycles."""
    if layer["dw"]:
        tile = dw_pick(level_models, layer["cout"])
        km = level_models[dw_key(level_models, gemm)].get((layer["k"], layer["stride"], tile))
        return macs(layer) / layer["k"] ** 2 / km.per_loop * costs_of(km)["pixel"]
    km = gemm_of(level_models, gemm, layer)
    return macs(layer) / km.main_macs * costs_of(km)["main"]


def report(args):
    ghz = args.ghz
    lines = [f"Modeled with llvm-mca ({MCA}); times at {ghz} GHz, one core, int8 activations, "
             "per-channel requantization (GEMM epilogue: its fixed-point path; depthwise: the fp32 pixel loop); "
             "XNNPACK: the sysroot's Debian build. No cache or memory model: see docs/arm-cycle-model.md.", ""]
    kernel_rows, net_rows, layer_rows = [], [], []
    for arch, build in (("arm64", args.arm64), ("armhf", args.armhf)):
        if not build or not os.path.isdir(build):
            continue
        a = ARCH[arch]
        mca = Mca(a["triple"], a["mattr"])  # edgeq's ARMv7 code is Thumb-2 (GCC's armhf default)
        # XNNPACK's stripped library has no mapping symbols: its code is read, and modeled, as A32.
        xmca = Mca(a.get("xnn_triple", a["triple"]), a["mattr"])
        levels = edgeq_kernels(build)
        for level, models in levels.items():
            xl = None
            if not args.no_xnnpack:
                xl = xnnpack_hot_loops(build, arch, level, os.path.join(build, "xnnpack-probe"))
            for cpu in a["cpus"].get(level, []):
                cache = {}

                def costs_of(km, cpu=cpu, cache=cache):
                    if id(km) not in cache:
                        cache[id(km)] = km.costs(mca, cpu)
                    return cache[id(km)]
                xc = {}
                if xl:
                    for kind, v in xl.items():
                        if v:
                            xc[kind] = xmca.cycles([clean(x) for x in v[0]], cpu, True)
                tag = f"{arch} {level} {cpu}"
                # A level with a kernel for weights in [-127, 127] (neon) gets a row for it
                # (and its depthwise kernels for such weights) and one for its exact
                # kernels; the networks are modeled on the former (their weights assumed
                # free of -128) and, for comparison, on the latter.
                variants = [("gemm_w127", ""), ("gemm", " (exact kernel)")] if "gemm_w127" in models else [("gemm", "")]
                for key, note in variants:
                    g = models[key]
                    gc = costs_of(g)
                    row = [tag + note, g.name, f"{g.main_macs / len(g.main[2]):.2f}",
                           f"{gc['main'] / g.main_macs * 1000:.1f}"]
                    if xl and xl.get("igemm"):
                        loop = xl["igemm"][0]
                        row += [f"{loop_macs(loop) / len(loop):.2f}", f"{xc['igemm'] / loop_macs(loop) * 1000:.1f}"]
                    else:
                        row += ["-", "-"]
                    for k in (3, 5):
                        tile = dw_pick(models, 144)
                        km = models[dw_key(models, key)].get((k, 1, tile))
                        if km:
                            dc = costs_of(km)
                            row.append(f"{(dc['pixel'] + dc['build']) / km.per_loop:.2f}")
                        else:
                            row.append("-")
                        kind = f"dw{k}s1"
                        if xl and xl.get(kind):
                            row.append(f"{xc[kind] / (loop_macs(xl[kind][0]) / k ** 2):.2f}")
                        else:
                            row.append("-")
                    kernel_rows.append(row)
                    for net, make in NETWORKS.items():
                        per = model_network(make(), models, costs_of, key)
                        total = sum(c for _, c in per)
                        loops_only = sum(edgeq_loop_only(models, costs_of, l, key) for l, _ in per)
                        x_total = sum(xnnpack_layer_cycles(xl, xc, l) for l, _ in per) if xc else float("nan")
                        net_rows.append([net, tag + note, f"{total / ghz / 1e6:.2f}", f"{loops_only / ghz / 1e6:.2f}",
                                         f"{x_total / ghz / 1e6:.2f}" if xc else "-"])
                        if args.layers and not note:
                            for l, c in per:
                                x = xnnpack_layer_cycles(xl, xc, l) if xc else float("nan")
                                layer_rows.append([net, tag, l["name"], f"{macs(l) / 1e6:.1f}", f"{c / ghz / 1e3:.1f}",
                                                   f"{edgeq_loop_only(models, costs_of, l, key) / ghz / 1e3:.1f}",
                                                   f"{x / ghz / 1e3:.1f}" if xc else "-"])
    lines += table(["arch level CPU", "edgeq GEMM kernel", "MACs/instr", "edgeq cycles/kMAC",
                    "XNNPACK MACs/instr", "XNNPACK cycles/kMAC", "edgeq dw3x3 cycles/output",
                    "XNNPACK dw3x3", "edgeq dw5x5", "XNNPACK dw5x5"], kernel_rows)
    lines.append("")
    lines += table(["network", "arch level CPU", "edgeq ms (full model)", "edgeq ms (main loops only)",
                    "XNNPACK ms (main loops only)"], net_rows)
    if args.layers:
        lines.append("")
        lines += table(["network", "arch level CPU", "layer", "MMACs", "edgeq us", "edgeq us (loops)",
                        "XNNPACK us (loops)"], layer_rows)
    print("\n".join(lines))


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def kernels_cmd(args):
    for arch, build in (("arm64", args.arm64), ("armhf", args.armhf)):
        if not build or not os.path.isdir(build):
            continue
        for level, models in edgeq_kernels(build).items():
            for key in ("gemm", "gemm_w127"):
                if key in models:
                    print(f"{arch} {level}: {models[key].name}: {models[key].describe()}")
            for key, km in sorted(models.get("dw", {}).items()):
                print(f"    {km.name} (tile {key[2]}): {km.describe()}")
            for key, km in sorted(models.get("dw_w127", {}).items()):
                if km is not models["dw"].get(key):  # the narrow variants (weights in [-127, 127])
                    print(f"    {km.name} (tile {key[2]}): {km.describe()}")


# ---------------------------------------------------------------- x86 validation

X86_LEVELS = {"avx2": "igemm_avx2", "avxvnni": "igemm_avxvnni", "avx512vnni": "igemm_avx512vnni"}


def x86_kernels(build):
    """{level: {"gemm": GemmModel, "row": GemmModel or None}} of the host build (uint8)."""
    objdir = os.path.join(build, "CMakeFiles", "edgeq_runtime.dir", "kernels", "x86")
    out = {}
    for level, stem in X86_LEVELS.items():
        obj = os.path.join(objdir, stem + ".cc.o")
        if not os.path.exists(obj):
            continue
        funcs = disassemble(obj)
        models = {}
        for n in funcs:
            m = re.search(r"\bqu8_igemm_minmax_ukernel_(\d+)x(\d+)c(\d+)__(\w+)\(", n)
            if not m:
                continue
            mr, nr, kr = int(m.group(1)), int(m.group(2)), int(m.group(3))
            body = follow_body(funcs, n)
            models["row" if mr == 1 else "gemm"] = GemmModel(f"qu8_igemm_{mr}x{nr}c{kr}__{m.group(4)}", funcs, body,
                                                             mr, nr, kr)
        if "gemm" in models:
            models.setdefault("row", None)
            out[level] = models
    return out


# The layers of bench/kernels_bench.cc (net, name, in_hw, in_c, out_c, kernel, stride, pad, fc).
def bench_layers(source):
    text = open(source).read()
    out = []
    for m in re.finditer(r'\{"(\w+)", "(\w+)", (\d+), (\d+), (\d+), (\d+), (\d+), (\d+), (true|false)\}', text):
        net, name = m.group(1), m.group(2)
        hw, cin, cout, k, s, pad = (int(m.group(i)) for i in range(3, 9))
        fc = m.group(9) == "true"
        out_hw = 1 if fc else (hw + 2 * pad - k) // s + 1
        out.append(dict(conv(name, out_hw, cin, cout, k, s, fc=fc), net=net))
    return out


def bench_medians(path):
    """{benchmark name: median real time in us} of a Google Benchmark JSON file (medians
    of repetitions, or the single run when there were none)."""
    out = {}
    for b in json.load(open(path))["benchmarks"]:
        agg = b.get("aggregate_name")
        if agg not in (None, "median"):
            continue
        name = b.get("run_name", b["name"])
        if agg is None and name in out:
            continue
        unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
        out[name] = b["cpu_time"] * unit  # the thread's CPU time: the machine may be shared
    return out


def compare_layers(levels, mca, cpu, ghz, measured):
    """Rows of modeled vs measured kernel-benchmark layer times, and |error| per level."""
    layers = bench_layers(os.path.join(ROOT, "bench", "kernels_bench.cc"))
    rows, errs, cache = [], {}, {}
    for level, models in levels.items():
        for l in layers:
            km = models["row"] if l["fc"] and models.get("row") else models["gemm"]
            if id(km) not in cache:
                cache[id(km)] = km.costs(mca, cpu)
            us = km.layer_cycles(cache[id(km)], l) / ghz / 1e3
            key = f"{l['net']}/{l['name']}/{level}"
            meas = measured.get(key)
            if meas:
                errs.setdefault(level, []).append((us - meas) / meas)
            rows.append([key, f"{macs(l) / 1e6:.1f}", f"{us:.1f}", f"{meas:.1f}" if meas else "-",
                         f"{(us - meas) / meas * 100:+.0f}%" if meas else "-"])
    out = table(["layer/level", "MMACs", "modeled us", "measured us (median)", "error"], rows)
    for level, e in errs.items():
        a = sorted(abs(x) for x in e)
        signed = sorted(e)
        out.append(f"\n{level}: {len(e)} layers; error median {signed[len(e) // 2] * 100:+.0f}%, "
                   f"|error| median {a[len(a) // 2] * 100:.0f}%, max {a[-1] * 100:.0f}%")
    return out


CLOCK_C = r"""
#include <stdio.h>
#include <time.h>
/* One dependent add per cycle on every x86-64 core: the chain's length over its CPU time
   is the clock the core ran at. */
int main(void) {
  double best = 0;
  for (int rep = 0; rep < 15; ++rep) {
    struct timespec a, b;
    unsigned long x = 0, n = 50000000;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (unsigned long i = 0; i < n; ++i)
      __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                       "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
    double ghz = 8.0 * n / s / 1e9;
    if (ghz > best) best = ghz;
  }
  printf("%.3f\n", best);
  return 0;
}
"""


def measured_clock():
    """The core's clock in GHz from a chain of dependent adds (fastest of 15 runs)."""
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "clock.c"), os.path.join(d, "clock")
        open(src, "w").write(CLOCK_C)
        subprocess.run(["cc", "-O2", src, "-o", exe], check=True)
        return float(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)


def x86_cmd(args):
    levels = x86_kernels(args.host)
    if not levels:
        raise SystemExit(f"no x86 kernel objects in {args.host}")
    ghz = args.ghz if args.ghz else measured_clock()
    measured = bench_medians(args.bench_json) if args.bench_json else {}
    how = "given" if args.ghz else "measured with a chain of dependent adds"
    print(f"llvm-mca -mcpu={args.mcpu}, times at {ghz:.3f} GHz ({how}); measured: medians of the "
          "thread CPU time of edgeq_kernels_bench\n")
    for level, models in levels.items():
        for kind in ("gemm", "row"):
            if models.get(kind):
                print(f"* {level}: {models[kind].name}: {models[kind].describe()}")
    print()
    print("\n".join(compare_layers(levels, Mca("x86_64"), args.mcpu, ghz, measured)))


def compare_cmd(args):
    """Measured figures from a board (tools/arm_board_bench.sh) beside the model."""
    arch = "armhf" if args.armhf_build else "arm64"
    build = args.armhf_build or args.arm64
    a = ARCH[arch]
    mca = Mca(a["triple"], a["mattr"])
    levels = edgeq_kernels(build, act="unsigned char")  # the benchmarks run uint8 activations
    for models in levels.values():
        models["row"] = None
    measured = {}
    for f in glob.glob(os.path.join(args.results, "kernels-*.json")):
        measured.update(bench_medians(f))
    print(f"Board results {args.results}; model: llvm-mca -mcpu={args.cpu} at {args.ghz} GHz\n")
    print("\n".join(compare_layers({k: v for k, v in levels.items() if args.cpu in a["cpus"].get(k, [args.cpu])},
                                   mca, args.cpu, args.ghz, measured)))
    rows = []
    for f in sorted(glob.glob(os.path.join(args.results, "model-*.json"))):
        j = json.load(open(f))
        net = "resnet18" if "resnet18" in j["model"] else "mobilenetv2" if "mobilenet_v2" in j["model"] else None
        level = j["isa"]
        modeled = "-"
        if net and level in levels:
            models = dict(levels[level])
            cache = {}

            def costs_of(km, cache=cache):
                if id(km) not in cache:
                    cache[id(km)] = km.costs(mca, args.cpu)
                return cache[id(km)]
            per = model_network(NETWORKS[net](), models, costs_of)
            modeled = f"{sum(c for _, c in per) / args.ghz / 1e6:.2f}"
        rows.append([os.path.basename(j["model"]), level, str(j["threads"]), f"{j['latency_ms']['median']:.2f}",
                     modeled])
    print()
    print("\n".join(table(["model", "level", "threads", "measured ms (median)",
                           "modeled ms (convolutions, one core)"], rows)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("kernels", "report"):
        s = sub.add_parser(name)
        s.add_argument("--arm64", default=os.path.join(ROOT, "build-arm64"), help="AArch64 cross build")
        s.add_argument("--armhf", default=os.path.join(ROOT, "build-armhf"), help="ARMv7 cross build")
        if name == "report":
            s.add_argument("--ghz", type=float, default=2.4, help="clock of the modeled times (default 2.4)")
            s.add_argument("--layers", action="store_true", help="also the per-layer table")
            s.add_argument("--no-xnnpack", action="store_true", help="leave XNNPACK out")
    s = sub.add_parser("compare", help="board results (tools/arm_board_bench.sh) beside the model")
    s.add_argument("--arm64", default=os.path.join(ROOT, "build-arm64"), help="AArch64 cross build")
    s.add_argument("--armhf-build", default=None, help="ARMv7 cross build (for an armhf board)")
    s.add_argument("--results", required=True, help="directory of kernels-*.json and model-*.json")
    s.add_argument("--cpu", required=True, help="llvm-mca CPU of the board's core, e.g. cortex-a76")
    s.add_argument("--ghz", type=float, required=True, help="the core's clock")
    s = sub.add_parser("x86")
    s.add_argument("--host", default=os.path.join(ROOT, "build"), help="host build")
    s.add_argument("--mcpu", default="znver4", help="llvm-mca CPU of this machine (default znver4)")
    s.add_argument("--ghz", type=float, default=None, help="clock of the modeled times (default: measured)")
    s.add_argument("--bench-json", help="edgeq_kernels_bench --benchmark_format=json output to compare with")
    args = p.parse_args()
    for tool in (MCA, OBJDUMP):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise SystemExit(f"{tool} not found: apt-get install llvm-19 (or set EDGEQ_LLVM_MCA / EDGEQ_LLVM_OBJDUMP)")
    {"kernels": kernels_cmd, "report": report, "x86": x86_cmd, "compare": compare_cmd}[args.cmd](args)


if __name__ == "__main__":
    main()
