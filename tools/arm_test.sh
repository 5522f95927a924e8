#!/usr/bin/env bash
# Cross-builds edgeq for ARM and runs its unit tests (edgeq_tests, the whole ctest suite
# of a cross build) under qemu-user, in one process per job (tools/gtest_shards.sh).
#
#   tools/arm_test.sh [arm64|armhf|all]      (default: all)
#
# arm64 (build-arm64/, toolchains/aarch64-linux-gnu.cmake) runs three times, once per
# emulated CPU, and checks that dispatch picks the level that CPU has:
#   -cpu max         i8mm       -> neoni8mm  the whole suite (every level runs here) but
#                                            CalibInputs (below)
#   -cpu cortex-a76  dotprod    -> neondot   the suites whose code depends on the level
#   -cpu cortex-a53  NEON only  -> neon      likewise (qemu traps sdot/smmla there, so a
#                                            wrong pick fails)
# The suites left out of the last two (Ref*, Quant{Methods,Stats,Goldens}, Format,
# Validate, Planner) run scalar code only, the same on every CPU; they are the slow ones
# under qemu. So are CalibInputs (the observers' searches: 35 s of one test under -cpu
# max, 1.9 s on the host; armhf's run keeps it, for 32-bit code) and AllocationFailure
# (the same scenario once per allocation), whose kernels the suites left in cover.
# armhf (build-armhf/, toolchains/arm-linux-gnueabihf.cmake) runs the whole suite once,
# ARMv7-A with NEON (-cpu cortex-a15) -> neon.
# Cross builds have no ONNX importer, so the suites that need it (importer, model files,
# the PyTorch / ONNX Runtime comparisons, the CLI tests, which convert ONNX files) are
# not configured; every other test runs. The dependencies come from Debian's ARM
# packages unpacked into build-<arch>/sysroot by tools/arm_sysroot.sh (nothing ARM is
# installed system-wide).
#
# The builds also make what goes on a device: the `edgeq` tool (without the importer:
# `convert` and `export-onnx` only say so) and the benchmarks (bench/), gathered with
# the libraries they need into build-<arch>/device by tools/arm_bundle.sh. Before the
# tests, a smoke check runs each of them from there once under qemu (the first CPU
# above) on tiny work: `edgeq convert` must refuse; `edgeq info`, `run` and `bench` and
# edgeq_model_bench run test/data/small_qdq.onnx converted by the host's edgeq
# (EDGEQ_HOST_EDGEQ, default <repo>/build/edgeq; without it these are reported as
# skipped), and `run` must give the host's output byte for byte; edgeq_kernels_bench
# and edgeq_misc_bench run a few filtered benchmarks with a tiny --benchmark_min_time,
# and the peak and GEMM benchmarks of the expected level must be there. This only
# checks that they run: timings under qemu mean nothing.
#
# End to end, against x86 (tools/arm_models.py): the host's edgeq converts every model
# the host tests run (the quantized op graphs of the export gtest, the committed QDQ /
# QOperator and float models, the int8 torchvision models of <host build>/models) and
# runs them; the ARM `edgeq run` must give the same output bytes under the first CPU
# above at every level it has (ref up to its best), and with 2 threads; float models at
# ref (the optimized float path is XNNPACK, whose kernels differ by architecture).
#
# Missing host packages (cross compilers, qemu-user, cmake, ninja, pkg-config, flatc)
# are installed with apt-get (root, or sudo). Environment: EDGEQ_JOBS (default: nproc),
# EDGEQ_ARM_BUILD_PREFIX (default: <repo>/build, giving build-arm64 and build-armhf),
# EDGEQ_HOST_EDGEQ (default: <repo>/build/edgeq).
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
host_edgeq="${EDGEQ_HOST_EDGEQ:-$root/build/edgeq}"
# shellcheck source=tools/steps.sh
source "$root/tools/steps.sh"
# shellcheck source=tools/gtest_shards.sh
source "$root/tools/gtest_shards.sh"

# smoke BUILD TRIPLET QEMU CPU ISA: runs the tool and the benchmarks of BUILD once each
# under qemu on tiny work (see the top of this file); returns non-zero on a failure.
smoke() {
  local build="$1" triplet="$2" qemu="$3" cpu="$4" isa="$5"
  local work="$build/smoke" data="$root/test/data" bin="$build/device/bin" bad=0
  # What a board gets (tools/arm_bundle.sh): the binaries and libraries of BUILD/device,
  # with only glibc and libstdc++ from the system (qemu -L: the cross toolchain's).
  local run=("$qemu" -L "/usr/$triplet" -E "LD_LIBRARY_PATH=$build/device/lib" -cpu "$cpu")
  rm -rf "$work"
  mkdir -p "$work"
  check() {  # check WHAT CMD...: CMD must exit 0; its output is kept in $work/out
    local what="$1" rc=0
    shift
    "$@" >"$work/out" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then echo "  ok: $what"; else echo "  FAILED: $what (exit $rc)"; sed 's/^/    /' "$work/out"; bad=1; fi
  }
  expect() {  # expect WHAT PATTERN: PATTERN (grep -E) in the last output
    if grep -Eq -- "$2" "$work/out"; then echo "  ok: $1"; else echo "  FAILED: $1: no '$2' in:"; sed 's/^/    /' "$work/out"; bad=1; fi
  }
  check "edgeq --help" "${run[@]}" "$bin/edgeq" --help
  expect "edgeq lists bench" '^ +bench '
  if "${run[@]}" "$bin/edgeq" convert "$data/small_qdq.onnx" -o "$work/x.edgeq" >"$work/out" 2>&1; then
    echo "  FAILED: edgeq convert succeeded in a build without the importer"; bad=1
  else
    expect "edgeq convert refuses" 'no ONNX importer'
  fi
  if [ -x "$host_edgeq" ]; then
    local m="$work/small_qdq.edgeq"
    "$host_edgeq" convert "$data/small_qdq.onnx" -o "$m" >/dev/null 2>&1 || { echo "  FAILED: host edgeq convert"; return 1; }
    "$host_edgeq" run "$m" --input "$data/small_qdq.input.npy" --output "$work/host.npy" >/dev/null
    check "edgeq info" "${run[@]}" "$bin/edgeq" info "$m"
    check "edgeq run" "${run[@]}" "$bin/edgeq" run "$m" --input "$data/small_qdq.input.npy" --output "$work/arm.npy"
    if cmp -s "$work/host.npy" "$work/arm.npy"; then echo "  ok: edgeq run output = the host's"; else
      echo "  FAILED: edgeq run output differs from the host's"; bad=1; fi
    check "edgeq bench" "${run[@]}" "$bin/edgeq" bench "$m" --runs 2 --warmup 1
    expect "edgeq bench picks $isa" "^isa: +$isa\$"
    check "edgeq_model_bench" "${run[@]}" "$bin/edgeq_model_bench" "$m" --benchmark_min_time=0.001
    expect "edgeq_model_bench ran the model" '^model/.*small_qdq.edgeq +[0-9.]+ ms'
  else
    echo "  SKIPPED: edgeq info/run/bench and edgeq_model_bench (no host edgeq at $host_edgeq to convert"
    echo "           test/data/small_qdq.onnx; build the host first or set EDGEQ_HOST_EDGEQ)"
  fi
  check "edgeq_kernels_bench" "${run[@]}" "$bin/edgeq_kernels_bench" --benchmark_min_time=0.001 \
    --benchmark_filter='^peak/|^resnet18/fc_512x1000/'
  expect "edgeq_kernels_bench peak/$isa" "^peak/$isa +[0-9.]+ us .*GMAC/s="
  expect "edgeq_kernels_bench resnet18/fc_512x1000/$isa" "^resnet18/fc_512x1000/$isa +[0-9.]+ us .*%peak="
  check "edgeq_misc_bench" "${run[@]}" "$bin/edgeq_misc_bench" --benchmark_min_time=0.001 \
    --benchmark_filter='^dw/7x7x960_s1/|/7x7x1280/'
  expect "edgeq_misc_bench ran" '^global_avgpool_s8/7x7x1280/ref +[0-9.]+ us'
  return "$bad"
}

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

# ---- the models of the end-to-end check, converted and run on the host
failed=0
models_work="$prefix-arm-models"
if [ -x "$host_edgeq" ]; then
  step "host: converting and running the models the ARM builds must reproduce (tools/arm_models.py)"
  host_build="$(dirname "$host_edgeq")"
  rm -rf "$models_work"
  if ! /usr/bin/python3 "$root/tools/arm_models.py" prepare --host-build "$host_build" --out "$models_work" \
      --models "$host_build/models" | grep -v '^  host: '; then
    echo "FAILED: preparing the models on the host" >&2
    failed=1
  fi
fi

# ---- build and test each architecture
for arch in "${arches[@]}"; do
  case "$arch" in
    arm64) toolchain=aarch64-linux-gnu; qemu=qemu-aarch64
      runs=("max neoni8mm most" "cortex-a76 neondot level" "cortex-a53 neon level") ;;
    armhf) toolchain=arm-linux-gnueabihf; qemu=qemu-arm; runs=("cortex-a15 neon all") ;;
  esac
  build="$prefix-$arch"
  step "$arch: sysroot $build/sysroot"
  bash "$root/tools/arm_sysroot.sh" "$arch" "$build/sysroot"
  step "$arch: configuring and building in $build"
  generator=()
  [ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/$toolchain.cmake" -DEDGEQ_SYSROOT="$build/sysroot" >/dev/null
  # QEMU_CPU also applies to the GoogleTest discovery that runs after linking.
  QEMU_CPU="${runs[0]%% *}" cmake --build "$build" -j "$jobs"
  bash "$root/tools/arm_bundle.sh" "$build"
  read -r cpu isa _ <<<"${runs[0]}"
  step "$arch: smoke check of the edgeq tool and the benchmarks under qemu -cpu $cpu (timings mean nothing)"
  if ! smoke "$build" "$toolchain" "$qemu" "$cpu" "$isa"; then
    echo "FAILED: $arch smoke check" >&2
    failed=1
  fi
  step "$arch: every model at every level under qemu -cpu $cpu against the host's outputs (tools/arm_models.py)"
  if [ -f "$models_work/cases.json" ]; then
    case "$isa" in
      neoni8mm) levels=ref,neon,neondot,neoni8mm ;;
      neondot) levels=ref,neon,neondot ;;
      *) levels=ref,neon ;;
    esac
    if ! /usr/bin/python3 "$root/tools/arm_models.py" check --cases "$models_work/cases.json" --tag "$arch-$cpu" \
        --edgeq "$build/device/bin/edgeq" --levels "$levels" --jobs "$jobs" \
        --emulator "$qemu -L /usr/$toolchain -E LD_LIBRARY_PATH=$build/device/lib -cpu $cpu"; then
      echo "FAILED: $arch models against the host" >&2
      failed=1
    fi
  else
    echo "  SKIPPED: no host models (the host build at $(dirname "$host_edgeq") is needed to convert them and run them)"
  fi
  for run in "${runs[@]}"; do
    read -r cpu isa which_tests <<<"$run"
    case "$which_tests" in
      all) filter=() ;;
      most) filter=(--gtest_filter='-CalibInputs*') ;;
      *) filter=(--gtest_filter='-Ref*:QuantMethods*:QuantStats*:QuantGoldens*:Format*:Validate*:Planner*:CalibInputs*:AllocationFailure*') ;;
    esac
    step "$arch: edgeq_tests under qemu -cpu $cpu in $jobs shards (dispatch must pick $isa; $which_tests tests)"
    if ! EDGEQ_EXPECT_ISA="$isa" gtest_shards "$arch-$cpu" "$jobs" \
        "$qemu" -L "/usr/$toolchain" -E "LD_LIBRARY_PATH=$build/sysroot/usr/lib/$toolchain" -cpu "$cpu" \
        "$build/edgeq_tests" "${filter[@]}"; then
      echo "FAILED: $arch -cpu $cpu" >&2
      failed=1
    fi
  done
done
exit "$failed"
