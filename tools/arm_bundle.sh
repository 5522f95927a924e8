#!/usr/bin/env bash
# Gathers what goes on an ARM Linux board from a cross build (tools/arm_test.sh, or
# cmake with toolchains/aarch64-linux-gnu.cmake / arm-linux-gnueabihf.cmake): the edgeq
# tool and the benchmark binaries, with the shared libraries they need from the
# build's sysroot (cpuinfo, pthreadpool, XNNPACK, stb, Google Benchmark), into
# BUILD/device/bin and BUILD/device/lib (debug information stripped). Copy that directory to the board and run the
# binaries with LD_LIBRARY_PATH=lib (docs/arm.md: "Running on a device").
#
#   tools/arm_bundle.sh BUILD_DIR
#
# Libraries the sysroot does not hold (glibc, libstdc++, libgcc_s) are the board's own;
# the script prints the newest glibc and libstdc++ symbol versions the binaries use, so
# one can tell whether a board's are new enough.
set -euo pipefail

[ $# -eq 1 ] && [ -f "$1/CMakeCache.txt" ] || { echo "usage: tools/arm_bundle.sh BUILD_DIR (a configured cross build)" >&2; exit 2; }
build="$(cd "$1" && pwd)"
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n 1; }
sysroot="$(cache EDGEQ_SYSROOT)"
[ -n "$sysroot" ] || { echo "arm_bundle: $build is not a cross build with EDGEQ_SYSROOT" >&2; exit 1; }
triplet=""
for t in aarch64-linux-gnu arm-linux-gnueabihf; do
  [ -e "$sysroot/usr/lib/$t/libcpuinfo.so" ] && triplet="$t"
done
[ -n "$triplet" ] || { echo "arm_bundle: no ARM libraries in $sysroot (tools/arm_sysroot.sh)" >&2; exit 1; }
libdir="$sysroot/usr/lib/$triplet"

out="$build/device"
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
bins=()
for b in edgeq edgeq_model_bench edgeq_kernels_bench edgeq_misc_bench; do
  # Without debug information (a RelWithDebInfo edgeq is ~30 MB); symbols stay for perf.
  [ -x "$build/$b" ] && { "$triplet-strip" --strip-debug -o "$out/bin/$b" "$build/$b"; bins+=("$out/bin/$b"); }
done
[ -x "$out/bin/edgeq" ] || { echo "arm_bundle: $build/edgeq is not built" >&2; exit 1; }

# The sysroot's libraries the binaries need, directly or through each other.
queue=("${bins[@]}")
system=""
while [ "${#queue[@]}" -gt 0 ]; do
  file="${queue[0]}"
  queue=("${queue[@]:1}")
  for lib in $("$triplet-readelf" -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    if [ -e "$libdir/$lib" ]; then
      if [ ! -e "$out/lib/$lib" ]; then
        cp -L "$libdir/$lib" "$out/lib/$lib"
        queue+=("$out/lib/$lib")
      fi
    else
      case " $system " in *" $lib "*) ;; *) system+=" $lib" ;; esac
    fi
  done
done

newest() { "$triplet-objdump" -T "$out"/bin/* "$out"/lib/* 2>/dev/null | grep -o "$1[0-9.]*" | sort -uV | tail -n 1; }
echo "arm_bundle: $out ($triplet)"
(cd "$out" && find bin lib -type f -printf '  %p  %s bytes\n' | sort)
echo "  from the board:$system (needs $(newest GLIBC_) and $(newest GLIBCXX_) or newer)"
