#!/usr/bin/env bash
# Per-call cost of the program on syscalls:sys_exit_openat (kernel BPF statistics: run time /
# run count, which includes the tail-called family program), for a monitored and an unmonitored
# open loop, for one or more privwatch binaries, and for an empty program (the statistics' own
# cost and the least any program costs). Repetitions alternate the binaries so that machine
# noise hits all alike. Less noisy than wall-clock loops on a shared machine: it counts only
# the program. bench/RESULTS.md §1.
# Usage: sudo bench/open_prog_cost.sh [-b BUILD_DIR] [-r REPS] [-n OPENS] [AGENT_BINARY...]
#        (default binary: BUILD_DIR/privwatch)
set -euo pipefail
build=build reps=3 n=200000
while getopts b:r:n: o; do
  case $o in
    b) build=$OPTARG ;;
    r) reps=$OPTARG ;;
    n) n=$OPTARG ;;
    *) sed -n 2,9p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
agents=("$@")
[[ ${#agents[@]} -gt 0 ]] || agents=("$build/privwatch")
loop=$build/bench/bench_open_loop
empty=$build/bench/bench_empty_tracepoint
work=$(mktemp -d)
old=$(sysctl -n kernel.bpf_stats_enabled)
pid=
trap 'sysctl -qw kernel.bpf_stats_enabled=$old; [[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
printf 'monitor: {root: true}\noutput: {path: %s/ev.json}\n' "$work" >"$work/monitored.yaml"
printf 'monitor: {root: false, all_logins: false}\noutput: {path: %s/ev.json}\n' "$work" \
  >"$work/unmonitored.yaml"

# "run_cnt run_time_ns" of program NAME held open by process PID (its fds' prog_id). bpftool
# fails now and then while other processes load and unload programs: retried.
stat() {
  local ids out
  ids=$(grep -h '^prog_id:' /proc/"$2"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ,) || true
  for _ in 1 2 3 4 5; do
    out=$(bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
name, ids = sys.argv[1], {int(x) for x in sys.argv[2].split(",") if x}
for p in json.load(sys.stdin):
    if p.get("name") == name and p.get("id") in ids:
        print(p.get("run_cnt", 0), p.get("run_time_ns", 0)); break' "$1" "$ids" 2>/dev/null) || true
    [[ -n $out ]] && { echo "$out"; return 0; }
    sleep 0.2
  done
  echo "0 0"
}

# measure LABEL PROG — runs the open loop once under the program of $pid.
measure() {
  local label=$1 prog=$2 c0 t0 c1 t1
  read -r c0 t0 < <(stat "$prog" "$pid")
  "$loop" -n "$n" >/dev/null
  read -r c1 t1 < <(stat "$prog" "$pid")
  awk -v l="$label" -v c=$((c1 - c0)) -v t=$((t1 - t0)) \
    'BEGIN { printf "| %s | %d | %.1f |\n", l, c, (c > 0 ? t / c : 0) }'
}

start() {  # command... — runs it in the background until "ready" appears on its stderr
  "$@" >"$work/out.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -qE '^ready$|agent ready' "$work/out.log" && return 0; sleep 0.1; done
  echo "not ready: $*" >&2; cat "$work/out.log" >&2; exit 1
}
stop() {
  kill "$pid" 2>/dev/null || echo "note: $pid had exited already: $(tail -n 2 "$work/out.log")" >&2
  wait "$pid" || true
  pid=
}

echo "| program (rep) | opens | ns per call |"
echo "|---|--:|--:|"
for ((r = 1; r <= reps; r++)); do
  start "$empty" syscalls/sys_exit_openat
  measure "empty program ($r)" pw_bench_empty
  stop
  for a in "${agents[@]}"; do
    for cfg in unmonitored monitored; do
      start "$a" agent -c "$work/$cfg.yaml"
      measure "$a, $cfg ($r)" sys_exit_openat
      stop
    done
  done
done
