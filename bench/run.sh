#!/usr/bin/env bash
# bench/run.sh — overhead benchmark of the privwatch agent (and auditd for comparison).
#
# Runs each workload (open/close loop, fork+exec loop, connect/accept loop) under each
# configuration (none, monitored, unmonitored, auditd), several repetitions, alternating the
# configurations inside every repetition so that machine noise hits all of them alike. Reports
# medians as a Markdown table on stdout and in bench/out/results-<date>.md. A sustained-rate mode
# floods the monitored agent with file opens at increasing rates and reports events/s and drops.
#
# Needs root (the agent loads BPF programs; auditd needs CAP_AUDIT_CONTROL), python3, and the
# workloads built: cmake --build build --target bench_open_loop bench_fork_exec_loop \
#                    bench_connect_loop bench_event_flood
# See bench/README.md for what every number means.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$BENCH_DIR/.." && pwd)

usage() {
  cat <<EOF
usage: bench/run.sh [options]

  --quick               fewer iterations, 3 repetitions, 3 s flood steps
  --reps N              repetitions per (workload, configuration) (default 7; --quick 3)
  --configs LIST        comma list of none,monitored,unmonitored,enforcing,auditd,empty,
                        monitored-base,unmonitored-base (default: none,monitored,unmonitored,auditd;
                        enforcing = monitored + respond.kill; empty = a BPF program that does
                        nothing on syscalls:sys_exit_openat, the kernel's floor for any open hook;
                        *-base = the same configuration with the --base-agent binary)
  --workloads LIST      comma list of open,exec,connect (default: all three)
  --sustained           run only the sustained-rate mode (event_flood under the monitored agent)
  --no-sustained        skip the sustained-rate mode
  --rates LIST          flood target rates in events/s, 0 = unpaced
                        (default 50000,100000,200000,400000,0)
  --flood-seconds S     duration of every flood step (default 10; --quick 3)
  --flood-threads N     generator threads for the flood (default 1)
  --open-n N / --exec-n N / --connect-n N   iterations per workload run
  --build-dir DIR       build tree (default: <repo>/build)
  --agent PATH          privwatch binary (default: <build-dir>/privwatch)
  --base-agent PATH     privwatch binary of the *-base configurations (e.g. a copy of the build
                        before a change, to compare before/after interleaved in one run)
  --bin-dir DIR         workload binaries (default: <build-dir>/bench)
  --out DIR             where results-<date>.md and raw-<date>.jsonl go (default: bench/out)
  --pin-cpu N|none      run the connect workload on CPU N with taskset (default 0; see README)
  --pin-all             pin every workload (open, exec, connect, flood) to that CPU
  --settle S            seconds to wait after "agent ready" before measuring (default 1)
  --store-queue-mb N    store.queue_max_mb of the agents (default: the agent's default)
  --keep                keep the scratch directory (agent logs, configs, stats files)
  -h, --help            this text
EOF
}

# ---------------------------------------------------------------------------- options
QUICK=0
REPS=""
CONFIGS="none,monitored,unmonitored,auditd"
WORKLOADS="open,exec,connect"
MODE=all # all | overhead | sustained
RATES="50000,100000,200000,400000,0"
FLOOD_SECONDS=""
FLOOD_THREADS=1
OPEN_N="" EXEC_N="" CONNECT_N=""
BUILD_DIR="$ROOT_DIR/build"
AGENT=""
BASE_AGENT=""
BIN_DIR=""
OUT_DIR="$BENCH_DIR/out"
SETTLE=1
KEEP=0
STORE_QUEUE_MB=""
PIN_CPU=0
PIN_ALL=0
ORIG_ARGS="$*"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --configs) CONFIGS=$2; shift ;;
    --workloads) WORKLOADS=$2; shift ;;
    --store-queue-mb) STORE_QUEUE_MB=$2; shift ;;
    --sustained) MODE=sustained ;;
    --no-sustained) MODE=overhead ;;
    --rates) RATES=$2; shift ;;
    --flood-seconds) FLOOD_SECONDS=$2; shift ;;
    --flood-threads) FLOOD_THREADS=$2; shift ;;
    --open-n) OPEN_N=$2; shift ;;
    --exec-n) EXEC_N=$2; shift ;;
    --connect-n) CONNECT_N=$2; shift ;;
    --build-dir) BUILD_DIR=$(cd "$2" && pwd); shift ;;
    --agent) AGENT=$2; shift ;;
    --base-agent) BASE_AGENT=$2; shift ;;
    --bin-dir) BIN_DIR=$2; shift ;;
    --out) OUT_DIR=$2; shift ;;
    --settle) SETTLE=$2; shift ;;
    --pin-cpu) PIN_CPU=$2; shift ;;
    --pin-all) PIN_ALL=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ $QUICK == 1 ]]; then
  : "${REPS:=3}" "${FLOOD_SECONDS:=3}" "${OPEN_N:=50000}" "${EXEC_N:=500}" "${CONNECT_N:=5000}"
else
  : "${REPS:=7}" "${FLOOD_SECONDS:=10}" "${OPEN_N:=200000}" "${EXEC_N:=2000}" "${CONNECT_N:=20000}"
fi
: "${AGENT:=$BUILD_DIR/privwatch}"
: "${BIN_DIR:=$BUILD_DIR/bench}"

IFS=, read -r -a CONFIG_LIST <<<"$CONFIGS"
IFS=, read -r -a WORKLOAD_LIST <<<"$WORKLOADS"
IFS=, read -r -a RATE_LIST <<<"$RATES"
for c in "${CONFIG_LIST[@]}"; do
  case "$c" in none|monitored|unmonitored|enforcing|auditd|empty|monitored-base|unmonitored-base) ;; *) echo "run.sh: unknown configuration '$c'" >&2; exit 2 ;; esac
done
for w in "${WORKLOAD_LIST[@]}"; do
  case "$w" in open|exec|connect) ;; *) echo "run.sh: unknown workload '$w'" >&2; exit 2 ;; esac
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is required (JSON handling and the report)"

declare -A WL_BIN=([open]=bench_open_loop [exec]=bench_fork_exec_loop [connect]=bench_connect_loop)
declare -A WL_ARGS=([open]="-n $OPEN_N" [exec]="-n $EXEC_N" [connect]="-n $CONNECT_N")
need_bins=()
[[ $MODE != sustained ]] && for w in "${WORKLOAD_LIST[@]}"; do need_bins+=("${WL_BIN[$w]}"); done
[[ $MODE != overhead ]] && need_bins+=(bench_event_flood)
[[ " ${CONFIG_LIST[*]} " == *" empty "* ]] && need_bins+=(bench_empty_tracepoint)
for b in "${need_bins[@]}"; do
  [[ -x "$BIN_DIR/$b" ]] || die "missing $BIN_DIR/$b — build it: cmake --build $BUILD_DIR --target $b (or pass --bin-dir)"
done

# ---------------------------------------------------------------------------- state, cleanup
STAMP=$(date +%Y-%m-%d-%H%M%S)
mkdir -p "$OUT_DIR"
RAW="$OUT_DIR/raw-$STAMP.jsonl"
RESULTS="$OUT_DIR/results-$STAMP.md"
: >"$RAW"
WORK=$(mktemp -d /tmp/pw-bench.XXXXXX)
NOTES=()           # lines for the report's "Notes" section
AGENT_PID=""
EMPTY_PID=""
AUDITD_PID=""
AUDIT_SAVED=""     # "enabled backlog_limit backlog_wait_time failure" before we touched it
AGENT_OK=1         # cleared when the agent cannot be used (missing, fails to start)
AUDITD_OK=1
CLK_TCK=$(getconf CLK_TCK)

note() { NOTES+=("$*"); log "note: $*"; }

# Stop whatever this script started; restore the kernel audit settings it changed.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$AGENT_PID" ]]; then
    kill -TERM "$AGENT_PID" 2>/dev/null || true
    wait_exit "$AGENT_PID" 10 || kill -KILL "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  if [[ -n "$AUDITD_PID" ]]; then
    auditctl -D >/dev/null 2>&1 || true
    kill -TERM "$AUDITD_PID" 2>/dev/null || true
    wait_exit "$AUDITD_PID" 20 || kill -KILL "$AUDITD_PID" 2>/dev/null || true
    wait "$AUDITD_PID" 2>/dev/null || true
  fi
  stop_empty
  restore_audit_settings
  if [[ $KEEP == 1 ]]; then log "scratch directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_exit PID SECONDS — 0 once PID is gone (or a zombie of ours), 1 on timeout.
wait_exit() {
  local pid=$1 deadline=$((SECONDS + $2)) st
  while kill -0 "$pid" 2>/dev/null; do
    st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    [[ "$st" == Z ]] && return 0
    ((SECONDS >= deadline)) && return 1
    sleep 0.05
  done
  return 0
}

# cpu_ns PID — CPU time (user + system) of the whole process in nanoseconds, empty if the
# process is gone. Sums /proc/PID/task/*/schedstat (ns resolution; live threads only), else
# falls back to utime+stime from /proc/PID/stat (clock-tick resolution, 10 ms).
cpu_ns() {
  local pid=$1 total=0 f line found=0
  [[ -n "$pid" && -d "/proc/$pid" ]] || { echo ""; return 0; }
  for f in /proc/"$pid"/task/*/schedstat; do
    read -r line _ 2>/dev/null <"$f" || continue
    total=$((total + line)); found=1
  done
  if ((found)); then echo "$total"; return 0; fi
  local s
  s=$(cat "/proc/$pid/stat" 2>/dev/null) || { echo ""; return 0; }
  s=${s##*) }
  local -a a
  read -r -a a <<<"$s"
  echo $(((a[11] + a[12]) * 1000000000 / CLK_TCK))
}

# rss_hwm_kb PID — peak resident set (VmHWM) in kB, empty if unavailable.
rss_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || true; }

# json_file FILE — the file's JSON compacted to one line, or null.
json_file() {
  python3 - "$1" <<'EOF' 2>/dev/null || echo null
import json, sys
try:
    print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))
except Exception:
    print("null")
EOF
}

# json_str STRING — a JSON string literal.
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

# ns_delta_s NS0 NS1 — seconds between two cpu_ns readings, or null.
ns_delta_s() {
  [[ -z "$1" || -z "$2" ]] && { echo null; return; }
  python3 -c "print(round(($2 - $1) / 1e9, 6))"
}

now_s() { date +%s.%N; }

# ---------------------------------------------------------------------------- agent
write_agent_config() { # KIND FILE
  local kind=$1 file=$2
  {
    echo "# generated by bench/run.sh ($kind)"
    if [[ $kind == monitored ]]; then
      echo "monitor: {root: true}"
    elif [[ $kind == enforcing ]]; then
      # monitored + armed respond.kill entries that the workloads never match: every
      # monitored exec and connect pays the kill-map lookups, nothing is killed.
      echo "monitor: {root: true}"
      echo "respond: {kill: [{name: bench-net, connect: \"192.0.2.1:9\"}, {name: bench-any-port, connect: \"198.51.100.0/24\"}, {name: bench-exe, exec: /usr/bin/bc}]}"
    else
      echo "monitor: {root: false, all_logins: false}"
    fi
    echo "output: {path: $WORK/events.jsonl, max_size_mb: 100, max_files: 2}"
    # A fresh store per run (the default one under /var/lib/privwatch would grow across runs
    # and belongs to the machine's own agent).
    echo "store: {path: $WORK/store-$kind/privwatch.db, key_path: $WORK/store-$kind/store.key${STORE_QUEUE_MB:+, queue_max_mb: $STORE_QUEUE_MB}}"
  } >"$file"
}

# start_agent KIND [BINARY] — starts the agent, waits for "agent ready". Sets AGENT_PID,
# AGENT_STATS.
start_agent() {
  local kind=$1 bin=${2:-$AGENT}
  local cfg="$WORK/agent-$kind.yaml"
  write_agent_config "$kind" "$cfg"
  AGENT_STATS="$WORK/stats-$kind.json"
  AGENT_LOG="$WORK/agent-$kind.stderr"
  rm -rf "$AGENT_STATS" "$WORK"/events.jsonl* "$WORK/store-$kind"
  "$bin" agent --config "$cfg" --stats-file "$AGENT_STATS" >"$WORK/agent-$kind.stdout" 2>"$AGENT_LOG" &
  AGENT_PID=$!
  local deadline=$((SECONDS + 30))
  while ! grep -q "agent ready" "$AGENT_LOG" "$WORK/agent-$kind.stdout" 2>/dev/null; do
    if ! kill -0 "$AGENT_PID" 2>/dev/null; then
      local rc=0
      wait "$AGENT_PID" || rc=$?
      AGENT_PID=""
      note "agent ($kind) exited with status $rc before \"agent ready\"; last lines: $(tail -n 3 "$AGENT_LOG" | tr '\n' ' '); agent runs skipped from here on"
      AGENT_OK=0
      return 1
    fi
    if ((SECONDS >= deadline)); then
      note "agent ($kind) did not print \"agent ready\" within 30 s; last lines: $(tail -n 3 "$AGENT_LOG" | tr '\n' ' '); agent runs skipped from here on"
      AGENT_OK=0
      stop_agent || true
      return 1
    fi
    sleep 0.1
  done
  sleep "$SETTLE"
}

# stop_agent — SIGTERM, wait, read the stats file. Sets AGENT_STATS_JSON (the stats file's
# JSON or null), AGENT_RSS_FALLBACK (VmHWM just before stopping) and AGENT_EXIT.
# Never call it in $(...): it must reap the agent, a child of this shell.
stop_agent() {
  local pid=$AGENT_PID
  AGENT_RSS_FALLBACK=$(rss_hwm_kb "$pid")
  AGENT_EXIT=0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_exit "$pid" 30; then
    note "agent did not exit within 30 s of SIGTERM; killed (no stats file expected)"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || AGENT_EXIT=$?
  AGENT_PID=""
  AGENT_STATS_JSON=null
  if [[ -s "$AGENT_STATS" ]]; then
    AGENT_STATS_JSON=$(json_file "$AGENT_STATS")
  else
    note "agent exited with status $AGENT_EXIT without writing the stats file $AGENT_STATS"
  fi
  rm -f "$WORK"/events.jsonl*
}

# ---------------------------------------------------------------------------- empty program
# start_empty — an empty BPF program on syscalls:sys_exit_openat (bench_empty_tracepoint): what
# the kernel charges for running any program there. Sets EMPTY_PID.
start_empty() {
  "$BIN_DIR/bench_empty_tracepoint" syscalls/sys_exit_openat 2>"$WORK/empty.stderr" &
  EMPTY_PID=$!
  local deadline=$((SECONDS + 10))
  while ! grep -q ready "$WORK/empty.stderr" 2>/dev/null; do
    if ! kill -0 "$EMPTY_PID" 2>/dev/null || ((SECONDS >= deadline)); then
      note "empty program did not attach: $(tail -n 2 "$WORK/empty.stderr" | tr '\n' ' ')"
      stop_empty
      return 1
    fi
    sleep 0.05
  done
  sleep "$SETTLE"
}

stop_empty() {
  [[ -n "$EMPTY_PID" ]] || return 0
  kill -TERM "$EMPTY_PID" 2>/dev/null || true
  wait "$EMPTY_PID" 2>/dev/null || true
  EMPTY_PID=""
}

# ---------------------------------------------------------------------------- auditd
# Audit status field from `auditctl -s`.
audit_status() { auditctl -s 2>/dev/null | awk -v k="$1" '$1 == k {print $2}'; }

restore_audit_settings() {
  [[ -z "$AUDIT_SAVED" ]] && return 0
  local e b w f
  read -r e b w f <<<"$AUDIT_SAVED"
  auditctl -D >/dev/null 2>&1 || true
  auditctl -b "$b" >/dev/null 2>&1 || true
  auditctl --backlog_wait_time "$w" >/dev/null 2>&1 || true
  auditctl -f "$f" >/dev/null 2>&1 || true
  auditctl -e "$e" >/dev/null 2>&1 || true
}

# auditd_preflight — decides once whether the auditd configuration can run here.
auditd_preflight() {
  local why=""
  if [[ $EUID -ne 0 ]]; then why="not root"
  elif ! command -v auditd >/dev/null || ! command -v auditctl >/dev/null; then
    why="auditd/auditctl not installed (Debian package auditd)"
  elif ! auditctl -s >/dev/null 2>&1; then why="auditctl -s failed: $(auditctl -s 2>&1 | head -n1)"
  elif [[ "$(audit_status pid)" != 0 ]]; then
    why="an audit daemon is already registered (pid $(audit_status pid)); stop it first — it also skews the other configurations"
  elif [[ "$(audit_status enabled)" == 2 ]]; then why="audit configuration is locked (enabled 2)"
  elif [[ "$(auditctl -l 2>/dev/null)" != "No rules" ]]; then
    why="audit rules are already loaded (auditctl -l); not touching someone else's rules"
  fi
  if [[ -n "$why" ]]; then
    AUDITD_OK=0
    note "auditd configuration skipped: $why"
    return 1
  fi
  AUDIT_SAVED="$(audit_status enabled) $(audit_status backlog_limit) $(audit_status backlog_wait_time) $(audit_status failure)"
  # A private configuration directory: same settings as the system's, log in the scratch dir.
  mkdir -p "$WORK/audit"
  chmod 750 "$WORK/audit"
  sed -e "s#^log_file *=.*#log_file = $WORK/audit/audit.log#" /etc/audit/auditd.conf >"$WORK/audit/auditd.conf"
  chmod 640 "$WORK/audit/auditd.conf"
}

# start_auditd — auditd in the foreground (-n, no fork) + the rules. Sets AUDITD_PID.
start_auditd() {
  rm -f "$WORK"/audit/audit.log*
  auditd -n -c "$WORK/audit" >"$WORK/auditd.stderr" 2>&1 &
  AUDITD_PID=$!
  local deadline=$((SECONDS + 15))
  while [[ "$(audit_status pid)" != "$AUDITD_PID" ]]; do
    if ! kill -0 "$AUDITD_PID" 2>/dev/null || ((SECONDS >= deadline)); then
      note "auditd did not start: $(tail -n 3 "$WORK/auditd.stderr" | tr '\n' ' ')"
      kill -TERM "$AUDITD_PID" 2>/dev/null || true
      wait "$AUDITD_PID" 2>/dev/null || true
      AUDITD_PID=""
      AUDITD_OK=0
      return 1
    fi
    sleep 0.05
  done
  # The settings of Debian's default /etc/audit/rules.d/audit.rules, then the benchmark rule.
  if ! { auditctl -D && auditctl -b 8192 && auditctl --backlog_wait_time 60000 && auditctl -f 1 &&
         auditctl -e 1 &&
         auditctl -a always,exit -F arch=b64 -S execve -S openat -S connect; } >"$WORK/auditctl.log" 2>&1; then
    note "auditctl failed: $(tail -n 2 "$WORK/auditctl.log" | tr '\n' ' ')"
    stop_auditd
    AUDITD_OK=0
    return 1
  fi
  AUDIT_LOST_BEFORE=$(audit_status lost)
}

stop_auditd() {
  AUDIT_LOST_AFTER=$(audit_status lost)
  auditctl -D >/dev/null 2>&1 || true
  AUDITD_RSS=$(rss_hwm_kb "$AUDITD_PID")
  kill -TERM "$AUDITD_PID" 2>/dev/null || true
  if ! wait_exit "$AUDITD_PID" 30; then
    note "auditd did not exit within 30 s of SIGTERM; killed"
    kill -KILL "$AUDITD_PID" 2>/dev/null || true
  fi
  wait "$AUDITD_PID" 2>/dev/null || true
  AUDITD_PID=""
  restore_audit_settings
  rm -f "$WORK"/audit/audit.log*
}

# CPU of the audit machinery: auditd itself plus the kernel's kauditd thread.
audit_cpu_ns() {
  local a k
  a=$(cpu_ns "$AUDITD_PID")
  k=$(cpu_ns "$KAUDITD_PID")
  [[ -z "$a" ]] && { echo ""; return; }
  echo $((a + ${k:-0}))
}
KAUDITD_PID=$(pgrep -x kauditd | head -n1 || true)

# ---------------------------------------------------------------------------- one measurement
# run_workload NAME BIN ARGS... — sets WL_RESULT to the workload's JSON line, or returns 1.
# The connect workload (or every workload with --pin-all) runs pinned to $PIN_CPU.
run_workload() {
  local name=$1 bin=$2
  shift 2
  local -a pin=()
  if [[ $PIN_CPU != none && ($name == connect || $PIN_ALL == 1) ]]; then
    pin=(taskset -c "$PIN_CPU")
  fi
  WL_RESULT=""
  if ! WL_RESULT=$("${pin[@]}" "$BIN_DIR/$bin" "$@" 2>"$WORK/workload.stderr") ||
     [[ "$WL_RESULT" != "{"* ]]; then
    note "$name failed ($BIN_DIR/$bin $*): $(tail -n 2 "$WORK/workload.stderr" | tr '\n' ' ')"
    return 1
  fi
}

# measure REP CONFIG WORKLOAD — one run, one JSON record appended to $RAW.
measure() {
  local rep=$1 cfg=$2 wl=$3 bin=${WL_BIN[$3]} result stats=null cpu=null rss=null drops=null
  local t0 t1 c0="" c1="" exit_code=null
  # shellcheck disable=SC2086
  case "$cfg" in
    none)
      run_workload "$wl" "$bin" ${WL_ARGS[$wl]} || return 0
      ;;
    monitored|unmonitored|enforcing|monitored-base|unmonitored-base)
      ((AGENT_OK)) || return 0
      if [[ $cfg == *-base ]]; then
        start_agent "${cfg%-base}" "$BASE_AGENT" || return 0
      else
        start_agent "$cfg" || return 0
      fi
      c0=$(cpu_ns "$AGENT_PID"); t0=$(now_s)
      run_workload "$wl" "$bin" ${WL_ARGS[$wl]} || { stop_agent; return 0; }
      t1=$(now_s); c1=$(cpu_ns "$AGENT_PID")
      stop_agent
      stats=$AGENT_STATS_JSON
      exit_code=$AGENT_EXIT
      rss=${AGENT_RSS_FALLBACK:-null}
      ;;
    empty)
      start_empty || return 0
      t0=$(now_s)
      run_workload "$wl" "$bin" ${WL_ARGS[$wl]} || { stop_empty; return 0; }
      t1=$(now_s)
      stop_empty
      ;;
    auditd)
      ((AUDITD_OK)) || return 0
      start_auditd || return 0
      c0=$(audit_cpu_ns); t0=$(now_s)
      run_workload "$wl" "$bin" ${WL_ARGS[$wl]} || { stop_auditd; return 0; }
      t1=$(now_s); c1=$(audit_cpu_ns)
      stop_auditd
      rss=${AUDITD_RSS:-null}
      drops=$((AUDIT_LOST_AFTER - AUDIT_LOST_BEFORE))
      ;;
  esac
  result=$WL_RESULT
  [[ $cfg != none ]] && cpu=$(ns_delta_s "$c0" "$c1")
  local wall=null
  [[ $cfg != none ]] && wall=$(python3 -c "print(round($t1 - $t0, 3))")
  printf '{"mode":"overhead","rep":%d,"config":"%s","workload":"%s","result":%s,"stats":%s,"window":{"wall_s":%s,"cpu_s":%s,"rss_hwm_kb":%s,"audit_lost":%s,"agent_exit":%s}}\n' \
    "$rep" "$cfg" "$wl" "$result" "$stats" "$wall" "$cpu" "$rss" "$drops" "$exit_code" >>"$RAW"
  log "rep $rep $cfg $wl: $result"
}

# ---------------------------------------------------------------------------- preflight
if [[ " ${CONFIG_LIST[*]} " == *" monitored "* || " ${CONFIG_LIST[*]} " == *" unmonitored "* ||
      " ${CONFIG_LIST[*]} " == *" enforcing "* ||
      $MODE == sustained ]]; then
  if [[ $EUID -ne 0 ]]; then
    AGENT_OK=0; note "agent configurations skipped: not root (the agent loads BPF programs)"
  elif [[ ! -x "$AGENT" ]]; then
    AGENT_OK=0; note "agent configurations skipped: $AGENT not found or not executable (build it: cmake --build $BUILD_DIR --target privwatch)"
  fi
fi
if [[ " ${CONFIG_LIST[*]} " == *-base\ * && ! -x "$BASE_AGENT" ]]; then
  die "the *-base configurations need --base-agent PATH (an executable privwatch binary)"
fi
if [[ " ${CONFIG_LIST[*]} " == *" auditd "* && $MODE != sustained ]]; then
  auditd_preflight || true
fi
if pgrep -x auditd >/dev/null 2>&1 && [[ -z "$AUDITD_PID" ]]; then
  note "an auditd process is running outside this benchmark (pid $(pgrep -x auditd | tr '\n' ' ')); it affects every configuration"
fi
others=$(pgrep -x privwatch 2>/dev/null | tr '\n' ' ' || true)
[[ -n "$others" ]] && note "privwatch processes running outside this benchmark (pid $others); they affect every configuration"

if [[ $PIN_CPU != none ]] && ! command -v taskset >/dev/null; then
  note "taskset (util-linux) not found: workloads run unpinned"
  PIN_CPU=none
fi

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if python3 -c "import sys; sys.exit(0 if float('${LOAD_START%% *}') > 0.5 else 1)"; then
  note "the machine was not idle at the start (load average $LOAD_START): other jobs add noise to every number, and ratios near their target are not conclusive"
fi
log "scratch $WORK; raw records $RAW"
log "reps=$REPS configs=${CONFIG_LIST[*]} workloads=${WORKLOAD_LIST[*]} mode=$MODE"

# ---------------------------------------------------------------------------- overhead matrix
if [[ $MODE != sustained ]]; then
  ncfg=${#CONFIG_LIST[@]}
  for ((rep = 1; rep <= REPS; rep++)); do
    # Rotate the configuration order every repetition: none goes first, then second, ...
    order=()
    for ((i = 0; i < ncfg; i++)); do order+=("${CONFIG_LIST[$(((i + rep - 1) % ncfg))]}"); done
    for wl in "${WORKLOAD_LIST[@]}"; do
      for cfg in "${order[@]}"; do
        measure "$rep" "$cfg" "$wl"
      done
    done
  done
fi

# ---------------------------------------------------------------------------- sustained rate
if [[ $MODE != overhead ]]; then
  if ((AGENT_OK)); then
    for rate in "${RATE_LIST[@]}"; do
      start_agent monitored || break
      c0=$(cpu_ns "$AGENT_PID"); t0=$(now_s)
      if ! run_workload flood bench_event_flood -r "$rate" -d "$FLOOD_SECONDS" -t "$FLOOD_THREADS"; then
        stop_agent
        break
      fi
      t1=$(now_s); c1=$(cpu_ns "$AGENT_PID")
      stop_agent
      result=$WL_RESULT stats=$AGENT_STATS_JSON
      cpu=$(ns_delta_s "$c0" "$c1")
      wall=$(python3 -c "print(round($t1 - $t0, 3))")
      printf '{"mode":"sustained","rate":%s,"config":"monitored","workload":"flood","result":%s,"stats":%s,"window":{"wall_s":%s,"cpu_s":%s,"rss_hwm_kb":%s,"agent_exit":%s}}\n' \
        "$rate" "$result" "$stats" "$wall" "$cpu" "${AGENT_RSS_FALLBACK:-null}" "$AGENT_EXIT" >>"$RAW"
      log "flood rate $rate: $result"
    done
  else
    note "sustained-rate mode skipped: the agent is not available"
  fi
fi

# ---------------------------------------------------------------------------- report
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
git_describe() {
  local rev
  rev=$(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null) || rev="no commit"
  if [[ -n "$(git -C "$ROOT_DIR" status --porcelain 2>/dev/null | head -n1)" ]]; then
    rev+=" (uncommitted changes)"
  fi
  echo "$rev"
}
meta=(
  "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  "host=$(hostname)"
  "kernel=$(uname -r)"
  "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo) × $(nproc)"
  "git=$(git_describe)"
  "command=bench/run.sh $ORIG_ARGS"
  "reps=$REPS"
  "iterations=open $OPEN_N, exec $EXEC_N, connect $CONNECT_N; flood ${FLOOD_SECONDS}s × ${FLOOD_THREADS} thread(s)"
  "pinning=$(if [[ $PIN_CPU == none ]]; then echo none; elif ((PIN_ALL)); then echo "all workloads on CPU $PIN_CPU"; else echo "connect on CPU $PIN_CPU"; fi)"
  "loadavg=$LOAD_START at start, $LOAD_END at end"
  "raw=$RAW"
)
args=()
for m in "${meta[@]}"; do args+=(--meta "$m"); done
for n in "${NOTES[@]+"${NOTES[@]}"}"; do args+=(--note "$n"); done
python3 "$BENCH_DIR/report.py" --raw "$RAW" "${args[@]}" >"$RESULTS"
cat "$RESULTS"
log "results written to $RESULTS"
