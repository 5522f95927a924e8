#!/usr/bin/env bash
# Measures what edgeq adds to an AArch64 Linux app: the runtime (loader, session,
# planner, every op with its int8 kernels of every ARM level, the reference float path;
# no XNNPACK, no importer) linked statically, with libstdc++ and libgcc, into the
# smallest app that loads a model and runs it (test/install/main.c: load, zeros in,
# run, print), built for size and stripped. It must stay at or under 400 KiB.
#
#   tools/arm_size.sh [--run MODEL.edgeq]
#
# Build flags: -Os, -ffunction-sections -fdata-sections with --gc-sections, -fno-rtti
# (nothing uses dynamic_cast or typeid), -static-libstdc++ -static-libgcc, stripped.
# Exceptions stay on: the C API catches allocation failures (std::bad_alloc) so that
# none crosses it, which -fno-exceptions would not allow.
# glibc, cpuinfo and pthreadpool stay shared libraries (Debian ships no static cpuinfo
# or pthreadpool; a static glibc alone is larger than the budget): the report lists
# them apart. --run runs the app under qemu-aarch64 on a .edgeq file (convert one on the
# host with `edgeq convert`).
#
# Environment: EDGEQ_ARM_BUILD_PREFIX (default <repo>/build: builds in build-arm64-size,
# sysroot shared with build-arm64), EDGEQ_JOBS (default: nproc).
set -euo pipefail

model=""
case "${1:-}" in
  "") ;;
  --run) model="${2:?usage: tools/arm_size.sh [--run MODEL.edgeq]}" ;;
  *) echo "usage: tools/arm_size.sh [--run MODEL.edgeq]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${EDGEQ_ARM_BUILD_PREFIX:-$root/build}"
jobs="${EDGEQ_JOBS:-$(nproc)}"
build="$prefix-arm64-size"
sysroot="$prefix-arm64/sysroot"
triplet=aarch64-linux-gnu
limit=$((400 * 1024))

command -v "$triplet-g++" >/dev/null || { echo "arm_size: $triplet-g++ missing (tools/arm_test.sh arm64 installs it)" >&2; exit 1; }
bash "$root/tools/arm_sysroot.sh" arm64 "$sysroot" >/dev/null

size_flags="-ffunction-sections -fdata-sections"
generator=()
[ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_TOOLCHAIN_FILE="$root/toolchains/$triplet.cmake" \
  -DEDGEQ_SYSROOT="$sysroot" -DCMAKE_BUILD_TYPE=MinSizeRel -DEDGEQ_BUILD_IMPORTER=OFF -DEDGEQ_USE_XNNPACK=OFF \
  -DEDGEQ_BUILD_TESTS=OFF -DEDGEQ_BUILD_BENCHMARKS=OFF -DEDGEQ_BUILD_CLI=OFF \
  -DCMAKE_C_FLAGS="$size_flags" -DCMAKE_CXX_FLAGS="$size_flags -fno-rtti" >/dev/null
cmake --build "$build" -j "$jobs" --target edgeq_runtime >/dev/null

app="$build/edgeq_minimal_run"
"$triplet-gcc" -Os $size_flags -I"$root/include" -c "$root/test/install/main.c" -o "$build/minimal_run.o"
"$triplet-g++" -o "$app" "$build/minimal_run.o" "$build/libedgeq_runtime.a" \
  -L"$sysroot/usr/lib/$triplet" -Wl,-rpath-link,"$sysroot/usr/lib/$triplet" -lcpuinfo -lpthreadpool -pthread \
  -static-libstdc++ -static-libgcc -Wl,--gc-sections -Wl,-O1 -s

bytes=$(stat -c %s "$app")
echo "edgeq_minimal_run (aarch64, static runtime + libstdc++, stripped): $bytes bytes ($((bytes / 1024)) KiB; limit $((limit / 1024)) KiB)"
"$triplet-size" "$app" | sed 's/^/  /'
echo "  shared libraries it needs (not counted):"
"$triplet-readelf" -d "$app" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/    \1/p'
for lib in libcpuinfo.so.0 libpthreadpool.so.0; do
  echo "    $lib: $(stat -L -c %s "$sysroot/usr/lib/$triplet/$lib") bytes"
done
if "$triplet-readelf" -d "$app" | grep -q 'NEEDED.*libstdc++'; then
  echo "FAIL: libstdc++ is linked dynamically" >&2
  exit 1
fi

if [ -n "$model" ]; then
  echo "running it under qemu-aarch64 on $model:"
  qemu-aarch64 -L "/usr/$triplet" -E LD_LIBRARY_PATH="$sysroot/usr/lib/$triplet" "$app" "$model"
fi

if [ "$bytes" -gt "$limit" ]; then
  echo "FAIL: $bytes bytes is over the $limit-byte budget" >&2
  exit 1
fi
