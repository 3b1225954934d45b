#!/usr/bin/env bash
# CPU time per thread of a running server over a window, to split a bench phase's CPU per
# call by thread (docs/performance.md, "The SQLite writer's CPU, thread by thread"), and the
# time each thread was ready to run but waited for a core ("Where a SQLite redeem waits").
# Usage: bench/scripts/thread-cpu.sh SERVER_JAR SECONDS
# Run it while the bench's phase runs (the bench prints "redeeming them" when a redeem phase
# starts); divide each thread's milliseconds by the calls the phase made in the window (its
# calls/s times SECONDS).
set -euo pipefail
jar=${1:?server jar}; seconds=${2:?seconds}
. "$(dirname "$0")/server-pid.sh"
pid=$(server_pid "$jar")
snapshot() {  # "thread name<TAB>cpu ns<TAB>run-queue wait ns<TAB>switches" per thread, threads of one name summed
  for d in /proc/"$pid"/task/*; do
    printf '%s\t%s\n' "$(cat "$d/comm" 2>/dev/null)" "$(tr ' ' '\t' < "$d/schedstat" 2>/dev/null)"
  done | awk -F'\t' '$2 != "" {c[$1] += $2; w[$1] += $3; s[$1] += $4} END {for (n in c) print n "\t" c[n] "\t" w[n] "\t" s[n]}' | sort
}
before=$(snapshot); sleep "$seconds"; after=$(snapshot)
printf '%8s  %16s  %9s  %s\n' "cpu ms" "waited for a core" "switches" "thread"
join -t $'\t' <(echo "$before") <(echo "$after") \
  | awk -F'\t' '{cpu = ($5 - $2) / 1e6; wait = ($6 - $3) / 1e6; if (cpu >= 1) printf "%8.0f  %13.0f ms  %9d  %s\n", cpu, wait, $7 - $4, $1}' \
  | sort -rn
