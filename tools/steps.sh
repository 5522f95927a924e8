# Sourced by the setup and test scripts: `step TEXT` prints a stage heading with the
# time since the first of these scripts started (EDGEQ_STEP_T0, exported, so a nested
# script counts from the same start) and the CPU time (user + system) the calling
# script's finished child processes have used so far. A CI log then shows what each
# stage costs, in wall time and in CPU time (which a loaded machine inflates less).
export EDGEQ_STEP_T0="${EDGEQ_STEP_T0:-$(date +%s)}"
step() {
  local f="${TMPDIR:-/tmp}/edgeq_step_times.$$" cpu
  times >"$f"  # in this shell: a command substitution would count a subshell's children
  cpu="$(awk 'NR == 2 {
    n = 0
    for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); n += t[1] * 60 + t[2] }
    printf "%d", n }' "$f")"
  rm -f "$f"
  printf '\n== %s   [%ds, cpu %ss]\n' "$*" "$(( $(date +%s) - EDGEQ_STEP_T0 ))" "$cpu"
}
