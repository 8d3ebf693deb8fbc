#!/usr/bin/env bash
# Per-call cost of the terminal-capture programs themselves (kernel BPF statistics: run time /
# run count of handle_tty_write and handle_tty_read), for unmonitored and monitored callers.
# Less noisy than wall-clock loops on a shared machine: it excludes everything but the program.
# Usage: sudo bench/tty_prog_cost.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
loop=$build/bench/bench_write_loop
work=$(mktemp -d)
old=$(sysctl -n kernel.bpf_stats_enabled)
apid=
trap 'sysctl -qw kernel.bpf_stats_enabled=$old; [[ -n $apid ]] && kill $apid 2>/dev/null; rm -rf "$work"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
printf 'recording:\n  enabled: true\n  dir: %s/rec\noutput:\n  path: %s/ev.json\n' "$work" "$work" >"$work/c.yaml"
"$build/privwatch" agent -c "$work/c.yaml" >"$work/agent.log" 2>&1 &
apid=$!
for _ in $(seq 120); do grep -q "agent ready" "$work/agent.log" && break; sleep 0.25; done
stat() {  # prog name → "run_cnt run_time_ns"
  bpftool -j prog show name "$1" | python3 -c 'import json,sys; p=json.load(sys.stdin); p=p[0] if isinstance(p,list) else p; print(p.get("run_cnt",0), p.get("run_time_ns",0))'
}
measure() {  # label prog command...
  local label=$1 prog=$2; shift 2
  read -r c0 t0 < <(stat "$prog")
  "$@" >/dev/null
  read -r c1 t1 < <(stat "$prog")
  awk -v l="$label" -v p="$prog" -v c=$((c1 - c0)) -v t=$((t1 - t0)) \
    'BEGIN { printf "| %s | %s | %d | %.1f |\n", l, p, c, (c > 0 ? t / c : 0) }'
}
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
echo "| caller and workload | program | calls | ns per call |"
echo "|---|---|--:|--:|"
measure "nobody (unmonitored), write /dev/null" handle_tty_write "${nobody[@]}" "$loop" -t null -n 1000000
measure "nobody (unmonitored), pipe write" handle_tty_write "${nobody[@]}" "$loop" -t pipe -n 1000000
measure "nobody (unmonitored), pipe read" handle_tty_read "${nobody[@]}" "$loop" -t pipe -n 1000000
measure "root (monitored), write /dev/null" handle_tty_write "$loop" -t null -n 1000000
measure "root (monitored), pipe write" handle_tty_write "$loop" -t pipe -n 1000000
measure "root (monitored), 64-byte write to a pty (recorded)" handle_tty_write "$loop" -t pty -n 20000
kill $apid; wait $apid || true; apid=
