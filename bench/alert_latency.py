#!/usr/bin/env python3
"""Syscall-to-alert latency under load (issue #5): see bench/alert_latency.sh --help.

For each background load (bench_event_flood at a paced rate of monitored opens), starts a fresh
agent with the default configuration and ruleset (deduplication and rate limiting off, so that
every trigger is its own alert), triggers N alerts at a fixed pace (a python process opening
/etc/shadow: rule read-shadow), and measures per alert

  line:  when a reader tailing the agent's JSON output file saw the alert line
         minus the kernel timestamp of the triggering open (privwatch.details.event.ts_ns,
         CLOCK_BOOTTIME), converted to wall time with the REALTIME-BOOTTIME offset sampled at
         the start of the run;

and reads the agent's own histogram privwatch_alert_latency_seconds (GET /metrics: kernel
timestamp → the moment the pipeline hands the alert to its outputs, both on CLOCK_BOOTTIME;
Prometheus buckets, so its quantiles are bucket upper bounds).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

RULE = b'"read-shadow"'


def boot_to_wall_offset_ns():
    best = None
    for _ in range(200):
        a = time.clock_gettime_ns(time.CLOCK_REALTIME)
        b = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        c = time.clock_gettime_ns(time.CLOCK_REALTIME)
        if best is None or c - a < best[0]:
            best = (c - a, (a + c) // 2 - b)
    return best[1]


def quantile(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(q * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def scrape_histogram(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    buckets = []
    count = 0
    for line in text.splitlines():
        m = re.match(r'privwatch_alert_latency_seconds_bucket\{le="([^"]+)"\} (\d+)', line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets.append((le, int(m.group(2))))
        m = re.match(r"privwatch_alert_latency_seconds_count (\d+)", line)
        if m:
            count = int(m.group(1))
    buckets.sort()
    return buckets, count


def bucket_quantile(buckets, count, q):
    """Upper bound of the bucket holding the q-quantile (seconds)."""
    if count == 0:
        return float("nan")
    want = q * count
    for le, c in buckets:
        if c >= want:
            return le
    return float("inf")


def fmt_ms(v):
    if v != v:  # nan
        return "n/a"
    if v == float("inf"):
        return "> 10 s"
    return f"{v:.2f}"


def le_ms(v):
    if v != v:
        return "n/a"
    if v == float("inf"):
        return "> 10 s"
    return f"≤ {v * 1000:g}"


class Tail:
    """Reads the agent's output file as it grows; keeps (seen_wall_ns, alert JSON) of our
    alerts. Only lines holding the rule name are parsed."""

    def __init__(self, path):
        self.path = path
        self.f = None
        self.rest = b""
        self.alerts = []
        self.bytes = 0

    def poll(self):
        if self.f is None:
            try:
                self.f = open(self.path, "rb", buffering=0)
            except FileNotFoundError:
                return False
        got = False
        while True:
            chunk = self.f.read(8 << 20)
            now = time.clock_gettime_ns(time.CLOCK_REALTIME)
            if not chunk:
                return got
            got = True
            self.bytes += len(chunk)
            data = self.rest + chunk
            end = data.rfind(b"\n")
            if end < 0:
                self.rest = data
                continue
            self.rest = data[end + 1:]
            pos = data.find(RULE, 0, end)
            while pos >= 0:
                s = data.rfind(b"\n", 0, pos) + 1
                e = data.find(b"\n", pos)
                line = data[s:e]
                try:
                    j = json.loads(line)
                except ValueError:
                    j = None
                if j and j.get("event", {}).get("kind") == "alert":
                    self.alerts.append((now, j))
                pos = data.find(RULE, e, end)


def start_agent(args, scratch, tag):
    cfg = os.path.join(scratch, f"agent-{tag}.yaml")
    data = args.data_dir or scratch
    os.makedirs(data, exist_ok=True)
    out = os.path.join(data, f"events-{tag}.jsonl")
    stats = os.path.join(scratch, f"stats-{tag}.json")
    err = os.path.join(scratch, f"agent-{tag}.stderr")
    for p in (out, stats):
        if os.path.exists(p):
            os.unlink(p)
    with open(cfg, "w") as f:
        f.write(
            f"output:\n  path: {out}\n  max_size_mb: 100000\n"
            "monitor:\n  root: true\n"
            "detect:\n  default_rules: true\n  dedup_window_s: 0\n  rate_limit_per_minute: 0\n"
            "metrics:\n  enabled: true\n  listen: 127.0.0.1:0\n"
            f"store:\n  path: {data}/store-{tag}/privwatch.db\n"
            f"  key_path: {data}/store-{tag}/store.key\n")
    errf = open(err, "w")
    proc = subprocess.Popen(  # inherits this process's nice value (--agent-nice)
        [args.privwatch, "agent", "--config", cfg, "--stats-file", stats],
        stdout=subprocess.DEVNULL, stderr=errf)
    port = None
    deadline = time.time() + 60
    while time.time() < deadline:
        text = open(err).read()
        m = re.search(r"metrics: serving http://[^:]+:(\d+)/metrics", text)
        if m:
            port = int(m.group(1))
        if "privwatch agent ready" in text and port:
            return proc, out, stats, err, port
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"the agent did not get ready; its log: {err}\n{open(err).read()[-2000:]}")


TRIGGER = r"""
import os, sys, time
n, period = int(sys.argv[1]), float(sys.argv[2])
t0 = time.monotonic() + 0.5
for i in range(n):
    d = t0 + i * period - time.monotonic()
    if d > 0:
        time.sleep(d)
    os.close(os.open("/etc/shadow", os.O_RDONLY))
"""


def workload_nice(args):
    """The load and the triggers run at nice 0 whatever --agent-nice is."""
    return (lambda: os.nice(-args.agent_nice)) if args.agent_nice else None


def run_one(args, scratch, rate, offset):
    tag = f"r{rate}"
    proc, out, stats_path, err, port = start_agent(args, scratch, tag)
    time.sleep(args.settle)
    tail = Tail(out)
    flood = None
    duration = args.n * args.period + 3
    if rate > 0:
        flood_dir = os.path.join(scratch, "flood")
        os.makedirs(flood_dir, exist_ok=True)
        flood = subprocess.Popen(
            [args.flood, "-r", str(rate), "-d", str(int(duration + 2)), "-D", flood_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=workload_nice(args), start_new_session=True)
        time.sleep(1.0)  # the flood reaches its rate
    load_before = os.getloadavg()
    trig = subprocess.Popen([sys.executable, "-c", TRIGGER, str(args.n), str(args.period)],
                            preexec_fn=workload_nice(args), start_new_session=True)
    while trig.poll() is None:
        if not tail.poll():
            time.sleep(0.0005)
    # Every alert seen (or 60 s: a starved agent can be seconds behind), then the metrics
    # snapshot (published every metrics.interval_ms) catches up.
    end = time.time() + 60.0
    while time.time() < end and sum(
            1 for _, j in tail.alerts
            if j.get("privwatch", {}).get("details", {}).get("process", {}).get("pid")
            == trig.pid) < args.n:
        if not tail.poll():
            time.sleep(0.0005)
    time.sleep(1.5)
    tail.poll()
    load_after = os.getloadavg()
    buckets, hcount = scrape_histogram(port)
    flood_line = {}
    if flood:
        try:  # it ends by itself (-d), a few seconds after the last trigger
            o, _ = flood.communicate(timeout=duration + 60)
            flood_line = json.loads(o.decode().strip().splitlines()[-1]) if o.strip() else {}
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            flood.kill()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    stats = json.load(open(stats_path)) if os.path.exists(stats_path) else {}
    lat = []
    for seen, j in tail.alerts:
        d = j.get("privwatch", {}).get("details", {})
        if d.get("process", {}).get("pid") != trig.pid:
            continue
        ts = d.get("event", {}).get("ts_ns")
        if ts is None:
            continue
        lat.append((seen - (ts + offset)) / 1e6)
    lat.sort()
    res = {
        "rate": rate,
        "flood": flood_line,
        "triggers": args.n,
        "alerts": len(lat),
        "line_p50_ms": quantile(lat, 0.50),
        "line_p99_ms": quantile(lat, 0.99),
        "line_max_ms": lat[-1] if lat else float("nan"),
        "hist_count": hcount,
        "hist_p50_s": bucket_quantile(buckets, hcount, 0.50),
        "hist_p99_s": bucket_quantile(buckets, hcount, 0.99),
        "events_total": stats.get("events_total"),
        "drops_total": stats.get("drops_total"),
        "event_latency_ns": stats.get("latency_ns"),
        "agent_cpu_s": (stats.get("cpu_user_s", 0) + stats.get("cpu_sys_s", 0)),
        "uptime_s": stats.get("uptime_s"),
        "output_bytes_read": tail.bytes,
        "load_before": load_before,
        "load_after": load_after,
    }
    if not args.keep:
        for p in (out,):
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(os.path.join(args.data_dir or scratch, f"store-{tag}"), ignore_errors=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--privwatch", required=True)
    ap.add_argument("--flood", required=True)
    ap.add_argument("--rates", default="0,50000,100000",
                    help="background loads in opens/s (0: no load), comma-separated")
    ap.add_argument("-n", type=int, default=300, help="alerts triggered per load")
    ap.add_argument("--period", type=float, default=0.05, help="seconds between triggers")
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--keep", action="store_true", help="keep outputs and stores")
    ap.add_argument("--agent-nice", type=int, default=0,
                    help="run the agent (and this measuring reader) in a scheduling group of "
                         "its own at this nice value, e.g. -10 as a unit with Nice=-10 would; "
                         "the load and the triggers stay at 0")
    ap.add_argument("--data-dir", default="",
                    help="where the agent's output file and store go (default: the scratch "
                         "directory; /dev/shm takes the disk out of the measurement)")
    args = ap.parse_args()
    if args.agent_nice:
        # The kernel groups tasks by session (sched_autogroup) and shares the CPU between
        # groups before nice counts: the agent and this reader get a session of their own at
        # that nice value; the load and the triggers each start their own session at 0.
        try:
            os.setsid()
        except OSError:
            pass
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(args.agent_nice))
        os.nice(args.agent_nice)

    os.makedirs(args.scratch, exist_ok=True)
    offset = boot_to_wall_offset_ns()
    results = []
    for rate in [int(r) for r in args.rates.split(",") if r.strip()]:
        r = run_one(args, args.scratch, rate, offset)
        results.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
    with open(os.path.join(args.scratch, "results.jsonl"), "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; agent nice "
          f"{args.agent_nice}; output and store in {args.data_dir or args.scratch}; "
          f"{args.n} alerts per load, one every {args.period * 1000:g} ms; kernel "
          f"{os.uname().release}; {os.cpu_count()} CPUs")
    print()
    print("| load (opens/s target → delivered) | alerts seen / triggered | line p50 ms | "
          "line p99 ms | line max ms | agent histogram p50 / p99 (ms, bucket bound) | "
          "events | drops | event p99 / max (ms) | agent CPU | load avg before → after |")
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in results:
        delivered = r["flood"].get("rate") if r["flood"] else None
        load = "none" if r["rate"] == 0 else (
            f"{r['rate']:,} → {delivered:,.0f}" if delivered else f"{r['rate']:,}")
        el = r["event_latency_ns"] or {}
        cpu = (f"{100 * r['agent_cpu_s'] / r['uptime_s']:.0f} %"
               if r.get("uptime_s") else "n/a")
        print(f"| {load} | {r['alerts']} / {r['triggers']} | {fmt_ms(r['line_p50_ms'])} | "
              f"{fmt_ms(r['line_p99_ms'])} | {fmt_ms(r['line_max_ms'])} | "
              f"{le_ms(r['hist_p50_s'])} / {le_ms(r['hist_p99_s'])} ({r['hist_count']} alerts) | "
              f"{r['events_total']} | {r['drops_total']} | "
              f"{el.get('p99', 0) / 1e6:.2f} / {el.get('max', 0) / 1e6:.2f} | {cpu} | "
              f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f} |")


if __name__ == "__main__":
    main()
