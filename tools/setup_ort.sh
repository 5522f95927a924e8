#!/usr/bin/env bash
# setup_ort.sh - install the pinned ONNX Runtime (onnxruntime-node) used to make
# reference outputs for edgeq tests.
#
# Usage: tools/setup_ort.sh [DIR]
#
# Installs the packages locked in tools/ort/package-lock.json into DIR/node_modules
# (default DIR: tools/ort, whose node_modules is git-ignored) and copies
# ort_run.js into DIR, so afterwards
#     node DIR/ort_run.js model.onnx --input in.npy --output out.npy
# works. tools/ort/ort_run.js also finds the packages when EDGEQ_ORT_DIR=DIR.
#
# Idempotent: when DIR already holds an install made from the same lock file,
# nothing is downloaded. Package install scripts are not run (the CPU libraries
# ship inside the npm package; its install script would try to fetch more).
# Exits non-zero with a message if node/npm are missing or npm fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/ort"
dir="${1:-$src}"

die() {
    echo "setup_ort.sh: error: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 || die "node (Node.js >= 18) is not installed"
command -v npm >/dev/null 2>&1 || die "npm is not installed"
[ -f "$src/package.json" ] && [ -f "$src/package-lock.json" ] ||
    die "missing $src/package.json or package-lock.json"

mkdir -p "$dir" || die "cannot create $dir"
dir="$(cd "$dir" && pwd)"
stamp="$dir/node_modules/.edgeq-ort-lock"
binding_check() {
    # Loads the native binding: proves the install is usable, not just present.
    (cd "$dir" && node -e "require('onnxruntime-node')" >/dev/null 2>&1)
}

if [ "$dir" != "$src" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$src/ort_run.js" "$dir/"
fi

if [ -f "$stamp" ] && cmp -s "$stamp" "$src/package-lock.json" && binding_check; then
    echo "setup_ort.sh: onnxruntime-node already installed in $dir/node_modules"
    exit 0
fi

echo "setup_ort.sh: installing onnxruntime-node into $dir/node_modules"
if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    die "npm ci failed in $dir (is the npm registry reachable?)"
fi
binding_check || die "onnxruntime-node was installed in $dir but cannot be loaded by node"
cp "$src/package-lock.json" "$stamp"
version="$(cd "$dir" && node -p "require('onnxruntime-node/package.json').version")"
echo "setup_ort.sh: onnxruntime-node $version ready in $dir/node_modules"
