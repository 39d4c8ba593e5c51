#!/usr/bin/env bash
# The "steady tests" check: `npm test` three times in a row while two CPU-bound processes
# (`node -e 'for(;;){}'`, one per core on the 2-vCPU project machine) run beside it. Prints each
# run's wall time and summary line, then a table; exits non-zero unless all three are green.
# Logs: $LOG_DIR (default: a temp folder, printed). Usage: scripts/loaded-test-runs.sh [RUNS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
log_dir="${LOG_DIR:-$(mktemp -d -t codex-auth-loaded-runs-XXXXXX)}"
mkdir -p "$log_dir"

hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null; done
}
trap stop_hogs EXIT INT TERM
for _ in 1 2; do
  node -e 'for(;;){}' &
  hogs+=("$!")
done
echo "load: two busy loops (pids ${hogs[*]}) on $(nproc) CPUs; logs in $log_dir"

results=()
all_green=0
for run in $(seq 1 "$runs"); do
  log="$log_dir/run-$run.log"
  started=$(date +%s)
  npm test >"$log" 2>&1
  code=$?
  seconds=$(( $(date +%s) - started ))
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  [ -n "$summary" ] || summary="(no summary line)"
  echo "run $run: exit $code, ${seconds} s wall, ${summary}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "$code" -ne 0 ]; then
    all_green=1
    grep -E '(FAIL|✗|×) ' "$log" | head -20 | sed 's/^/    /'
  fi
  results+=("| $run | $code | ${seconds} s | ${summary} |")
done

echo
echo "| run | exit | wall | summary |"
echo "|---|---|---|---|"
printf '%s\n' "${results[@]}"
exit "$all_green"
