#!/usr/bin/env bash
# Runs the standard benchmark set on an ARM Linux board and prints the measured figures
# beside the modeled ones of tools/arm_cycle_model.py (docs/arm-cycle-model.md).
#
#   tools/arm_board_bench.sh --cpu CPU --ghz GHZ [--ssh USER@BOARD] [--arch arm64|armhf]
#                            [--core N] [--levels neon,neondot,neoni8mm]
#
#   --cpu     the llvm-mca name of the board's core (cortex-a76 for a Raspberry Pi 5,
#             cortex-a55, cortex-a53, neoverse-n1, ...) and --ghz its clock: the model's side
#   --ssh     run on that board over ssh (scp copies the files to ~/edgeq-board there);
#             without it, run here (on the board itself, in a checkout that has the files)
#   --core    the core to pin to with taskset (default: the last one, a big core on most
#             big.LITTLE boards)
#   --levels  the levels to run (default: every level of the architecture; a level the CPU
#             lacks is reported and skipped)
#
# What it needs: build-<arch>/device (the cross build's board files: tools/arm_test.sh, or
# the ninja targets and tools/arm_bundle.sh of docs/arm.md) and the int8 ResNet-18 and
# MobileNetV2 as .edgeq files, converted by the host's build/edgeq from build/models
# (tools/make_models.py); the script converts them when build/edgeq is there.
# What it runs, single-threaded, pinned, per level (EDGEQ_ISA):
#   edgeq bench MODEL --threads 1 --runs 50 --warmup 5 --json
#   edgeq_kernels_bench --benchmark_filter='^(resnet18|mobilenetv2)/' --benchmark_repetitions=5
# The JSON results land in build-<arch>/board-results; then
#   tools/arm_cycle_model.py compare --results build-<arch>/board-results --cpu CPU --ghz GHZ
# prints the per-layer and per-model tables, modeled beside measured (medians), with the
# error. That needs llvm-19 and the kernel object files of the cross build, so it runs on
# the host (with --ssh) or wherever those are.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch=arm64 ssh_target="" cpu="" ghz="" core="" levels=""
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --ssh) ssh_target="$2"; shift 2 ;;
    --cpu) cpu="$2"; shift 2 ;;
    --ghz) ghz="$2"; shift 2 ;;
    --core) core="$2"; shift 2 ;;
    --levels) levels="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "arm_board_bench: unknown argument $1" >&2; usage ;;
  esac
done
if [ -z "$cpu" ] || [ -z "$ghz" ]; then echo "arm_board_bench: --cpu and --ghz are required" >&2; usage; fi
case "$arch" in
  arm64) : "${levels:=neon,neondot,neoni8mm}" ;;
  armhf) : "${levels:=neon}" ;;
  *) echo "arm_board_bench: --arch is arm64 or armhf" >&2; exit 2 ;;
esac

build="$root/build-$arch"
device="$build/device"
results="$build/board-results"
[ -x "$device/bin/edgeq" ] || { echo "arm_board_bench: no $device/bin/edgeq: build the board files first (docs/arm.md)" >&2; exit 1; }
mkdir -p "$results" "$device/models"
rm -f "$results"/*.json

# The models, converted on the host.
for name in resnet18_int8 mobilenet_v2_int8; do
  if [ ! -f "$device/models/$name.edgeq" ]; then
    if [ -x "$root/build/edgeq" ] && [ -f "$root/build/models/$name.onnx" ]; then
      "$root/build/edgeq" convert "$root/build/models/$name.onnx" -o "$device/models/$name.edgeq" >/dev/null
    else
      echo "arm_board_bench: no $device/models/$name.edgeq and no build/edgeq + build/models/$name.onnx to make it" >&2
      exit 1
    fi
  fi
done

# The commands that run on the board, as one shell script (the same locally and over ssh).
board_script() {
  cat <<EOF
set -u
cd "\$1"
export LD_LIBRARY_PATH=\$PWD/lib
core="$core"
[ -n "\$core" ] || core=\$((\$(nproc) - 1))
pin="taskset -c \$core"
command -v taskset >/dev/null || pin=""
mkdir -p results
for level in ${levels//,/ }; do
  for m in models/*.edgeq; do
    n=\$(basename "\$m" .edgeq)
    if EDGEQ_ISA=\$level \$pin bin/edgeq bench "\$m" --threads 1 --runs 50 --warmup 5 --json > "results/model-\$n-\$level.json" 2> results/err.txt; then
      echo "  ran: edgeq bench \$n at \$level"
    else
      echo "  skipped: \$n at \$level (\$(head -c 200 results/err.txt))"; rm -f "results/model-\$n-\$level.json"
    fi
  done
done
if \$pin bin/edgeq_kernels_bench --benchmark_filter='^(resnet18|mobilenetv2)/' --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_format=json > results/kernels-all.json 2> results/err.txt; then
  echo "  ran: edgeq_kernels_bench (every level this CPU has)"
else
  echo "  FAILED: edgeq_kernels_bench: \$(head -c 400 results/err.txt)"; exit 1
fi
grep -m1 -i 'model name\|^CPU part' /proc/cpuinfo || true
EOF
}

if [ -n "$ssh_target" ]; then
  echo "== copying $device to $ssh_target:edgeq-board"
  ssh "$ssh_target" 'rm -rf edgeq-board && mkdir -p edgeq-board'
  scp -qr "$device"/. "$ssh_target:edgeq-board/"
  echo "== running on $ssh_target"
  board_script | ssh "$ssh_target" 'bash -s -- edgeq-board'
  scp -q "$ssh_target:edgeq-board/results/*.json" "$results/"
else
  echo "== running here ($(uname -m))"
  board_script | bash -s -- "$device"
  cp "$device"/results/*.json "$results/"
fi

echo "== measured beside modeled (tools/arm_cycle_model.py compare)"
compare=(/usr/bin/env python3 "$root/tools/arm_cycle_model.py" compare --results "$results" --cpu "$cpu" --ghz "$ghz")
[ "$arch" = armhf ] && compare+=(--armhf-build "$build")
if ! "${compare[@]}"; then
  echo "arm_board_bench: the comparison needs llvm-19 and the kernel objects of $build; the results are in $results:" >&2
  echo "  run on the host: tools/arm_cycle_model.py compare --results DIR --cpu $cpu --ghz $ghz" >&2
  exit 1
fi
