#!/usr/bin/env bash
# Samples a running server's CPU, Java, JVM, native and kernel frames, thread by thread, with
# async-profiler (taken from Maven Central, tools.profiler:async-profiler, and attached with
# jcmd), so that a bench phase can be profiled alone (docs/performance.md, "Where a SQLite
# redeem waits").
# Usage: bench/scripts/profile.sh SERVER_JAR SECONDS OUT.collapsed
# Run it while the bench's phase runs (the bench prints "redeeming them" when a redeem phase
# starts). OUT holds one line per distinct stack, thread first, samples last (the "collapsed"
# format flame graph tools read); a sample is 200 µs of a thread's CPU. A summary by thread is
# printed. The first use fetches the profiler with Maven (about 15 s): run it once before the
# phase, e.g. against an idle server, so that it attaches at once when it matters.
set -euo pipefail
jar=${1:?server jar}; seconds=${2:?seconds}; out=${3:?output file}
version=4.2
case "$(uname -m)" in x86_64) platform=linux-x64 ;; aarch64) platform=linux-arm64 ;; *) echo "no async-profiler for $(uname -m)" >&2; exit 1 ;; esac
lib=${TMPDIR:-/tmp}/async-profiler-$version/$platform/libasyncProfiler.so
if [ ! -f "$lib" ]; then
  here=$(cd "$(dirname "$0")/../.." && pwd)
  "$here/mvnw" -B -q dependency:get -Dartifact="tools.profiler:async-profiler:$version:jar:$platform" >&2
  mkdir -p "$(dirname "$(dirname "$lib")")"
  (cd "$(dirname "$(dirname "$lib")")" && unzip -o -q \
    "$HOME/.m2/repository/tools/profiler/async-profiler/$version/async-profiler-$version-$platform.jar" "$platform/*")
fi
. "$(dirname "$0")/server-pid.sh"
pid=$(server_pid "$jar")
out=$(realpath -m "$out")
# jcmd reads name=value pairs itself: the profiler's options go through as one quoted argument.
jcmd "$pid" JVMTI.agent_load "$lib" '"start,event=cpu,interval=200us,threads"' > /dev/null
sleep "$seconds"
jcmd "$pid" JVMTI.agent_load "$lib" "\"stop,threads,collapsed,file=$out\"" > /dev/null
awk '{n = $NF; t = substr($0, 2, index($0, ";") - 2); sub(/ tid=[0-9]*\]$/, "", t); s[t] += n; all += n}
     END {for (t in s) printf "%7d  %5.1f%%  %s\n", s[t], 100 * s[t] / all, t}' "$out" | sort -rn | head -15
