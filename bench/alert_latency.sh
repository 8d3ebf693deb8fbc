#!/bin/sh
# Syscall-to-alert latency under load (issue #5 targets: p99 < 10 ms, max < 100 ms).
#
#   sudo bench/alert_latency.sh [--rates 0,50000,100000] [-n 300] [--period 0.05] [--keep]
#                               [--agent-nice -10]   (agent at that priority, load at 0)
#
# For each background load (bench_event_flood: monitored opens at a paced rate, 0 = no load)
# a fresh agent runs with the default configuration and ruleset (dedup and rate limit off), and
# N alerts are triggered at a fixed pace (a python process opening /etc/shadow → rule
# read-shadow). Reported per load:
#   - line p50/p99/max: when a reader tailing the agent's JSON output file saw the alert line,
#     minus the triggering open's kernel timestamp (privwatch.details.event.ts_ns, boot time)
#     converted to wall time;
#   - the agent's own privwatch_alert_latency_seconds histogram (GET /metrics): kernel
#     timestamp → alert handed to the outputs (bucket upper bounds).
# Needs root (the agent loads BPF programs), python3, and the build tree:
#   cmake --build build --target privwatch bench_event_flood
# Prints a Markdown table; raw results in bench/out/alert-latency-<date>/results.jsonl.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build}
case "${1:-}" in -h|--help) sed -n '2,18p' "$0"; exit 0 ;; esac
if [ "$(id -u)" -ne 0 ]; then echo "alert_latency.sh: needs root (the agent loads BPF programs)" >&2; exit 2; fi
for b in "$build/privwatch" "$build/bench/bench_event_flood"; do
  [ -x "$b" ] || { echo "alert_latency.sh: $b missing: cmake --build $build --target privwatch bench_event_flood" >&2; exit 2; }
done
scratch="$here/out/alert-latency-$(date -u +%Y%m%d-%H%M%S)"
exec python3 "$here/alert_latency.py" --privwatch "$build/privwatch" \
  --flood "$build/bench/bench_event_flood" --scratch "$scratch" "$@"
