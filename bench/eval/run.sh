#!/usr/bin/env bash
# Baselines evaluation: a synthetic organisation (tools/orgsim) through ueba::Engine.
# Usage: bench/eval/run.sh [build-dir]   (or: make eval)
# Writes bench/eval/results-<seed>.json and results-memory.json and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
cmake --build "$BUILD" --target privwatch_orgsim >&2
SIM="$BUILD/privwatch_orgsim"
OUT=bench/eval
for seed in 42 7 1234; do
  echo "== seed $seed: 200 users, 210 days, 10 scenarios of each type" >&2
  "$SIM" --users 200 --days 210 --seed "$seed" --scenarios 10 --quiet > "$OUT/results-$seed.json"
done
echo "== memory: 1000 users, 60 days" >&2
"$SIM" --users 1000 --days 60 --seed 42 --scenarios 2 --quiet > "$OUT/results-memory.json"
python3 - "$OUT" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, "results-[0-9]*.json")))]
print("seed | FP/user-day after 7 d | after 30 d | after 180 d | FP/event after 7/30/180 d | recall | events/CPU-s")
for r in runs:
    fp = r["false_positives"]
    print(f'{r["seed"]} | ' + " | ".join(f'{w["per_user_day_pct"]:.3f}% ({w["alerts"]}/{w["benign_user_days"]})' for w in fp)
          + " | " + " / ".join(f'{w["per_event_pct"]:.5f}%' for w in fp)
          + f' | {r["recall"]:.3f} | {r["events_per_cpu_second_through_model"]:,}')
print()
print("seed | whole run after day 7: benign alerts / benign user-days (%) | per benign event | rollouts learned | recurrences learned")
for r in runs:
    w = r["whole_run_after_day_7"]
    print(f'{r["seed"]} | {w["benign_alerts"]} / {w["benign_user_days"]} ({w["per_user_day_pct"]:.4f}%) | {w["per_event_pct"]:.6f}% | {r["rollouts_learned"]} | {r["recurrences_learned"]}')
print()
print("scenario | recall (all seeds) | mean delay s | mean events until alert")
for i in range(6):
    inj = sum(r["scenarios"][i]["injected"] for r in runs)
    det = sum(r["scenarios"][i]["detected"] for r in runs)
    d = [r["scenarios"][i] for r in runs if r["scenarios"][i]["detected"]]
    delay = sum(x["mean_delay_s"] * x["detected"] for x in d) / max(1, det)
    evs = sum(x["mean_events_until_alert"] * x["detected"] for x in d) / max(1, det)
    print(f'{runs[0]["scenarios"][i]["name"]} | {det}/{inj} | {delay:.1f} | {evs:.1f}')
m = json.load(open(os.path.join(out, "results-memory.json")))
print()
print(f'memory: {m["memory_bytes"]/1048576:.2f} MiB for {sum(m["entities"].values())} entities '
      f'({m["entities"]["user"]} users) = {m["memory_mb_per_1000_entities"]:.2f} MiB per 1,000 entities')
PY
