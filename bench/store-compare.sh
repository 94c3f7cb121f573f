#!/usr/bin/env bash
# The cost of the Redis round trip (issue 4): the same Sluice jar and the same wrk load on
# POST /v1/check (token bucket, 10,000 random keys), once deciding in-process and once on a
# 3-master Redis Cluster, alternating, plus the no-op /v1/ping of each node as the reference.
#
#   bench/store-compare.sh                  # 3 rounds of 15 s per store, 32 connections
#   ROUNDS=5 DURATION=30s bench/store-compare.sh
#
# Everything runs on 127.0.0.1 and stops when the script ends. Results: stdout and
# bench/results/store-compare-<timestamp>.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"

DURATION=${DURATION:-15s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
export KEYS=${KEYS:-10000}
JVM_OPTS=${JVM_OPTS:-"-Xms256m -Xmx256m -XX:+UseParallelGC"}

need_cmd redis-server redis-server
need_cmd redis-cli redis-tools
need_cmd wrk wrk
use_java
build_jar

bench_workdir store-compare

start_bench_cluster
printf 'limiter:\n  policies:\n    bench: {limit: 1000, period: 1h}\n' > "$work/policies.yml"

start_node() { # variable to set to the node's base URL, log name, then env arguments
  local var=$1 name=$2; shift 2
  local port; port=$(free_port)
  env "$@" MICRONAUT_SERVER_PORT="$port" MICRONAUT_CONFIG_FILES="$work/policies.yml" \
    "$JAVA" $JVM_OPTS -jar "$JAR" > "$work/$name.log" 2>&1 &
  pids+=($!)  # not in a subshell: cleanup must see it
  local base="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do curl -fs "$base/v1/ping" > /dev/null && break; sleep 0.1; done
  curl -fs "$base/v1/ping" > /dev/null || { cat "$work/$name.log"; echo "$name did not start" >&2; exit 1; }
  printf -v "$var" '%s' "$base"
}
start_node local_base in-process -u REDIS_URIS -u REDIS_URI
start_node cluster_base cluster REDIS_URIS="$uris"

run_wrk() { # label, path, base, duration
  PATH_UNDER_TEST=$2 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$4" --latency -s "$here/check.lua" "$3" \
    > "$work/wrk-$1.txt" 2>&1
}
rps() { awk '/^Requests\/sec/ {print $2}' "$work/wrk-$1.txt"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$work/wrk-$1.txt"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$work/wrk-$1.txt"; }

echo "warming up ($WARMUP each)..." >&2
for s in local cluster; do
  base_var="${s}_base"
  run_wrk "warm-$s" /v1/check "${!base_var}" "$WARMUP"
done
echo "measuring ($ROUNDS rounds of $DURATION each)..." >&2
for r in $(seq 1 "$ROUNDS"); do
  for s in local cluster; do
    base_var="${s}_base"
    run_wrk "ping-$s-$r" /v1/ping "${!base_var}" "$DURATION"
    run_wrk "check-$s-$r" /v1/check "${!base_var}" "$DURATION"
  done
done

out="$root/bench/results/store-compare-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p "$root/bench/results"
{
  echo "store-compare: $(date -u +%FT%TZ), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS, $ROUNDS x $DURATION, $KEYS keys"
  echo "round | store | /v1/ping req/s | /v1/check req/s | check/ping | check p50 | check p99 | non-2xx"
  for r in $(seq 1 "$ROUNDS"); do
    for s in local cluster; do
      p=$(rps "ping-$s-$r"); c=$(rps "check-$s-$r")
      ratio=$(awk -v c="$c" -v p="$p" 'BEGIN {printf "%.1f %%", 100 * c / p}')
      name=$([ "$s" = local ] && echo in-process || echo redis-cluster)
      echo "$r | $name | $p | $c | $ratio | $(pct "check-$s-$r" 50%) | $(pct "check-$s-$r" 99%) | $(non2xx "check-$s-$r")"
    done
  done
  # a check over the 10 ms budget is decided by the policy's mode (open: admitted, still a 200):
  # count those, so that a degraded run cannot pass for a fast one
  for s in local cluster; do
    base_var="${s}_base"
    d=$(curl -fs "${!base_var}/prometheus" | awk '/^sluice_decisions_total\{.*degraded="true"/ {n += $2} END {printf "%d", n}')
    a=$(curl -fs "${!base_var}/prometheus" | awk '/^sluice_decisions_total\{/ {n += $2} END {printf "%d", n}')
    echo "$([ "$s" = local ] && echo in-process || echo redis-cluster): $d of $a decisions degraded (over the budget or the breaker open)"
  done
} | tee "$out"
echo "written: $out" >&2
