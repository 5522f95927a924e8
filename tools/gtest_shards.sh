# Sourced by the test scripts. `gtest_shards LABEL N CMD...` runs a GoogleTest binary
# (CMD, which may start with an emulator) split by GoogleTest's sharding into N
# processes at once, each running its share of the tests in one process. Under a
# sanitizer or qemu a process start costs far more than a small test, so this is much
# quicker than ctest's process per test. Prints each shard's summary; returns non-zero
# when a shard fails (its output's tail is printed then) or runs no test.
gtest_shards() {
  local label="$1" n="$2" work i status=0
  shift 2
  work="$(mktemp -d)"
  local pids=()
  for ((i = 0; i < n; i++)); do
    GTEST_TOTAL_SHARDS="$n" GTEST_SHARD_INDEX="$i" "$@" --gtest_brief=1 >"$work/$i.log" 2>&1 &
    pids+=($!)
  done
  for ((i = 0; i < n; i++)); do
    if wait "${pids[$i]}" && grep -Eq '^\[  PASSED  \] [1-9]' "$work/$i.log"; then
      grep -E '^\[  (PASSED|SKIPPED) ' "$work/$i.log" | sed "s/^/$label shard $i: /"
    else
      status=1
      echo "$label: shard $i of $n failed:" >&2
      tail -n 80 "$work/$i.log" >&2
    fi
  done
  rm -rf "$work"
  return "$status"
}
