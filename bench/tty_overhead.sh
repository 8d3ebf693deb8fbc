#!/usr/bin/env bash
# Cost of session recording on write()/read(): runs bench/write_loop without the agent, with the
# agent and recording off (default), and with recording on; as root (a monitored subject) and as
# nobody (unmonitored). Repetitions are interleaved; prints the median ns/op per cell.
# Usage: sudo bench/tty_overhead.sh [BUILD_DIR] [REPS]
set -euo pipefail
build=${1:-build}
reps=${2:-5}
loop=$build/bench/bench_write_loop
agent=$build/privwatch
work=$(mktemp -d)
trap 'kill $apid 2>/dev/null || true; rm -rf "$work"' EXIT
apid=
start_agent() {  # $1 = true|false (recording.enabled)
  printf 'recording:\n  enabled: %s\n  dir: %s/rec\noutput:\n  path: %s/ev.json\n' "$1" "$work" "$work" >"$work/c.yaml"
  "$agent" agent -c "$work/c.yaml" >"$work/agent.log" 2>&1 &
  apid=$!
  for _ in $(seq 120); do grep -q "agent ready" "$work/agent.log" && return 0; sleep 0.25; done
  echo "agent did not start" >&2; cat "$work/agent.log" >&2; exit 1
}
stop_agent() { kill "$apid"; wait "$apid" || true; apid=; }
run() {  # config user type
  local ns n=500000
  [[ $3 == pty ]] && n=20000  # a pty write waits for the line discipline's flush (~75 µs)
  if [[ $2 == root ]]; then ns=$("$loop" -t "$3" -n "$n"); else ns=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$loop" -t "$3" -n "$n"); fi
  echo "$1 $2 $3 $(sed 's/.*"ns_per_op":\([0-9.]*\).*/\1/' <<<"$ns")" >>"$work/raw"
}
for r in $(seq "$reps"); do
  for cfg in none off on; do
    [[ $cfg == off ]] && start_agent false
    [[ $cfg == on ]] && start_agent true
    for user in root nobody; do for t in null pipe pty; do run "$cfg" "$user" "$t"; done; done
    [[ -n $apid ]] && stop_agent
  done
done
echo "| user | workload | none ns/op | agent, recording off | agent, recording on | on − none |"
echo "|---|---|--:|--:|--:|--:|"
for user in root nobody; do for t in null pipe pty; do
  med() { grep "^$1 $user $t " "$work/raw" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  n=$(med none); f=$(med off); o=$(med on)
  echo "| $user | $t | $n | $f | $o | $(awk -v a="$o" -v b="$n" 'BEGIN{printf "%+.0f ns (%.2f×)", a-b, a/b}') |"
done; done
