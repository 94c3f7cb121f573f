#!/usr/bin/env bash
# Cold start and memory (issue 17): how soon a fresh node answers its first decision, plain
# `java -jar` against the JDK AOT cache (bin/build-aot), on the in-process store and on a 3-master
# Redis Cluster; and the resident memory of the default and the small-footprint profile at the
# first decision, idle, and at saturation, with the throughput each keeps.
#
#   bench/cold-start.sh                       # STARTS=10 per line, IDLE=60 s, ROUNDS=3 x 10 s of wrk -c32
#   STARTS=3 IDLE=10 ROUNDS=1 bench/cold-start.sh   # a quick look
#   PARTS=2 bench/cold-start.sh               # only part 2 (PARTS="1 2" by default)
#
# Part 1: for each store, STARTS pairs of starts, plain and cached interleaved: time from spawning
# the JVM to the first answered POST /v1/check (polled every 2 ms, bench/first-decision.py) and RSS
# at that moment; median and max. Part 2: one node per profile (both with their own trained cache)
# on the Redis Cluster; RSS at the first decision, after IDLE seconds idle, then ROUNDS rounds of
# wrk (10,000 keys, every check admitted) alternating between the two nodes after a warm-up: req/s,
# RSS after each round, peak RSS (VmHWM). Everything runs on 127.0.0.1 and stops when the script ends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"
STARTS=${STARTS:-10}
IDLE=${IDLE:-60}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-10s}
PARTS=${PARTS:-1 2}
need_cmd redis-server redis-server
need_cmd redis-cli redis-tools
need_cmd wrk wrk
need_cmd python3 python3
use_java
build_jar
aot_fresh "$(aot_cache default)" default || "$root/bin/build-aot"
aot_fresh "$(aot_cache small)" small || "$root/bin/build-aot" --small
bench_workdir cold-start
start_bench_cluster
read -r -a small_opts <<< "$SMALL_JVM_OPTS"
bench_policy=(-Dlimiter.policies.bench.limit=1000000 -Dlimiter.policies.bench.period=1h)

out() { tee -a "$work/report.txt"; }
echo "Sluice cold start and memory  $(date -u +%FT%TZ)  $(nproc) cores  $("$JAVA" -version 2>&1 | head -1)" | out
echo "jar: $JAR ($(du -h "$JAR" | cut -f1)), caches: $(du -h "$(aot_cache default)" | cut -f1) default, $(du -h "$(aot_cache small)" | cut -f1) small" | out

# stats: "median max" of the numbers on stdin
stats() { sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f %.0f\n", m, v[NR]}'; }

if [[ " $PARTS " == *" 1 "* ]]; then
echo | out
echo "Part 1: time to first decision (ms) and RSS then (MiB); $STARTS starts each, interleaved" | out
printf '%-16s %-12s %10s %8s %12s %10s\n' store start 'median ms' 'max ms' 'median MiB' 'max MiB' | out
for store in in-process redis-cluster; do
  store_env=()
  [ "$store" = redis-cluster ] && store_env=(REDIS_URIS="$uris")
  : > "$work/plain.txt"
  : > "$work/cached.txt"
  for i in $(seq 1 "$STARTS"); do
    for mode in plain cached; do
      port=$(free_port)
      cache_opt=()
      [ "$mode" = cached ] && cache_opt=(-XX:AOTCache="$(aot_cache default)")
      env "${store_env[@]}" "$here/first-decision.py" "$port" "{\"policy\":\"demo\",\"key\":\"cold-$mode-$i-$RANDOM\"}" -- \
        "$JAVA" "${cache_opt[@]}" -Dmicronaut.server.port="$port" -jar "$JAR" >> "$work/$mode.txt"
    done
  done
  for mode in plain cached; do
    bad=$(awk '$3 != "200" && $3 != "429"' "$work/$mode.txt" | wc -l)
    [ "$bad" = 0 ] || { echo "$store $mode: $bad starts never answered" >&2; cat "$work/$mode.txt" >&2; exit 1; }
    read -r ms_med ms_max < <(cut -d' ' -f1 "$work/$mode.txt" | stats)
    read -r rss_med rss_max < <(cut -d' ' -f2 "$work/$mode.txt" | stats)
    printf '%-16s %-12s %10s %8s %12s %10s\n' "$store" "$mode" "$ms_med" "$ms_max" "$rss_med" "$rss_max" | out
    eval "${mode}_med=$ms_med"
  done
  awk -v c="$cached_med" -v p="$plain_med" -v s="$store" 'BEGIN {printf "%-16s cached / plain (medians): %.2f\n", s, c / p}' | out
done
fi
[[ " $PARTS " == *" 2 "* ]] || exit 0

echo | out
echo "Part 2: memory (MiB) and throughput per profile, Redis Cluster, both with their AOT cache" | out
declare -A node_pid node_port
for profile in default small; do
  port=$(free_port)
  opts=()
  [ "$profile" = small ] && opts=("${small_opts[@]}")
  if [ "$profile" = small ]; then
    MALLOC_ARENA_MAX=2 REDIS_URIS="$uris" "$JAVA" "${opts[@]}" -XX:AOTCache="$(aot_cache small)" -Dmicronaut.server.port="$port" \
      "${bench_policy[@]}" -jar "$JAR" > "$work/node-$profile.log" 2>&1 &
  else
    REDIS_URIS="$uris" "$JAVA" -XX:AOTCache="$(aot_cache default)" -Dmicronaut.server.port="$port" \
      "${bench_policy[@]}" -jar "$JAR" > "$work/node-$profile.log" 2>&1 &
  fi
  pids+=($!)
  node_pid[$profile]=$!
  node_port[$profile]=$port
done
rss() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
for profile in default small; do
  for _ in $(seq 1 600); do
    curl -s -o /dev/null -X POST "127.0.0.1:${node_port[$profile]}/v1/check" -d '{"policy":"bench","key":"first"}' && break
    sleep 0.1
  done
  printf '%-8s threads %s, RSS at first decision %s\n' "$profile" "$(ls "/proc/${node_pid[$profile]}/task" | wc -l)" \
    "$(rss "${node_pid[$profile]}")" | out
done
sleep "$IDLE"
for profile in default small; do
  printf '%-8s RSS after %s s idle: %s\n' "$profile" "$IDLE" "$(rss "${node_pid[$profile]}")" | out
done
drive() { # drive PROFILE DURATION -> req/s
  (cd "$here" && KEYS=10000 POLICY=bench wrk -t1 -c32 -d"$2" -s check.lua "http://127.0.0.1:${node_port[$1]}/v1/check") \
    | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "NON2XX " $4 > "/dev/stderr"}'
}
for profile in default small; do drive "$profile" "$WARMUP" > /dev/null; done
printf '%-6s %-8s %12s %10s\n' round profile 'requests/s' 'RSS MiB' | out
for round in $(seq 1 "$ROUNDS"); do
  for profile in default small; do
    rps=$(drive "$profile" "$DURATION")
    echo "$rps" >> "$work/rps-$profile.txt"
    printf '%-6s %-8s %12s %10s\n' "$round" "$profile" "$rps" "$(rss "${node_pid[$profile]}")" | out
  done
done
for profile in default small; do
  read -r med _ < <(stats < "$work/rps-$profile.txt")
  eval "rps_$profile=$med"
  printf '%-8s median %s req/s, peak RSS (VmHWM) %s MiB\n' "$profile" "$med" "$(hwm "${node_pid[$profile]}")" | out
done
awk -v s="$rps_small" -v d="$rps_default" 'BEGIN {printf "small / default throughput (medians): %.2f\n", s / d}' | out
mkdir -p "$here/results"
cp "$work/report.txt" "$here/results/cold-start-$(date -u +%Y%m%dT%H%M%SZ).txt"
