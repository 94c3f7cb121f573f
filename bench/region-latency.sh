#!/usr/bin/env bash
# Multi-region mode (issue 18): the latency of a check on a global policy against a regional one on
# the same node. Two regions on 127.0.0.1: region a, the node measured, on a 3-master Redis Cluster;
# region b, its peer, one node on its own Redis. Both policies are token buckets of 10^6 per hour
# (every check admitted); wrk drives 10,000 keys of one policy at a time, the two alternating.
#
#   bench/region-latency.sh                        # ROUNDS=3 x DURATION=10s per policy, wrk -t1 -c16
#   ROUNDS=5 DURATION=20s CONNECTIONS=32 bench/region-latency.sh
#   RATE=1000 KEYS=100 bench/region-latency.sh      # open loop at 1,000 checks a second (OpenLoop.java)
#   PEER_NICE=19 RATE=1000 KEYS=100 bench/region-latency.sh
#
# PEER_NICE runs region b (its node and its Redis) at that nice level: in a deployment the peer
# region's work runs on its own machines, here it takes CPU from the node measured (with both on
# two cores, b applying a's shipments every second was most of a global policy's p99 above a
# regional one's). Two knobs for finding where the difference comes from: SYNC (the sync period,
# default 1s; 20s ships twenty times less often) and PEER_B_URL (where region a ships; an address
# nothing listens on leaves a's claims but no shipping).
#
# wrk measures at saturation, where a p99 is mostly queueing and follows throughput; RATE measures
# at a fixed offered rate below it, each latency from the moment its request was due.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-10s}
CONNECTIONS=${CONNECTIONS:-16}
KEYS=${KEYS:-10000}
need_cmd redis-server redis-server
need_cmd redis-cli redis-tools
need_cmd wrk wrk
use_java
build_jar
bench_workdir region-latency
start_bench_cluster
b_redis=$(free_port)
${PEER_NICE:+nice -n $PEER_NICE} redis-server --port "$b_redis" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --logfile "$work/redis-b.log" &
pids+=($!)
wait_redis "$b_redis"
port_a=$(free_port)
port_b=$(free_port)
common=(-Dlimiter.region.token=bench-region-token -Dlimiter.region.sync-period=${SYNC:-1s}
  -Dlimiter.policies.global.limit=1000000 -Dlimiter.policies.global.period=1h -Dlimiter.policies.global.regions=global
  -Dlimiter.policies.regional.limit=1000000 -Dlimiter.policies.regional.period=1h)
REDIS_URIS="$uris" "$JAVA" "${common[@]}" -Dlimiter.region.name=a -Dlimiter.region.peers.b="${PEER_B_URL:-http://127.0.0.1:$port_b}" \
  -Dmicronaut.server.port="$port_a" -jar "$JAR" > "$work/node-a.log" 2>&1 &
pids+=($!)
REDIS_URI="redis://127.0.0.1:$b_redis" ${PEER_NICE:+nice -n $PEER_NICE} "$JAVA" "${common[@]}" -Dlimiter.region.name=b \
  -Dlimiter.region.peers.a="http://127.0.0.1:$port_a" -Dmicronaut.server.port="$port_b" -jar "$JAR" \
  > "$work/node-b.log" 2>&1 &
pids+=($!)
for port in "$port_a" "$port_b"; do
  for _ in $(seq 1 600); do
    curl -s -o /dev/null -X POST "127.0.0.1:$port/v1/check" -d '{"policy":"regional","key":"first"}' && break
    sleep 0.1
  done
done
out() { tee -a "$work/report.txt"; }
how="wrk -t1 -c$CONNECTIONS"
[ -n "${RATE:-}" ] && how="open loop at $RATE/s"
echo "Sluice multi-region latency  $(date -u +%FT%TZ)  $(nproc) cores  $how, $KEYS keys, $ROUNDS x $DURATION per policy" | out
RATE=${RATE:-}
drive() { # drive POLICY DURATION -> "req/s p50 p99" (ms)
  if [ -n "$RATE" ]; then
    "$JAVA" "$here/OpenLoop.java" "http://127.0.0.1:$port_a/v1/check" "$1" "$KEYS" "$RATE" "${2%s}" |
      awk -v s="${2%s}" '{ if ($3 > 0) print "NON2XX " $3 > "/dev/stderr"; printf "%.0f %.3f %.3f\n", $2 / s, $4, $5 }'
    return
  fi
  (cd "$here" && KEYS=$KEYS POLICY=$1 wrk -t1 -c"$CONNECTIONS" -d"$2" --latency -s check.lua "http://127.0.0.1:$port_a/v1/check") |
    awk '/Requests\/sec/ {rps = $2} /^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2} /Non-2xx/ {print "NON2XX " $4 > "/dev/stderr"}
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
      END {printf "%s %.3f %.3f\n", rps, ms(p50), ms(p99)}'
}
for policy in regional global; do drive "$policy" "$WARMUP" > /dev/null; done
printf '%-6s %-9s %12s %9s %9s\n' round policy 'requests/s' 'p50 ms' 'p99 ms' | out
for round in $(seq 1 "$ROUNDS"); do
  for policy in regional global; do
    read -r rps p50 p99 < <(drive "$policy" "$DURATION")
    echo "$p99" >> "$work/p99-$policy.txt"
    echo "$rps" >> "$work/rps-$policy.txt"
    printf '%-6s %-9s %12s %9s %9s\n' "$round" "$policy" "$rps" "$p50" "$p99" | out
  done
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
r99=$(median < "$work/p99-regional.txt")
g99=$(median < "$work/p99-global.txt")
rr=$(median < "$work/rps-regional.txt")
gr=$(median < "$work/rps-global.txt")
awk -v g="$g99" -v r="$r99" -v gr="$gr" -v rr="$rr" 'BEGIN {printf "median p99: regional %.3f ms, global %.3f ms: global / regional %.2f; throughput %.2f\n", r, g, g / r, gr / rr}' | out
shipped=$(curl -s "127.0.0.1:$port_a/prometheus" | awk '/^sluice_region_shipped_total/ {print $2}')
echo "region a shipped ${shipped:-0} subjects' demands to b during the run" | out
mkdir -p "$here/results"
cp "$work/report.txt" "$here/results/region-latency-$(date -u +%Y%m%dT%H%M%SZ).txt"
