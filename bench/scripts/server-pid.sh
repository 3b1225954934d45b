#!/usr/bin/env bash
# Sourced by the other scripts here: server_pid JAR prints the pid of the java process running
# JAR that is not the bench itself (the bench starts the server it measures as a child process).
server_pid() {
  local jar=$1 p cmd
  for p in $(pgrep java); do
    cmd=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null || true)
    case "$cmd" in *token-authority-bench.jar*) ;; *"$jar"*) echo "$p"; return 0 ;; esac
  done
  echo "no server running $jar" >&2
  return 1
}
