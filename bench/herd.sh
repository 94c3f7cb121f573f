#!/usr/bin/env bash
# Issue 16's herd experiment with a real client that honours Retry-After (the npm package ky):
# CLIENTS clients on one key of a policy of 10 per 10 s, for DURATION seconds, against one Sluice
# node on the embedded in-process store; prints admissions, refusals and refusals per admission.
#   bench/herd.sh                       # 20 clients, 30 s
#   CLIENTS=20 DURATION=30 bench/herd.sh
#   SLUICE_JAR=/path/to/another/sluice.jar bench/herd.sh   # another build, for a paired run
# Needs node and npm (installs ky 1.9.1 into bench/herd/node_modules once).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bin/lib.sh"
CLIENTS=${CLIENTS:-20}
DURATION=${DURATION:-30}
use_java
if [ -n "${SLUICE_JAR:-}" ]; then JAR=$SLUICE_JAR; else build_jar; fi
(cd "$root/bench/herd" && { [ -d node_modules/ky ] || npm install --no-audit --no-fund --silent; })
port=$(free_port)
log=$(mktemp)
LIMITER_POLICIES_HERD_LIMIT=10 LIMITER_POLICIES_HERD_PERIOD=10s MICRONAUT_SERVER_PORT=$port \
  "$JAVA" -jar "$JAR" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null; wait $pid 2> /dev/null; rm -f "$log"' EXIT
for _ in $(seq 600); do
  curl -fs "http://127.0.0.1:$port/health/readiness" > /dev/null 2>&1 && break
  sleep 0.1
done
node "$root/bench/herd/herd.mjs" "http://127.0.0.1:$port" herd "$CLIENTS" "$DURATION"
