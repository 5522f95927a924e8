#!/usr/bin/env bash
# Sanitizer and fuzzing runs (docs/reliability.md), each in its own build directory,
# with clang (Debian's clang and libclang-rt-dev; tools/setup.sh installs them):
#
#   tools/sanitize.sh asan   build-asan: every target with ASan + UBSan (any report
#                            fatal); runs the unit tests (edgeq_tests, one process per
#                            job: tools/gtest_shards.sh) and the tool's tests (ctest -L
#                            cli), leaks checked at every exit
#   tools/sanitize.sh fuzz   the fuzzers of build-asan (fuzz/) on their committed seed
#                            corpora for EDGEQ_FUZZ_RUNS runs each (default 20000);
#                            any finding fails
#   tools/sanitize.sh tsan   build-tsan: the runtime and the unit test suites that start
#                            threads, with TSan (no importer: its suites are
#                            single-threaded); runs them all
#   tools/sanitize.sh all    the three, in that order (meant for CI)
#
# Environment: EDGEQ_SANITIZE_DIR (default: the repository root) holds the build
# directories; EDGEQ_JOBS (default: nproc). Each step prints its wall time.
set -euo pipefail

mode="${1:-all}"
case "$mode" in
  asan|fuzz|tsan|all) ;;
  *) echo "usage: tools/sanitize.sh asan|fuzz|tsan|all" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dirs="${EDGEQ_SANITIZE_DIR:-$root}"
jobs="${EDGEQ_JOBS:-$(nproc)}"
runs="${EDGEQ_FUZZ_RUNS:-20000}"
asan_dir="$dirs/build-asan"
tsan_dir="$dirs/build-tsan"
# shellcheck source=tools/steps.sh
source "$root/tools/steps.sh"
# shellcheck source=tools/gtest_shards.sh
source "$root/tools/gtest_shards.sh"
timed() {  # CMD...: runs CMD, prints its wall time, returns its status
  local start=$SECONDS status=0
  "$@" || status=$?
  echo "-- $((SECONDS - start)) s"
  return "$status"
}

# Every report ends the process with a signal (abort), so a tool test that expects a
# clean error exit cannot mistake a sanitizer's exit status for one.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="abort_on_error=1:halt_on_error=1:second_deadlock_stack=1"

# Line tables only: readable stacks. -O0, whose compile time with the sanitizers is a
# third to a half of -O1's, except the kernels, at -O1: the unit tests spend their time
# there (cmake/Sanitizers.cmake, EDGEQ_SANITIZE_KERNEL_OPT).
configure() {  # DIR SANITIZERS CMAKE_ARGS...
  local dir="$1" sanitizers="$2"
  shift 2
  local generator=()
  [ -f "$dir/CMakeCache.txt" ] || generator=(-G Ninja)
  CC=clang CXX=clang++ cmake -S "$root" -B "$dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Sanitize \
    -DCMAKE_C_FLAGS_SANITIZE="-O0 -gline-tables-only" -DCMAKE_CXX_FLAGS_SANITIZE="-O0 -gline-tables-only" \
    -DEDGEQ_SANITIZE_KERNEL_OPT=-O1 \
    -DEDGEQ_SANITIZE="$sanitizers" -DEDGEQ_BUILD_BENCHMARKS=OFF -DEDGEQ_BUILD_PYTHON=OFF "$@" >/dev/null
}

asan() {
  step "ASan + UBSan: building in $asan_dir"
  configure "$asan_dir" address,undefined -DEDGEQ_FUZZ=ON
  timed cmake --build "$asan_dir" -j "$jobs"
  step "ASan + UBSan: edgeq_tests in $jobs shards, and the tool's tests (ctest -L cli) beside them"
  local cli_log status=0
  cli_log="$(mktemp)"
  (cd "$asan_dir" && ctest --output-on-failure -L cli --timeout 600 >"$cli_log" 2>&1) &
  local cli_pid=$!
  timed gtest_shards ASan "$jobs" "$asan_dir/edgeq_tests" || status=1
  if wait "$cli_pid"; then grep -E 'tests passed' "$cli_log"; else
    status=1
    cat "$cli_log" >&2
  fi
  rm -f "$cli_log"
  return "$status"
}

# fuzz_one NAME WORK: edgeq_fuzz_NAME on its corpus; the log, findings and its wall time
# in WORK; returns non-zero on a finding or a crash.
fuzz_one() {
  local name="$1" work="$2" start=$SECONDS status=0
  mkdir -p "$work/$name"
  # New inputs go to a scratch directory; the committed corpus is only read.
  "$asan_dir/edgeq_fuzz_$name" -runs="$runs" -timeout=10 -max_len=16384 -seed=1 \
    -artifact_prefix="$work/$name-" "$work/$name" "$root/fuzz/corpus/$name" >"$work/$name.log" 2>&1 || status=$?
  echo "$((SECONDS - start))" >"$work/$name.seconds"
  if [ "$status" -ne 0 ] || ls "$work/$name"-* >/dev/null 2>&1; then return 1; fi
}

fuzz() {
  step "fuzzers: $runs runs each on the seed corpora (fuzz/corpus), $jobs at a time"
  local work name names=(onnx calibrate load npy stats) failed=() pids=() i
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  for name in "${names[@]}"; do
    [ -x "$asan_dir/edgeq_fuzz_$name" ] || { echo "missing $asan_dir/edgeq_fuzz_$name: run tools/sanitize.sh asan first" >&2; return 1; }
  done
  # Each fuzzer is one process: up to $jobs of them at once, the slowest first.
  for i in "${!names[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    fuzz_one "${names[$i]}" "$work" &
    pids[$i]=$!
  done
  for i in "${!names[@]}"; do
    name="${names[$i]}"
    wait "${pids[$i]}" || failed+=("$name")
    echo "-- $name: $(grep -E '^Done' "$work/$name.log" || echo 'no summary') ($(cat "$work/$name.seconds" 2>/dev/null || echo '?') s)"
  done
  for name in "${failed[@]}"; do
    tail -n 60 "$work/$name.log" >&2
    echo "fuzz: edgeq_fuzz_$name failed; the failing input:" "$work/$name"-* >&2
  done
  [ "${#failed[@]}" -eq 0 ]
}

# The suites that start threads: a thread pool (num_threads, pthreadpool), or threads of
# their own (std::thread, std::async). The others run on the calling thread only and
# gain nothing under TSan, and leaving them out halves the TSan build.
thread_suites() {
  grep -lE 'std::thread|std::async|num_threads|threads *=|\.threads|pthreadpool|ThreadPool' \
      "$root"/test/*_test.cc | sed 's|.*/||; s|_test\.cc$||' | sort | paste -sd';'
}

tsan() {
  local suites
  suites="$(thread_suites)"
  step "TSan: building in $tsan_dir (the suites that start threads: ${suites//;/ })"
  configure "$tsan_dir" thread -DEDGEQ_BUILD_IMPORTER=OFF -DEDGEQ_BUILD_CLI=OFF -DEDGEQ_TEST_SUITES="$suites"
  timed cmake --build "$tsan_dir" -j "$jobs" --target edgeq_tests
  step "TSan: edgeq_tests in $jobs shards at once"
  timed gtest_shards TSan "$jobs" "$tsan_dir/edgeq_tests"
}

case "$mode" in
  asan) asan ;;
  fuzz) fuzz ;;
  tsan) tsan ;;
  all) asan; fuzz; tsan ;;
esac
