#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for edgeq and runs it. Two modes:
#
#   tools/setup.sh demo   install what is missing, build, convert the int8 model shipped
#                         in test/data to .edgeq, run it on the shipped input, print it
#   tools/setup.sh test   install what is missing (Debian packages, and ONNX Runtime from
#                         npm for the peer comparison), build, run every test: ctest for
#                         all but the unit tests, which run as edgeq_tests in one process
#                         per job (tools/gtest_shards.sh; ctest starts one per test),
#                         then cross-build for AArch64 and ARMv7 and run the tests under
#                         qemu (tools/arm_test.sh), then build edgeq twice more with
#                         clang and run the unit and tool tests under ASan + UBSan,
#                         each fuzzer on its seed corpus, and the unit tests under TSan
#                         (tools/sanitize.sh)
#
# Environment: EDGEQ_BUILD_DIR (default: build), EDGEQ_JOBS (default: nproc).
# Packages are installed with apt-get only when missing (root, or sudo).
set -euo pipefail

mode="${1:-}"
case "$mode" in
  demo|test) ;;
  *) echo "usage: tools/setup.sh demo|test" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${EDGEQ_BUILD_DIR:-$root/build}"
jobs="${EDGEQ_JOBS:-$(nproc)}"
# shellcheck source=tools/steps.sh
source "$root/tools/steps.sh"

# ---- Debian packages
packages=(cmake ninja-build g++ pkg-config
  libcpuinfo-dev libpthreadpool-dev libxnnpack-dev libgtest-dev libbenchmark-dev
  libflatbuffers-dev flatbuffers-compiler libonnx-dev libprotobuf-dev libcli11-dev
  nlohmann-json3-dev libstb-dev dataset-fashion-mnist
  python3-dev pybind11-dev python3-numpy)  # the Python package (python/)
if [ "$mode" = test ]; then
  # Model making (PyTorch), the ONNX Runtime peer (node + npm), the Python package's
  # tests (pytest) and its `pip install .` into a venv (setuptools, wheel, venv).
  packages+=(python3 python3-torch python3-torchvision python3-onnx
    python3-pytest python3-setuptools python3-wheel python3-venv python3-pybind11
    clang libclang-rt-dev)  # tools/sanitize.sh: ASan, UBSan, TSan, libFuzzer
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi
# shellcheck source=tools/apt_install.sh
source "$root/tools/apt_install.sh"
apt_install "${packages[@]}"

# ---- build
step "configuring and building in $build"
generator=()
[ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
# Line tables only (-g1): readable stacks and profiles at a fraction of full debug
# information's compile time (test/sources.cmake compiles the suites at -O1 -g1).
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build "$build" -j "$jobs"

edgeq="$build/edgeq"
if [ "$mode" = demo ]; then
  model="$root/test/data/small_qdq.onnx"
  step "edgeq convert $(basename "$model")"
  "$edgeq" convert "$model" -o "$build/small_qdq.edgeq"
  step "edgeq info (summary)"
  "$edgeq" info "$build/small_qdq.edgeq" | sed -n '1,6p;/^memory:/,$p'
  step "edgeq run on test/data/small_qdq.input.npy"
  "$edgeq" run "$build/small_qdq.edgeq" --input "$root/test/data/small_qdq.input.npy" \
    --output "$build/small_qdq.out.npy"
  echo "wrote $build/small_qdq.out.npy"
  exit 0
fi

step "installing ONNX Runtime (npm onnxruntime-node) into $build/ort"
bash "$root/tools/setup_ort.sh" "$build/ort"
step "running the tests: ctest for all but the unit tests"
cd "$build"
EDGEQ_ORT_DIR="$build/ort" ctest --output-on-failure -j "$jobs" --timeout 1200 -LE '^unit$'
# The unit tests (ctest's label unit) in one process per job: ctest's process per test
# took their CPU time from about 26 s to 117 s.
step "running the unit tests: edgeq_tests in $jobs shards"
# shellcheck source=tools/gtest_shards.sh
source "$root/tools/gtest_shards.sh"
EDGEQ_ORT_DIR="$build/ort" gtest_shards unit "$jobs" "$build/edgeq_tests"
step "ARM: cross builds (AArch64, ARMv7) and the test suite under qemu"
EDGEQ_HOST_EDGEQ="$edgeq" bash "$root/tools/arm_test.sh" all
step "sanitizers (tools/sanitize.sh): ASan + UBSan, the fuzzers, TSan"
bash "$root/tools/sanitize.sh" all
step "all tests passed"
