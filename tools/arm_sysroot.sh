#!/usr/bin/env bash
# Fills a build-local sysroot with Debian's arm64 or armhf builds of edgeq's
# dependencies, for cross builds (toolchains/aarch64-linux-gnu.cmake,
# toolchains/arm-linux-gnueabihf.cmake) and for running their tests under qemu.
#
#   tools/arm_sysroot.sh arm64|armhf DIR
#
# What goes in: cpuinfo, pthreadpool, GoogleTest, Google Benchmark (bench/), the
# FlatBuffers headers, nlohmann-json, CLI11 (the edgeq tool), stb_image (tools/dataset.cc)
# and XNNPACK when Debian builds it for ARCH, each -dev package with its runtime library. libc, libstdc++ and libgcc come from the
# cross toolchain (/usr/<triplet>), not from here; flatc is the host's.
#
# How: the ARCH -dev packages cannot be installed next to the amd64 ones, so nothing
# is installed. apt runs with a private state directory (DIR/.apt) that sees only
# ARCH's package lists, `apt-get download`s the .debs there and `dpkg -x` unpacks
# them into DIR. The system's apt sources are used as they are; the system's dpkg
# architectures and package lists are left untouched (no `dpkg --add-architecture`).
# Re-running with the same package versions does nothing.
set -euo pipefail

usage() { echo "usage: tools/arm_sysroot.sh arm64|armhf DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
arch="$1"
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) usage ;;
esac
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
state="$dir/.apt"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
touch "$state/status"

apt_opts=(-q -o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
  -o "Dir::State::status=$state/status" -o Debug::NoLocking=1)

# Package lists for ARCH, refreshed at most once a day.
if [ -z "$(find "$state/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
  echo "arm_sysroot: fetching the $arch package lists"
  # A mirror in the middle of a sync fails an index now and then: try again, and
  # accept lists that are complete except for such an index, with a warning.
  ok=""
  for attempt in 1 2 3; do
    if apt-get "${apt_opts[@]}" update >"$state/update.log" 2>&1 && ! grep -q '^[WE]:' "$state/update.log"; then
      ok=1
      break
    fi
    sleep $((attempt * 5))
  done
  if [ -z "$ok" ]; then
    grep '^[WE]:' "$state/update.log" >&2 || true
    ls "$state/lists/"*Packages* >/dev/null 2>&1 || { cat "$state/update.log" >&2; exit 1; }
    echo "arm_sysroot: warning: some $arch package lists could not be refreshed; using what was fetched" >&2
  fi
fi

packages=(libcpuinfo-dev libcpuinfo0 libpthreadpool-dev libpthreadpool0 libgtest-dev
  libbenchmark-dev libbenchmark1debian libflatbuffers-dev libflatbuffers2 nlohmann-json3-dev
  libcli11-dev libstb-dev libstb0)
for optional in libxnnpack-dev libxnnpack0; do
  if apt-cache "${apt_opts[@]}" show "$optional" >/dev/null 2>&1; then
    packages+=("$optional")
  else
    echo "arm_sysroot: $optional is not built for $arch; skipped"
  fi
done

# One line per package and version: the sysroot is current when it matches.
wanted=""
for p in "${packages[@]}"; do
  v="$(apt-cache "${apt_opts[@]}" show --no-all-versions "$p" | sed -n 's/^Version: //p' | head -n 1)"
  [ -n "$v" ] || { echo "arm_sysroot: no $arch package $p" >&2; exit 1; }
  wanted+="$p $v"$'\n'
done
if [ -f "$dir/.packages" ] && [ "$(cat "$dir/.packages")" = "$wanted" ]; then
  echo "arm_sysroot: $dir is up to date ($arch)"
  exit 0
fi

echo "arm_sysroot: downloading ${#packages[@]} $arch packages into $dir"
rm -f "$state/debs/"*.deb
(cd "$state/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}" >"$state/download.log" 2>&1) ||
  { cat "$state/download.log" >&2; exit 1; }
for deb in "$state/debs/"*.deb; do
  dpkg -x "$deb" "$dir"
done
[ -f "$dir/usr/lib/$triplet/libcpuinfo.so" ] || { echo "arm_sysroot: unpacking failed" >&2; exit 1; }
printf '%s' "$wanted" >"$dir/.packages"
echo "arm_sysroot: $dir ready ($arch)"
