#!/usr/bin/env bash
# Counts the AArch64 instructions of loading a model and creating a session, by running
# tools/startup_probe.c under qemu-user with one guest instruction per translation
# block, block chaining off and every executed block logged (-singlestep -d
# nochain,exec): each "Trace" line of the log is then one executed instruction. The
# probe exits right after a chosen step, so
#     load + session creation = count(session) - count(none)
# (process start, dynamic linking and exit are the same in both). A loop of a known
# 2 x 10^6 instructions checks the counting first: count(loop) - count(none) must be
# 2,000,000 plus the loop's few set-up instructions.
#
#   tools/arm_startup_count.sh MODEL.edgeq [ISA]     (ISA default: neondot)
#
# Environment: EDGEQ_ARM_BUILD (default <repo>/build/build-arm64, else
# <repo>/build-arm64: the cross build holding edgeq_startup_probe and sysroot/),
# QEMU_CPU (default cortex-a76: dotprod, so the neondot level). glibc and libstdc++ come
# from the cross toolchain (qemu -L /usr/aarch64-linux-gnu), the other libraries from
# the build's sysroot, as tools/arm_test.sh runs them. What is not counted:
# the kernel's work (mmap, page faults, reading the file), which a device pays too.
# Lazy binding of the libraries' functions is counted in the step that first calls them.
# Prints the counts and the figure for the 5 ms target at a few instruction rates.
set -euo pipefail

model="${1:?usage: tools/arm_startup_count.sh MODEL.edgeq [ISA]}"
isa="${2:-neondot}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${EDGEQ_ARM_BUILD:-}"
if [[ -z "$build" ]]; then
  for b in "$root/build/build-arm64" "$root/build-arm64"; do
    [[ -x "$b/edgeq_startup_probe" ]] && build="$b" && break
  done
fi
probe="$build/edgeq_startup_probe"
[[ -x "$probe" ]] || { echo "no edgeq_startup_probe in '$build': cross-build it (tools/arm_test.sh arm64)" >&2; exit 1; }
cpu="${QEMU_CPU:-cortex-a76}"

# Executed instructions of one probe run (its stderr is shown; its stdout discarded).
count() {
  qemu-aarch64 -L /usr/aarch64-linux-gnu -E "LD_LIBRARY_PATH=$build/sysroot/usr/lib/aarch64-linux-gnu" -cpu "$cpu" \
    -singlestep -d nochain,exec -D /dev/fd/3 \
    "$probe" "$model" "$1" "$isa" 3>&1 1>/dev/null | grep -c '^Trace'
}

none=$(count none)
loop=$(count loop)
load=$(count load)
session=$(count session)
calib=$((loop - none))
echo "qemu-aarch64 -cpu $cpu, level $isa, model $model"
echo "process start and exit (baseline): $none instructions"
echo "calibration loop: $calib instructions counted for 2000000 (+ set-up)"
if ((calib < 2000000 || calib > 2000100)); then
  echo "the counting is off: the calibration loop should count 2000000 plus a few" >&2
  exit 1
fi
echo "load:                    $((load - none)) instructions"
echo "load + session creation: $((session - none)) instructions"
# The 5 ms target as instructions at a sustained rate (instructions per ns = GHz x IPC).
awk -v n=$((session - none)) 'BEGIN {
  split("Cortex-A55 1.8 GHz x IPC 0.7|Cortex-A76 2.4 GHz x IPC 1.0|Cortex-A76 2.4 GHz x IPC 2.0", name, "|");
  split("1.26 2.4 4.8", rate, " ");
  for (i = 1; i <= 3; ++i)
    printf("  %-32s %.2f instr/ns: %.3f ms (5 ms = %.1f M instructions)\n", name[i], rate[i], n / rate[i] / 1e6,
           5e6 * rate[i] / 1e6);
}'
