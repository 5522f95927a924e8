#!/usr/bin/env bash
# Reads the ARM GEMM microkernels' and depthwise row kernels' machine code and reports,
# for each kernel's inner loop, the multiply-accumulates per instruction against the
# ideal of its ISA.
#
#   tools/arm_mac_report.sh [BUILD_DIR...]     (default: build-arm64 and build-armhf)
#
# The inner loop of a kernel is the innermost loop (a backward branch with no other
# backward branch inside it) holding the most multiply instructions: the main k loop.
# MACs per instruction (8-bit multiplies, int32 sums):
#   smull / smull2 / vmull.s8   8  (8 x int8 -> 8 x int16; the following sadalp/vpadal
#                                   adds them into int32 and counts 0)
#   smlal / smlal2 (.8b/.16b)   8  (the NEON ideal: one 8 x 8-bit multiply-add per instr)
#   sdot / udot / usdot        16  (4 lanes x 4 products: the dotprod ideal)
#   smmla / ummla / usmmla     32  (2x8 by 8x2: the i8mm ideal)
#   smlal / smlal2 (.4h/.8h),   4  (int16 x int16 -> int32: the NEON depthwise kernels,
#   vmlal.s16                       which widen activations and weights to int16)
# Depthwise: the kernels specialised for 3x3 and 5x5 windows at stride 1; their inner
# loop is one output pixel of a channel tile, every tap unrolled. A 3x3 window is two
# row pairs (NEON) or one row quad (dotprod), so a quarter of those MACs multiply the
# zero weights of the missing fourth row; 5x5 is three pairs or two quads (1/6, 3/8).
# Reported: MACs per loop iteration, instructions per iteration (all of them: loads,
# flips, address updates, the branch), their ratio, and that ratio over the ideal.
# Also flags stack accesses inside the loop (register spills).
# The NEON kernels pair every smull with a sadalp (summing two int16 products with
# smlal would overflow for (-128) x (-128) twice), so their ceiling is 4 MACs/instr, half
# the smlal ideal; the rest of every loop is loads, the uint8 flip and loop control.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -eq 0 ]; then
  set -- "$root/build-arm64" "$root/build-armhf"
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3

for build in "$@"; do
  objdir="$build/CMakeFiles/edgeq_runtime.dir/kernels/arm"
  [ -d "$objdir" ] || { echo "(no ARM kernel objects in $build: build it with tools/arm_test.sh)"; continue; }
  if grep -q 'aarch64' "$build/CMakeCache.txt"; then objdump=aarch64-linux-gnu-objdump; else objdump=arm-linux-gnueabihf-objdump; fi
  echo "== $build ($objdump)"
  for obj in "$objdir"/q8_igemm_*.o "$objdir"/dw_neon*.o; do
    echo "@@ $(basename "$obj" .cc.o)"  # the file, named after its kernels
    "$objdump" -d --no-show-raw-insn -C "$obj"
  done | "$python" -c '
import re, sys

MACS = {"smull": 8, "smull2": 8, "smlal": 8, "smlal2": 8, "vmull.s8": 8, "vmlal.s8": 8, "vmlal.s16": 4,
        "sdot": 16, "udot": 16, "usdot": 16, "vsdot.s8": 16, "smmla": 32, "ummla": 32, "usmmla": 32}
IDEAL = [("smmla", 32), ("usmmla", 32), ("sdot", 16), ("udot", 16), ("usdot", 16)]
BRANCH = re.compile(r"^(b\.\w+|cbz|cbnz|tbz|tbnz|b(ne|eq|cc|cs|lo|hs|hi|ls|gt|lt|ge|le|mi|pl)?(\.[nw])?)$")

funcs, file_of, cur, cur_file = {}, {}, None, ""
for line in sys.stdin:
    if line.startswith("@@ "):
        cur_file = line[3:].strip()
        continue
    m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
    if m:
        cur = m.group(1)
        funcs[cur] = []
        file_of[cur] = cur_file
        continue
    m = re.match(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
    if m and cur is not None:
        funcs[cur].append((int(m.group(1), 16), m.group(2), m.group(3)))

def macs(mn, ops):
    if mn in ("smlal", "smlal2", "smull", "smull2"):
        dest = ops.split(",")[0]
        return 8 if dest.endswith(".8h") else 4 if dest.endswith(".4s") else 0  # int8 / int16 operands
    return MACS.get(mn, 0)

DW = re.compile(r"dw_rows<[^<]*::(\w+)<(\d+)>, (signed|unsigned) char, ([35]), \d+, 1>")
# The NEON direct kernel (kernels/arm/dw_direct_neon.h): its fp32 pixel loop, 8 channels;
# the exact variant and the narrow one (weights in [-127, 127], the last template flag).
DW_DIRECT = re.compile(r"dw_direct_half<[^<]*::(\w+)<(\d+)>, (signed|unsigned) char, ([35]), \d+, 1, \4, false(?:, (true|false))?>")

rows = []
for name, ins in funcs.items():
    dw = DW.search(name) or DW_DIRECT.search(name)
    if ("igemm" not in name or "requantize" in name) and not dw:
        continue
    loops = []
    for idx, (addr, mn, ops) in enumerate(ins):
        if BRANCH.match(mn):
            t = re.search(r"(?:^|,\s*)([0-9a-f]+) <", ops)
            if t and int(t.group(1), 16) < addr:
                start = int(t.group(1), 16)
                body = [x for x in ins if start <= x[0] <= addr]
                loops.append((start, addr, body))
    inner = [l for l in loops if not any(o is not l and l[0] <= o[0] and o[1] < l[1] for o in loops)]
    if not inner:
        continue
    # The loop with the most multiplies; of equals, the shortest (the direct depthwise
    # kernel has a second pixel loop, for a partial 8-channel half, that stores through a buffer).
    start, end, body = max(inner, key=lambda l: (sum(macs(mn, ops) > 0 for _, mn, ops in l[2]), -len(l[2])))
    total = sum(macs(mn, ops) for _, mn, ops in body)
    if total == 0:
        continue
    kinds = sorted({mn for _, mn, ops in body if macs(mn, ops)})
    ideal = max([v for k, v in IDEAL if k in kinds] or [8])
    spills = sum("[sp" in ops or "sp]" in ops or ", sp" in ops for _, mn, ops in body)
    if dw:
        traits, nv, sign, k = dw.groups()[:4]
        narrow = dw.re is DW_DIRECT and dw.group(5) == "true"
        isa = "neondot" if "Dot" in traits else "neon"
        group = "c4" if "Quads" in traits else "c2"
        short = (f"q8_dwconv_minmax_ukernel_{4 * int(nv)}{group}__{isa} {k}x{k} stride 1 "
                 "(int8 and uint8 activations; one output pixel)")
        if "dw_direct_half" in name:
            variant = " narrow (weights in [-127, 127])" if narrow else ""
            short = (f"q8_dwconv_minmax_ukernel_{4 * int(nv)}{group}__{isa} {k}x{k} stride 1 direct{variant} "
                     f"({sign} char activations; pixels of 8 channels per loop)")
        ideal = 16 if "Dot" in traits else 8
    else:
        short = re.sub(r"\(anonymous namespace\)::|^void |edgeq::kern::", "", name).split("(")[0]
        kernel = file_of[name]
        if kernel.startswith("q8_igemm_") and ("<true>" in short or "<false>" in short):
            # The body template of the kernel of the file (not inlined into it): name the kernel.
            short = ("qu8" if "<true>" in short else "qs8") + kernel[2:]
    rows.append((short, total, len(body), "/".join(kinds), ideal, spills))

for short, total, n, kinds, ideal, spills in rows:
    ratio = total / n
    print(f"{short}")
    print(f"  inner loop: {n} instructions, {total} MACs per iteration ({kinds}); "
          f"{ratio:.2f} MACs/instr vs ideal {ideal} ({100 * ratio / ideal:.0f}%)"
          + (f"; {spills} stack accesses (spills)" if spills else "; no spills"))
'
done
