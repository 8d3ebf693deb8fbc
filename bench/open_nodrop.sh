#!/usr/bin/env bash
# CPU time per open+close of the open loop with no agent, with an empty program on
# syscalls:sys_exit_openat (the kernel's floor for any open hook), and under each given privwatch
# binary with the loop as a monitored subject and a ring buffer large enough that *no record is
# dropped* (128 MiB for up to ~400,000 opens). Repetitions interleave the configurations (the
# agents' order alternates). bench/run.sh measures the same loop with the default 16 MiB ring,
# where the agent falls behind and the kernel drops (and counts) records: a dropped record costs
# the program less than a delivered one, so that ratio depends on how fast the agent consumes;
# this one does not. bench/RESULTS.md §1.
# Usage: sudo bench/open_nodrop.sh [-b BUILD_DIR] [-r REPS] [-n OPENS] AGENT_BINARY...
# Prints per repetition: loop CPU ns/op for none, empty and each agent (with its drops and events
# from the agent's stats file), then the medians of the ratios to `none` of the same repetition.
set -euo pipefail
build=build reps=5 n=250000
while getopts b:r:n: o; do
  case $o in
    b) build=$OPTARG ;;
    r) reps=$OPTARG ;;
    n) n=$OPTARG ;;
    *) sed -n 2,12p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
agents=("$@")
[[ ${#agents[@]} -gt 0 ]] || { sed -n 10,10p "$0"; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "needs root (the agent loads BPF programs)" >&2; exit 1; }
loop_bin=$build/bench/bench_open_loop
empty_bin=$build/bench/bench_empty_tracepoint
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT

loop() { "$loop_bin" -n "$n" | sed 's/.*"cpu_ns_per_op"://; s/}//'; }

wait_ready() {  # LOG — until the agent or the empty program says it is ready
  for _ in $(seq 600); do grep -qE '^ready$|agent ready' "$1" && return 0; sleep 0.1; done
  echo "not ready: $(tail -n 3 "$1")" >&2
  exit 1
}

# agent BINARY — "cpu_ns_per_op drops events" of one loop under the agent
agent() {
  local w=$work/agent
  rm -rf "$w" && mkdir -p "$w"
  printf 'monitor: {root: true}\noutput: {path: %s/ev.json}\ncapture: {ring_buffer_mb: 128}\nstore: {path: %s/st/p.db, key_path: %s/st/k}\n' \
    "$w" "$w" "$w" >"$w/c.yaml"
  "$1" agent -c "$w/c.yaml" --stats-file "$w/stats.json" >"$w/log" 2>&1 &
  pid=$!
  wait_ready "$w/log"
  sleep 1
  local c
  c=$(loop)
  sleep 2 # let the agent drain before it stops
  kill "$pid" && wait "$pid" || true
  pid=
  echo "$c $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s.get("drops_total","?"), s.get("events_total","?"))' "$w/stats.json" 2>/dev/null || echo "? ?")"
}

declare -A ratios
for ((r = 1; r <= reps; r++)); do
  none=$(loop)
  "$empty_bin" syscalls/sys_exit_openat >"$work/empty.log" 2>&1 &
  pid=$!
  wait_ready "$work/empty.log"
  empty=$(loop)
  kill "$pid" && wait "$pid" || true
  pid=
  line="rep $r (load $(cut -d' ' -f1 /proc/loadavg)): none $none | empty $empty"
  ratios[empty]+="$(awk -v a="$empty" -v b="$none" 'BEGIN{print a/b}') "
  order=("${agents[@]}")
  if ((r % 2 == 0)); then
    order=()
    for ((i = ${#agents[@]} - 1; i >= 0; i--)); do order+=("${agents[$i]}"); done
  fi
  for a in "${order[@]}"; do
    read -r c drops events < <(agent "$a")
    line+=" | $a $c (drops $drops, events $events)"
    ratios[$a]+="$(awk -v a="$c" -v b="$none" 'BEGIN{print a/b}') "
  done
  echo "$line"
done
med() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
echo "median × none (CPU, paired): empty $(med <<<"${ratios[empty]}")"
for a in "${agents[@]}"; do echo "median × none (CPU, paired): $a $(med <<<"${ratios[$a]}")"; done
