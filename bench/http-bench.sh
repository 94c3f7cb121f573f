#!/usr/bin/env bash
# HTTP benchmark of Sluice: POST /v1/check (every algorithm) against the no-op POST /v1/ping in one run, all driven
# by the same wrk script and bodies (10,000 random keys), on a 3-master Redis Cluster; plus bytes
# per subject in Redis and the raw script cost (redis-benchmark).
#
#   bench/http-bench.sh                 # defaults: 32 connections, 2 wrk threads, 3 rounds of 15 s per endpoint
#   ROUNDS=5 DURATION=30s CONNECTIONS=32 bench/http-bench.sh
#
# Each round measures the no-op endpoint, then /v1/check, back to back, so both see the same
# machine: on a shared 2-core host the absolute rate moves between runs, the ratio much less.
#
# Everything runs on 127.0.0.1 and stops when the script ends (also on failure or Ctrl-C).
# Results go to stdout and to bench/results/http-bench-<timestamp>.txt.
set -eu  # no pipefail: "redis-cli --scan | head" ends by SIGPIPE on purpose
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"

DURATION=${DURATION:-15s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
KEYS=${KEYS:-10000}
# Algorithms measured against the no-op in each round (policy bench-<algorithm>); the first is
# the one reported as "POST /v1/check" and used for the memory figures.
ALGORITHMS=${ALGORITHMS:-token-bucket gcra fixed-window sliding-window-counter sliding-window-log concurrency}
JVM_OPTS=${JVM_OPTS:-"-Xms256m -Xmx256m -XX:+UseParallelGC"}

need_cmd redis-server redis-server
need_cmd redis-cli redis-tools
need_cmd redis-benchmark redis-tools
need_cmd wrk wrk
use_java
build_jar

bench_workdir bench

# --- a 3-master Redis Cluster, no replicas ---------------------------------------------------
start_bench_cluster

# --- the service -----------------------------------------------------------------------------
http_port=$(free_port)
# bench (token bucket) and bench-<algorithm>: 1000 per hour per key, so every check of the run is
# admitted and every subject stays in Redis for the memory measurement afterwards.
{
  echo "limiter:"
  echo "  policies:"
  echo "    bench: {limit: 1000, period: 1h}"
  for a in $ALGORITHMS; do
    if [ "$a" = concurrency ]; then
      # leases are taken and never released here: this measures acquisition; 1000 in flight per key
      echo "    bench-$a: {algorithm: $a, limit: 1000, lease-ttl: 1h}"
    else
      echo "    bench-$a: {algorithm: $a, limit: 1000, period: 1h}"
    fi
  done
} > "$work/policies.yml"
REDIS_URIS="$uris" MICRONAUT_SERVER_PORT="$http_port" MICRONAUT_CONFIG_FILES="$work/policies.yml" \
  "$JAVA" $JVM_OPTS -jar "$JAR" > "$work/sluice.log" 2>&1 &
pids+=($!)
sluice_pid=$!
base="http://127.0.0.1:$http_port"
for _ in $(seq 1 300); do curl -fs "$base/v1/ping" > /dev/null && break; sleep 0.1; done
curl -fs "$base/v1/ping" > /dev/null || { cat "$work/sluice.log"; echo "service did not start" >&2; exit 1; }

# CPU ticks (utime + stime) of the given pids, and busy ticks of the whole machine.
proc_ticks() { local t=0; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

run_wrk() { # label, duration, extra args...: also writes "sluice redis other" CPU ticks to cpu-<label>
  local label=$1 duration=$2; shift 2
  local j0 r0 m0
  j0=$(proc_ticks "$sluice_pid"); r0=$(proc_ticks "${redis_pids[@]}"); m0=$(machine_busy)
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency "$@" > "$work/wrk-$label.txt" 2>&1
  local j=$(( $(proc_ticks "$sluice_pid") - j0 )) r=$(( $(proc_ticks "${redis_pids[@]}") - r0 )) m=$(( $(machine_busy) - m0 ))
  echo "$j $r $((m - j - r))" > "$work/cpu-$label"
}
# "<sluice us> / <redis us> / <wrk+kernel+other us>" of CPU per request of a run
cpu_per_request() {
  local hz n; hz=$(getconf CLK_TCK); n=$(awk '/requests in/ {print $1}' "$work/wrk-$1.txt")
  awk -v hz="$hz" -v n="$n" '{printf "%.0f / %.0f / %.0f", $1 * 1e6 / hz / n, $2 * 1e6 / hz / n, $3 * 1e6 / hz / n}' "$work/cpu-$1"
}
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }

echo "warming up ($WARMUP each)..." >&2
export KEYS
PATH_UNDER_TEST=/v1/ping run_wrk warm-ping "$WARMUP" -s "$here/check.lua" "$base"
PATH_UNDER_TEST=/v1/check run_wrk warm-check "$WARMUP" -s "$here/check.lua" "$base"

echo "measuring ($ROUNDS rounds of $DURATION each)..." >&2
for r in $(seq 1 "$ROUNDS"); do
  PATH_UNDER_TEST=/v1/ping run_wrk "ping-$r" "$DURATION" -s "$here/check.lua" "$base"
  PATH_UNDER_TEST=/v1/check run_wrk "check-$r" "$DURATION" -s "$here/check.lua" "$base"
  for a in $ALGORITHMS; do
    [ "$a" = token-bucket ] && continue  # the "bench" policy above is the token bucket
    POLICY="bench-$a" PATH_UNDER_TEST=/v1/check run_wrk "alg-$a-$r" "$DURATION" -s "$here/check.lua" "$base"
  done
done
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$sluice_pid/status")

# --- bytes per subject -----------------------------------------------------------------------
subjects=0; usage_sum=0; usage_n=0
for port in "${cluster_ports[@]}"; do
  n=$(redis-cli -p "$port" dbsize); subjects=$((subjects + n))
  for key in $(redis-cli -p "$port" --scan --pattern 'sl:{bench:*' | head -200); do
    u=$(redis-cli -p "$port" memory usage "$key"); usage_sum=$((usage_sum + u)); usage_n=$((usage_n + 1))
  done
done
ttl_sample=$(redis-cli -p "${cluster_ports[0]}" --scan --pattern 'sl:{bench:*' | head -1 | xargs -r redis-cli -p "${cluster_ports[0]}" pttl)
bytes=$(awk -v s="$usage_sum" -v n="$usage_n" 'BEGIN {printf "%.1f", s / n}')
# used_memory difference when the subjects are deleted: the whole cost, expires dict included
before=0; after=0
for port in "${cluster_ports[@]}"; do
  b=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}'); before=$((before + b))
  redis-cli -p "$port" flushall > /dev/null
  a=$(redis-cli -p "$port" info memory | awk -F: '/^used_memory:/ {print $2+0}'); after=$((after + a))
done
total_bytes=$(awk -v b="$before" -v a="$after" -v n="$subjects" 'BEGIN {printf "%.1f", (b - a) / n}')

# --- raw script cost: EVALSHA token bucket vs INCR on one standalone Redis -------------------
rb_port=$(free_port)
redis-server --port "$rb_port" --bind 127.0.0.1 --save "" --appendonly no --logfile "$work/rb.log" &
pids+=($!)
wait_redis "$rb_port"
lua_dir="$root/lua/src/main/resources/dev/sluice/lua"
sha=$(redis-cli -p "$rb_port" script load "$(cat "$lua_dir/prelude.lua"; echo; cat "$lua_dir/token_bucket.lua")")
rb() { redis-benchmark -p "$rb_port" -c 32 -n 300000 -r 10000 -q "$@" | tr '\r' '\n' | grep -oE '[0-9.]+ requests per second' | tail -1 | cut -d' ' -f1; }
incr_rps=$(rb incr 'c:__rand_int__')
evalsha_rps=$(rb evalsha "$sha" 1 'sl:{bench:__rand_int__}:tb' 1000000 1000000 3600000 1 -1)

mkdir -p "$here/results"
out="$here/results/http-bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "Sluice HTTP benchmark  $(date -u +%FT%TZ)  $(nproc) cores  wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
  echo "service: $JAR  JVM: $("$JAVA" -version 2>&1 | head -1)  $JVM_OPTS  store: 3-master Redis Cluster"
  echo
  echo "CPU us per request: the Sluice JVM / the 3 Redis processes / wrk, kernel and the rest"
  printf '%-6s %-28s %12s %10s %10s %8s  %s\n' round endpoint 'requests/s' p50 p99 ratio 'CPU us/request'
  for r in $(seq 1 "$ROUNDS"); do
    p="$work/wrk-ping-$r.txt"; c="$work/wrk-check-$r.txt"
    ratio=$(awk -v a="$(rps "$c")" -v b="$(rps "$p")" 'BEGIN {printf "%.1f %%", 100 * a / b}')
    printf '%-6s %-28s %12s %10s %10s %8s  %s\n' "$r" 'POST /v1/ping (no-op)' "$(rps "$p")" "$(pct "$p" 50%)" "$(pct "$p" 99%)" "" "$(cpu_per_request "ping-$r")"
    printf '%-6s %-28s %12s %10s %10s %8s  %s\n' "$r" "POST /v1/check ($KEYS keys)" "$(rps "$c")" "$(pct "$c" 50%)" "$(pct "$c" 99%)" "$ratio" "$(cpu_per_request "check-$r")"
    echo "       /v1/check responses that were not 200: $(awk '/Non-2xx/ {print $5}' "$c")"
    for a in $ALGORITHMS; do
      [ "$a" = token-bucket ] && continue
      f="$work/wrk-alg-$a-$r.txt"
      ratio=$(awk -v a="$(rps "$f")" -v b="$(rps "$p")" 'BEGIN {printf "%.1f %%", 100 * a / b}')
      printf '%-6s %-28s %12s %10s %10s %8s  %s\n' "$r" "  $a" "$(rps "$f")" "$(pct "$f" 50%)" "$(pct "$f" 99%)" "$ratio" "$(cpu_per_request "alg-$a-$r")"
      echo "         responses that were not 200: $(awk '/Non-2xx/ {print $5}' "$f")"
    done
  done
  echo
  echo "service RSS after the run: $((rss_kb / 1024)) MiB"
  echo
  echo "token bucket state: MEMORY USAGE mean over $usage_n 'bench' keys: $bytes bytes; sample PTTL $ttl_sample ms"
  echo "  all algorithms: $subjects keys in Redis; used_memory freed by deleting them: $total_bytes bytes per key"
  echo "  (expires entries and hash-table slack included; per-algorithm MEMORY USAGE: docs/algorithms.md)"
  echo
  echo "redis-benchmark, one standalone Redis, 32 clients, 10,000 keys:"
  echo "  INCR                      $incr_rps requests/s"
  echo "  EVALSHA token_bucket.lua  $evalsha_rps requests/s"
} | tee "$out"
