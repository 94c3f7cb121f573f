#!/usr/bin/env bash
# Where a check's JVM time goes: one Sluice node on a fresh 3-master Redis Cluster, wrk -t1 -c32
# on 10,000 keys for DURATION after as long a warm-up, with JFR recording the measured part; then
# the share of execution samples by thread group and by package group, and the top frames.
#
#   bench/profile-check.sh
#   OPTS="-Dlimiter.http.direct-path=false" bench/profile-check.sh     # the same with a setting
#   KEYS=10 LIMIT=100 bench/profile-check.sh                           # hot keys: the over-limit cache
#
# Everything runs on 127.0.0.1 and stops when the script ends. The recording stays in
# bench/results/profile-<timestamp>.jfr (`jfr print --events jdk.ExecutionSample` reads it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"

DURATION=${DURATION:-20s}
KEYS=${KEYS:-10000}
LIMIT=${LIMIT:-1000000}
need_cmd redis-server redis-server
need_cmd redis-cli redis-tools
need_cmd wrk wrk
need_cmd python3 python3
use_java
build_jar
bench_workdir profile
start_bench_cluster
printf 'limiter:\n  policies:\n    bench: {limit: %s, period: 1h}\n' "$LIMIT" > "$work/policies.yml"
port=$(free_port)
env MICRONAUT_SERVER_PORT="$port" REDIS_URIS="$uris" MICRONAUT_CONFIG_FILES="$work/policies.yml" \
  "$JAVA" -Xms512m -Xmx512m ${OPTS:-} -jar "$JAR" > "$work/node.log" 2>&1 &
node=$!
pids+=($node)
until curl -sf "localhost:$port/health" > /dev/null; do sleep 0.2; done
mkdir -p "$root/bench/results"
out="$root/bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ).jfr"
KEYS=$KEYS wrk -t1 -c32 -d"$DURATION" -s "$here/check.lua" "http://127.0.0.1:$port" > /dev/null
"$JAVA_HOME/bin/jcmd" "$node" JFR.start name=check settings=profile filename="$out" > /dev/null
ticks0=$(awk '{print $14+$15}' "/proc/$node/stat")
KEYS=$KEYS wrk -t1 -c32 -d"$DURATION" -s "$here/check.lua" "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency"
ticks1=$(awk '{print $14+$15}' "/proc/$node/stat")
"$JAVA_HOME/bin/jcmd" "$node" JFR.stop name=check > /dev/null
echo "JVM CPU during the measured part: $(( (ticks1 - ticks0) * 10 )) ms; recording: $out"
"$JAVA_HOME/bin/jfr" print --events jdk.ExecutionSample "$out" | python3 -c '
import re, sys, collections
groups = [("dev.sluice.api", "sluice api"), ("dev.sluice.store", "sluice store"), ("dev.sluice", "sluice other"),
          ("io.netty.handler.codec.http", "netty http"), ("io.netty.channel.nio", "netty nio"),
          ("io.netty.channel", "netty channel"), ("io.netty.buffer", "netty buffer"), ("io.netty", "netty other"),
          ("io.lettuce", "lettuce"), ("io.micronaut", "micronaut"), ("com.fasterxml", "jackson"),
          ("io.micrometer", "micrometer"), ("java.util.concurrent", "jdk concurrency"), ("sun.nio", "jdk nio"),
          ("java.nio", "jdk nio"), ("java.", "jdk other"), ("jdk.", "jdk other")]
def group(frame):
    return next((g for p, g in groups if frame.startswith(p)), "other")
threads, packages, frames, n = collections.Counter(), collections.Counter(), collections.Counter(), 0
for event in sys.stdin.read().split("jdk.ExecutionSample")[1:]:
    stack = re.findall(r"^\s+([\w.$<>]+)\(.*?line:", event, re.M)
    thread = re.search(r"sampledThread = \"([^\"]+)\"", event)
    if not stack:
        continue
    n += 1
    threads[re.sub(r"\d+", "N", thread.group(1) if thread else "?")] += 1
    packages[group(stack[0])] += 1
    frames[stack[0]] += 1
print(f"{n} samples")
for title, counter, top in (("by thread", threads, 6), ("by package (self)", packages, 20), ("top frames (self)", frames, 15)):
    print(title + ":")
    for name, count in counter.most_common(top):
        print(f"  {count * 100 / n:5.1f} %  {name}")
'
