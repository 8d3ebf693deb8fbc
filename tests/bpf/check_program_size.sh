#!/usr/bin/env bash
# Build check: the instruction count of every BPF program stays within budget, so a change
# that bloats a program (or nears the verifier's limits) is noticed, and the per-syscall
# stubs stay tiny (sys_exit_openat, the most frequent, is a whole program of its own: no stub).
# Usage: check_program_size.sh OBJECT [BUDGET]
set -euo pipefail
obj=$1
budget=${2:-4096}
objdump=$(command -v llvm-objdump-14 || command -v llvm-objdump)
fail=0
counts=$("$objdump" -d --no-show-raw-insn "$obj" |
  awk '/^[0-9a-f]+ <[A-Za-z_0-9.]+>:$/ && $2 !~ /^<LBB/ {fn=$2; gsub(/[<>:]/, "", fn); next}
       /^ *[0-9]+:/ && fn != "" {n[fn]++}
       END {for (f in n) print n[f], f}' | sort -k2)
[[ -n "$counts" ]] || { echo "no programs found in $obj" >&2; exit 1; }
while read -r count fn; do
  printf '%-28s %6d instructions\n' "$fn" "$count"
  if (( count > budget )); then
    echo "  over budget ($budget): $fn" >&2
    fail=1
  fi
  if [[ $fn == sys_exit_* && $fn != sys_exit_openat ]] && (( count > 16 )); then
    echo "  the per-syscall stub $fn grew to $count instructions (budget 16)" >&2
    fail=1
  fi
done <<<"$counts"
grep -q ' sys_exit_openat$' <<<"$counts" || { echo "sys_exit_openat program not found" >&2; fail=1; }
exit $fail
