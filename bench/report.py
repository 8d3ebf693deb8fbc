#!/usr/bin/env python3
"""Turn bench/run.sh raw records (JSON lines) into the Markdown report.

Usage: report.py --raw raw.jsonl [--meta key=value ...] [--note text ...]

Each raw record is one run: {"mode": "overhead"|"sustained", "config", "workload", "rep"|"rate",
"result": <workload JSON line>, "stats": <agent stats file or null>,
"window": {"wall_s", "cpu_s", "rss_hwm_kb", "audit_lost", "agent_exit"}}.
"""
import argparse
import json
import statistics
import sys

CONFIGS = ["none", "empty", "monitored", "monitored-base", "unmonitored", "unmonitored-base",
           "enforcing", "auditd"]
WORKLOADS = ["open", "exec", "connect"]
AGENT_CONFIGS = ("monitored", "unmonitored", "enforcing", "monitored-base", "unmonitored-base")

# (workload, config, max ratio to none) — the targets on the 2-core machine.
RATIO_TARGETS = [
    ("open", "monitored", 1.30),
    ("open", "unmonitored", 1.05),
    ("exec", "monitored", 1.10),
    ("exec", "unmonitored", 1.10),
    ("connect", "monitored", 1.10),
    ("connect", "unmonitored", 1.10),
]
P99_TARGET_MS = 5.0
RSS_TARGET_MB = 30.0


def get(d, *path):
    for k in path:
        if not isinstance(d, dict) or k not in d or d[k] is None:
            return None
        d = d[k]
    return d


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="{:.0f}", none="–"):
    return none if x is None else spec.format(x)


def fmt_ns(ns):
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def fmt_rss(total_kb, agent_kb):
    if total_kb is None:
        return "–"
    if agent_kb is None:
        return f"{total_kb / 1024:.1f} MB"
    return f"{total_kb / 1024:.1f} MB ({agent_kb / 1024:.1f})"


def agent_cpu_s(r):
    """Agent CPU during the workload window (/proc sampling); stats-file totals as a fallback."""
    w = get(r, "window", "cpu_s")
    if w is not None:
        return w
    u, s = get(r, "stats", "cpu_user_s"), get(r, "stats", "cpu_sys_s")
    return None if u is None or s is None else u + s


def latency(r, q):
    """A latency quantile from the stats file; None when the agent measured no event."""
    if get(r, "stats", "latency_ns", "count") == 0:
        return None
    return get(r, "stats", "latency_ns", q)


def rss_minus_ring_kb(r):
    """Peak RSS without the ring buffer's resident pages (DESIGN.md §10 budgets agent memory
    "ring buffers aside"): the agent's own peak_rss_agent_kb when the stats file has it, else
    peak_rss_kb less ring_buffer_bytes (approximate: the ring is mapped twice and only touched
    pages are resident)."""
    v = get(r, "stats", "peak_rss_agent_kb")
    if v is not None:
        return v
    rss, ring = get(r, "stats", "peak_rss_kb"), get(r, "stats", "ring_buffer_bytes")
    return None if rss is None or ring is None else max(0, rss - ring // 1024)


def peak_rss_kb(r):
    v = get(r, "stats", "peak_rss_kb")
    return v if v is not None else get(r, "window", "rss_hwm_kb")


def drops(r):
    v = get(r, "stats", "drops_total")
    return v if v is not None else get(r, "window", "audit_lost")


def store_drops(r):
    """Records the agent's store dropped (queue full, failed writes); None without a store."""
    q, w = get(r, "stats", "store", "dropped_queue"), get(r, "stats", "store", "dropped_write")
    return None if q is None and w is None else (q or 0) + (w or 0)


def summarize(runs):
    ns = [get(r, "result", "ns_per_op") for r in runs]
    ops = [get(r, "result", "ops") for r in runs]
    cpu = [agent_cpu_s(r) for r in runs]
    wall = [get(r, "window", "wall_s") for r in runs]
    cpu_pct = [c / w * 100 if c is not None and w else None for c, w in zip(cpu, wall)]
    cpu_per_op = [c * 1e9 / o if c is not None and o else None for c, o in zip(cpu, ops)]
    rss = [peak_rss_kb(r) for r in runs]
    rss_agent = [rss_minus_ring_kb(r) for r in runs]
    d = [drops(r) for r in runs]
    return {
        "n": len(runs),
        "ns": median(ns),
        "cpu_ns": median([get(r, "result", "cpu_ns_per_op") for r in runs]),
        "ns_min": min((x for x in ns if x is not None), default=None),
        "ns_max": max((x for x in ns if x is not None), default=None),
        "cpu_pct": median(cpu_pct),
        "cpu_per_op": median(cpu_per_op),
        "rss_kb": max((x for x in rss if x is not None), default=None),
        "rss_agent_kb": max((x for x in rss_agent if x is not None), default=None),
        "events": median([get(r, "stats", "events_total") for r in runs]),
        "drops": sum(x for x in d if x is not None) if any(x is not None for x in d) else None,
        "p50": median([latency(r, "p50") for r in runs]),
        "p99": median([latency(r, "p99") for r in runs]),
        "p99_max": max((x for x in (latency(r, "p99") for r in runs) if x is not None),
                       default=None),
    }


def paired_ratio(overhead, wl, cfg, key="ns_per_op"):
    """Median over repetitions of ns/op(cfg) / ns/op(none) within the same repetition.

    The configurations of one repetition run back to back, so pairing them cancels slow drifts
    of the machine (another job starting, thermal or host effects) that a ratio of medians keeps.
    """
    base = {r["rep"]: get(r, "result", key) for r in overhead
            if r["workload"] == wl and r["config"] == "none"}
    ratios = [get(r, "result", key) / base[r["rep"]] for r in overhead
              if r["workload"] == wl and r["config"] == cfg and base.get(r.get("rep"))
              and get(r, "result", key) is not None]
    return median(ratios)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta", action="append", default=[])
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()

    records = []
    with open(a.raw) as f:
        for line in f:
            line = line.strip()
            if line:
                records.append(json.loads(line))

    out = []
    w = out.append
    w("# privwatch overhead benchmark\n")
    for m in a.meta:
        k, _, v = m.partition("=")
        w(f"- **{k}**: {v}")
    w("")

    overhead = [r for r in records if r.get("mode") == "overhead"]
    sums = {}
    for wl in WORKLOADS:
        for cfg in CONFIGS:
            runs = [r for r in overhead if r["workload"] == wl and r["config"] == cfg]
            if runs:
                sums[(wl, cfg)] = summarize(runs)

    if sums:
        w("## Overhead per operation (median of repetitions)\n")
        w("| workload | config | runs | ns/op (median) | min – max | × none | × none (paired) "
          "| workload CPU ns/op | × none CPU (paired) | agent CPU % of 1 core "
          "| agent CPU / op | peak RSS (without ring buffer) | events | drops | latency p50 | latency p99 (worst) |")
        w("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for wl in WORKLOADS:
            base = sums[(wl, "none")]["ns"] if (wl, "none") in sums else None
            for cfg in CONFIGS:
                s = sums.get((wl, cfg))
                if not s:
                    continue
                ratio = s["ns"] / base if base and s["ns"] else None
                agent = cfg not in ("none", "empty")
                w("| " + " | ".join([
                    wl, cfg, str(s["n"]), fmt(s["ns"], "{:,.0f}"),
                    f"{fmt(s['ns_min'], '{:,.0f}')} – {fmt(s['ns_max'], '{:,.0f}')}",
                    fmt(ratio, "{:.3f}"),
                    fmt(paired_ratio(overhead, wl, cfg), "{:.3f}"),
                    fmt(s["cpu_ns"], "{:,.0f}"),
                    fmt(paired_ratio(overhead, wl, cfg, "cpu_ns_per_op"), "{:.3f}"),
                    fmt(s["cpu_pct"], "{:.1f} %") if agent else "–",
                    fmt_ns(s["cpu_per_op"]) if agent else "–",
                    fmt_rss(s["rss_kb"], s["rss_agent_kb"]),
                    fmt(s["events"], "{:,.0f}"),
                    fmt(s["drops"], "{:,}"),
                    fmt_ns(s["p50"]),
                    f"{fmt_ns(s['p99'])} ({fmt_ns(s['p99_max'])})" if s["p99"] is not None else "–",
                ]) + " |")
        w("")
        w("× none is the ratio of the medians; × none (paired) is the median over repetitions of "
          "the ratio to the `none` run of the same repetition (the targets use it). "
          "Workload CPU ns/op is the workload's own CPU time per operation (open loop only): "
          "on a shared machine it leaves out the time other jobs take the CPU away. "
          "For `auditd`, agent CPU is auditd plus the kernel's kauditd thread, peak RSS is auditd's "
          "and drops are the kernel's `lost` audit records. Events and latency come from the agent's "
          "stats file and exist only for the privwatch configurations.\n")

    sustained = [r for r in records if r.get("mode") == "sustained"]
    if sustained:
        w("## Sustained event rate (event_flood, monitored)\n")
        w("| target rate | generated ops/s | agent events | events/s | events / ops | drops "
          "| store drops | agent CPU % of 1 core | peak RSS (without ring buffer) | latency p50 "
          "| latency p99 | max |")
        w("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        best = None
        for r in sustained:
            ops = get(r, "result", "ops")
            dur = get(r, "result", "duration_s")
            ev = get(r, "stats", "events_total")
            evs = ev / dur if ev is not None and dur else None
            dr = drops(r)
            cpu, wall = agent_cpu_s(r), get(r, "window", "wall_s")
            rss = peak_rss_kb(r)
            if dr == 0 and evs is not None and (best is None or evs > best):
                best = evs
            w("| " + " | ".join([
                "unpaced" if not r.get("rate") else f"{r['rate']:,}",
                fmt(get(r, "result", "rate"), "{:,.0f}"),
                fmt(ev, "{:,}"), fmt(evs, "{:,.0f}"),
                fmt(ev / ops if ev is not None and ops else None, "{:.3f}"),
                fmt(dr, "{:,}"),
                fmt(store_drops(r), "{:,}"),
                fmt(cpu / wall * 100 if cpu is not None and wall else None, "{:.1f} %"),
                fmt_rss(rss, rss_minus_ring_kb(r)),
                fmt_ns(latency(r, "p50")),
                fmt_ns(latency(r, "p99")),
                fmt_ns(latency(r, "max")),
            ]) + " |")
        w("")
        w(f"**Sustained with zero drops: {fmt(best, '{:,.0f}', 'none of the steps')} events/s** "
          "(highest agent events/s over the steps whose drops_total is 0 — capture: the kernel "
          "lost nothing; the store's own drops are in their column; events include the "
          "little background activity of other root processes during the step).\n")

    # Targets.
    rows = []
    for wl, cfg, limit in RATIO_TARGETS:
        ratio = paired_ratio(overhead, wl, cfg)
        rows.append((f"{wl} {cfg} ≤ {limit:.2f}× none (paired)", fmt(ratio, "{:.3f}×"),
                     "n/a" if ratio is None else ("PASS" if ratio <= limit else "FAIL")))
    agent_runs = [r for r in records if r.get("config") in AGENT_CONFIGS and r.get("stats")]
    p99s = [latency(r, "p99") for r in agent_runs
            if not (r.get("mode") == "sustained" and drops(r))]
    p99s = [x for x in p99s if x is not None]
    worst = max(p99s) if p99s else None
    rows.append((f"kernel→user latency p99 < {P99_TARGET_MS:g} ms (worst run without drops)",
                 fmt_ns(worst), "n/a" if worst is None else
                 ("PASS" if worst < P99_TARGET_MS * 1e6 else "FAIL")))
    for label, fn in ((f"agent peak RSS < {RSS_TARGET_MB:g} MB (worst run)", peak_rss_kb),
                      (f"agent peak RSS without the ring buffer < {RSS_TARGET_MB:g} MB "
                       "(DESIGN.md §10: ring buffers aside)", rss_minus_ring_kb)):
        rss = [fn(r) for r in records if r.get("config") in AGENT_CONFIGS]
        rss = [x for x in rss if x is not None]
        worst_rss = max(rss) / 1024 if rss else None
        rows.append((label, fmt(worst_rss, "{:.1f} MB"),
                     "n/a" if worst_rss is None else
                     ("PASS" if worst_rss < RSS_TARGET_MB else "FAIL")))
    w("## Targets\n")
    w("| target | measured | |")
    w("|---|--:|---|")
    for t, m, v in rows:
        w(f"| {t} | {m} | {v} |")
    w("")

    if a.note:
        w("## Notes\n")
        for n in dict.fromkeys(a.note):  # each distinct note once, in order
            w(f"- {n}")
        w("")

    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
