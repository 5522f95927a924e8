#!/usr/bin/env bash
# Holds one x86 build of edgeq to another's output bytes, on every model the tests use:
# for a change that must not change a result (a refactor, a new epilogue, a new
# scheduler), run it with the build of the commit before the change as BASELINE.
#
#   tools/compare_builds.sh BASELINE_BUILD NEW_BUILD [WORK_DIR]
#
#  1. tools/arm_models.py prepare with BASELINE_BUILD: gathers the quantized op graphs of
#     the export gtest, the committed QDQ / QOperator / float models and the torchvision
#     models of BASELINE_BUILD/models (when made), converts them with the baseline's
#     edgeq and runs them at its best level;
#  2. converts every ONNX model again with NEW_BUILD's edgeq: the .edgeq files must be
#     identical byte for byte (the importer and the file writer did not change);
#  3. tools/arm_models.py check with NEW_BUILD's edgeq at every level this CPU runs
#     (big models included) and with 2 threads: every output byte must be the
#     baseline's.
# Exits 1 on any difference. Both builds need edgeq and edgeq_tests.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: tools/compare_builds.sh BASELINE_BUILD NEW_BUILD [WORK_DIR]" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="$(cd "$1" && pwd)"
new="$(cd "$2" && pwd)"
work="${3:-$new/compare-builds}"
python=/usr/bin/python3
[ -x "$python" ] || python=python3
for b in "$base" "$new"; do
  [ -x "$b/edgeq" ] && [ -x "$b/edgeq_tests" ] || { echo "compare_builds.sh: $b has no edgeq / edgeq_tests" >&2; exit 2; }
done
rm -rf "$work"
mkdir -p "$work/reconverted"

echo "== baseline: converting and running the models ($base)"
"$python" "$root/tools/arm_models.py" prepare --host-build "$base" --out "$work" --models "$base/models" | tail -1

echo "== new build: converting the ONNX models again"
"$python" - "$work/cases.json" "$new/edgeq" "$work/reconverted" "$root" "$base/models" <<'PY'
import filecmp, json, os, subprocess, sys
cases_path, edgeq, out, root, models = sys.argv[1:]
sys.path.insert(0, os.path.join(root, "tools"))
import arm_models
onnx = {c["name"]: c["onnx"] for c in arm_models.manifest_cases(
    os.path.join(root, "test", "data", "manifest.json"), ("qdq", "qop", "float"))}
if os.path.exists(os.path.join(models, "manifest.json")):
    onnx.update({c["name"]: c["onnx"] for c in arm_models.manifest_cases(os.path.join(models, "manifest.json"), ("qdq", "qop"))})
cases = json.load(open(cases_path))["cases"]
same = differ = 0
for c in cases:
    if c["name"] not in onnx:
        continue  # the op graphs come as .edgeq files from the export gtest
    mine = os.path.join(out, c["name"].replace("/", "_") + ".edgeq")
    subprocess.run([edgeq, "convert", onnx[c["name"]], "-o", mine], check=True, capture_output=True)
    if filecmp.cmp(mine, c["model"], shallow=False):
        same += 1
    else:
        differ += 1
        print(f"  differs: {c['name']}: {mine} vs {c['model']}")
print(f"{same} of {same + differ} converted models identical byte for byte")
sys.exit(1 if differ else 0)
PY

# The levels this CPU runs, from the error that asking for an unknown one gives.
levels="$({ "$new/edgeq" bench "$work/reconverted/small_qdq.edgeq" --isa '?' --runs 1 2>&1 || true; } |
  sed -n 's/.*supported here: \(.*\))/\1/p' | tr -d ' ')"
[ -n "$levels" ] || { echo "compare_builds.sh: cannot list this CPU's levels" >&2; exit 1; }
echo "== new build: every model at $levels against the baseline's outputs"
"$python" "$root/tools/arm_models.py" check --cases "$work/cases.json" --edgeq "$new/edgeq" --levels "$levels" \
  --tag new --every-level | tail -1
