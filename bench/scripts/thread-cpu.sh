#!/usr/bin/env bash
# CPU time per thread of a running server over a window, to split a bench phase's CPU per
# call by thread (docs/performance.md, "The SQLite writer's CPU, thread by thread").
# Usage: bench/scripts/thread-cpu.sh SERVER_JAR SECONDS
# Run it while the bench's phase runs; divide each thread's milliseconds by the calls the
# phase made in the window (its calls/s times SECONDS).
set -euo pipefail
jar=${1:?server jar}; seconds=${2:?seconds}
pid=""
for p in $(pgrep java); do
  cmd=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null || true)
  case "$cmd" in *token-authority-bench.jar*) ;; *"$jar"*) pid=$p ;; esac
done
[ -n "$pid" ] || { echo "no server running $jar" >&2; exit 1; }
ticks=$(getconf CLK_TCK)
snapshot() {  # "thread name<TAB>user+system ticks" per thread, threads of one name summed
  for d in /proc/"$pid"/task/*; do
    printf '%s\t%s\n' "$(cat "$d/comm" 2>/dev/null)" "$(awk '{print $14 + $15}' "$d/stat" 2>/dev/null)"
  done | awk -F'\t' '$2 != "" {t[$1] += $2} END {for (n in t) print n "\t" t[n]}' | sort
}
before=$(snapshot); sleep "$seconds"; after=$(snapshot)
join -t $'\t' <(echo "$before") <(echo "$after") \
  | awk -F'\t' -v hz="$ticks" '{ms = ($3 - $2) * 1000 / hz; if (ms > 0) printf "%8.0f ms  %s\n", ms, $1}' | sort -rn
