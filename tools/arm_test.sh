#!/usr/bin/env bash
# Cross-builds edgeq for ARM and runs its whole ctest suite under qemu-user.
#
#   tools/arm_test.sh [arm64|armhf|all]      (default: all)
#
# arm64 (build-arm64/, toolchains/aarch64-linux-gnu.cmake) runs three times, once per
# emulated CPU, and checks that dispatch picks the level that CPU has:
#   -cpu max         i8mm       -> neoni8mm  the whole suite (every level runs here)
#   -cpu cortex-a76  dotprod    -> neondot   the suites whose code depends on the level
#   -cpu cortex-a53  NEON only  -> neon      likewise (qemu traps sdot/smmla there, so a
#                                            wrong pick fails)
# The suites left out of the last two (Ref*, Quant{Methods,Stats,Goldens}, Format,
# Validate, Planner) run scalar code only, the same on every CPU; they are the slow ones
# under qemu.
# armhf (build-armhf/, toolchains/arm-linux-gnueabihf.cmake) runs the whole suite once,
# ARMv7-A with NEON (-cpu cortex-a15) -> neon.
# Cross builds have no ONNX importer, so the suites that need it (importer, model files,
# the PyTorch / ONNX Runtime comparisons, the CLI) are not configured, nor are the
# benchmarks (not run here); every other test runs. The dependencies come from Debian's
# ARM packages unpacked into build-<arch>/sysroot by tools/arm_sysroot.sh (nothing ARM
# is installed system-wide).
#
# Missing host packages (cross compilers, qemu-user, cmake, ninja, pkg-config, flatc)
# are installed with apt-get (root, or sudo). Environment: EDGEQ_JOBS (default: nproc),
# EDGEQ_ARM_BUILD_PREFIX (default: <repo>/build, giving build-arm64 and build-armhf).
set -euo pipefail

which="${1:-all}"
case "$which" in
  arm64) arches=(arm64) ;;
  armhf) arches=(armhf) ;;
  all) arches=(arm64 armhf) ;;
  *) echo "usage: tools/arm_test.sh [arm64|armhf|all]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${EDGEQ_ARM_BUILD_PREFIX:-$root/build}"
jobs="${EDGEQ_JOBS:-$(nproc)}"
step() { printf '\n== %s\n' "$*"; }

# ---- host packages
packages=(cmake ninja-build pkg-config flatbuffers-compiler qemu-user)
for arch in "${arches[@]}"; do
  case "$arch" in
    arm64) packages+=(g++-aarch64-linux-gnu) ;;
    armhf) packages+=(g++-arm-linux-gnueabihf) ;;
  esac
done
# shellcheck source=tools/apt_install.sh
source "$root/tools/apt_install.sh"
apt_install "${packages[@]}"

# ---- build and test each architecture
failed=0
for arch in "${arches[@]}"; do
  case "$arch" in
    arm64) toolchain=aarch64-linux-gnu; runs=("max neoni8mm all" "cortex-a76 neondot level" "cortex-a53 neon level") ;;
    armhf) toolchain=arm-linux-gnueabihf; runs=("cortex-a15 neon all") ;;
  esac
  build="$prefix-$arch"
  step "$arch: sysroot $build/sysroot"
  bash "$root/tools/arm_sysroot.sh" "$arch" "$build/sysroot"
  step "$arch: configuring and building in $build"
  generator=()
  [ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/$toolchain.cmake" -DEDGEQ_SYSROOT="$build/sysroot" \
    -DEDGEQ_BUILD_BENCHMARKS=OFF >/dev/null
  # QEMU_CPU also applies to the GoogleTest discovery that runs after linking.
  QEMU_CPU="${runs[0]%% *}" cmake --build "$build" -j "$jobs"
  for run in "${runs[@]}"; do
    read -r cpu isa which_tests <<<"$run"
    select=()
    [ "$which_tests" = all ] || select=(-E '^(Ref|QuantMethods|QuantStats|QuantGoldens|Format|Validate|Planner)[A-Za-z0-9]*\.')
    step "$arch: ctest under qemu -cpu $cpu (dispatch must pick $isa; $which_tests tests)"
    if ! (cd "$build" && QEMU_CPU="$cpu" EDGEQ_EXPECT_ISA="$isa" ctest --output-on-failure -j "$jobs" --timeout 300 "${select[@]}"); then
      echo "FAILED: $arch -cpu $cpu" >&2
      failed=1
    fi
  done
done
exit "$failed"
