#!/usr/bin/env bash
# Sluice side by side with what a Java team would build instead (issue 15): a Micronaut service
# limiting with Bucket4j's Lettuce proxy manager, one running Spring Cloud Gateway's
# request_rate_limiter.lua by EVALSHA (both in bench/peers), a no-op Micronaut endpoint, and Sluice's
# token bucket — all on one 3-master Redis Cluster, all with the same JVM options, driven by the
# same wrk script, interleaved round by round so that every party meets the same moments of a
# noisy host.
#
#   bench/peer-bench.sh                                   # 3 rounds of 15 s, wrk -t1 -c32, 10,000 keys, all admitted
#   CONNECTIONS=256 bench/peer-bench.sh
#   KEYS=10 LIMIT=100 bench/peer-bench.sh                 # 10 hot keys: after the first 1,000 checks all are denied
#   ALGORITHMS="gcra fixed-window sliding-window-counter sliding-window-log concurrency" bench/peer-bench.sh
#   COMPARE_OPTS="-Dsome.setting=x" bench/peer-bench.sh  # + a second Sluice ("sluice-b") with these options,
#   COMPARE_JAR=/tmp/before.jar bench/peer-bench.sh       #   or on another build, interleaved with the rest
#
# Prints, per round and service: requests/s, p50, p99, responses that were not 200 (429s when
# keys are hot), and CPU µs per request of the service's JVM / the 3 Redis processes / the rest
# (wrk, kernel); then the medians and Sluice's ratios to the peers. Everything runs on 127.0.0.1 and
# stops when the script ends (also on failure or Ctrl-C). Results also go to
# bench/results/peer-bench-<timestamp>.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"

DURATION=${DURATION:-15s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-15s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
KEYS=${KEYS:-10000}
LIMIT=${LIMIT:-1000000}    # per key and PERIOD, for every party: the default admits every check
PERIOD=${PERIOD:-1h}
ALGORITHMS=${ALGORITHMS:-}
JVM_OPTS=${JVM_OPTS:-"-Xms512m -Xmx512m"}

need_cmd redis-server redis-server
need_cmd redis-cli redis-tools
need_cmd wrk wrk
use_java
build_jar
PEERS_JAR="$root/bench/peers/target/peers.jar"
if [ ! -f "$PEERS_JAR" ] || [ -n "$(find "$root/bench/peers/src" "$root/bench/peers/pom.xml" -newer "$PEERS_JAR" -type f -print -quit)" ]; then
  echo "building $PEERS_JAR ..." >&2
  (cd "$root" && ./mvnw -B -q -DskipTests -pl bench/peers -am package) >&2
fi

bench_workdir peers
start_bench_cluster

{
  echo "limiter:"
  echo "  policies:"
  echo "    bench: {limit: $LIMIT, period: $PERIOD}"
  for a in $ALGORITHMS; do
    if [ "$a" = concurrency ]; then
      echo "    bench-$a: {algorithm: $a, limit: $LIMIT, lease-ttl: $PERIOD}"
    elif [ "$a" = sliding-window-log ] && [ "$LIMIT" -gt 100000 ]; then
      # one entry per unit: its limit is at most 100,000 (still far above what a run sends a key)
      echo "    bench-$a: {algorithm: $a, limit: 100000, period: $PERIOD}"
    else
      echo "    bench-$a: {algorithm: $a, limit: $LIMIT, period: $PERIOD}"
    fi
  done
} > "$work/policies.yml"

declare -A pid_of port_of
start_service() { # name, then the command's environment and arguments
  local name=$1; shift
  local port; port=$(free_port)
  env MICRONAUT_SERVER_PORT="$port" REDIS_URIS="$uris" "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
  pid_of[$name]=$!
  port_of[$name]=$port
}
start_service noop PEER=noop "$JAVA" $JVM_OPTS -jar "$PEERS_JAR"
start_service scg PEER=scg PEER_LIMIT="$LIMIT" PEER_PERIOD="$PERIOD" "$JAVA" $JVM_OPTS -jar "$PEERS_JAR"
start_service bucket4j PEER=bucket4j PEER_LIMIT="$LIMIT" PEER_PERIOD="$PERIOD" "$JAVA" $JVM_OPTS -jar "$PEERS_JAR"
start_service sluice MICRONAUT_CONFIG_FILES="$work/policies.yml" "$JAVA" $JVM_OPTS -jar "$JAR"
services=(noop scg bucket4j sluice)
if [ -n "${COMPARE_OPTS:-}${COMPARE_JAR:-}" ]; then
  # shellcheck disable=SC2086 # the options are words
  start_service sluice-b MICRONAUT_CONFIG_FILES="$work/policies.yml" "$JAVA" $JVM_OPTS ${COMPARE_OPTS:-} -jar "${COMPARE_JAR:-$JAR}"
  services+=(sluice-b)
fi
for name in "${services[@]}"; do
  base="http://127.0.0.1:${port_of[$name]}"
  for _ in $(seq 1 300); do curl -fs "$base/v1/ping" > /dev/null && break; sleep 0.1; done
  curl -fs "$base/v1/ping" > /dev/null || { cat "$work/$name.log"; echo "$name did not start" >&2; exit 1; }
done

proc_ticks() { local t=0; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
redis_io() { # commands, reads and writes the 3 Redis processes have served so far
  local port; for port in "${cluster_ports[@]}"; do redis-cli -p "$port" info stats; done | tr -d '\r' |
    awk -F: '$1 == "total_commands_processed" {c += $2} $1 == "total_reads_processed" {r += $2}
             $1 == "total_writes_processed" {w += $2} END {print c, r, w}'
}
run_wrk() { # label, service, duration, policy
  local label=$1 name=$2 duration=$3 policy=$4
  local pid=${pid_of[$name]} j0 r0 m0
  j0=$(proc_ticks "$pid"); r0=$(proc_ticks "${redis_pids[@]}"); m0=$(machine_busy); io0=$(redis_io)
  POLICY="$policy" PATH_UNDER_TEST=/v1/check KEYS="$KEYS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency \
    -s "$here/check.lua" "http://127.0.0.1:${port_of[$name]}" > "$work/wrk-$label.txt" 2>&1
  local j=$(( $(proc_ticks "$pid") - j0 )) r=$(( $(proc_ticks "${redis_pids[@]}") - r0 )) m=$(( $(machine_busy) - m0 ))
  echo "$j $r $((m - j - r))" > "$work/cpu-$label"
  echo "$io0 $(redis_io)" > "$work/io-$label"
}
# Redis socket reads and reply writes per request: 1 / 1 when every command travels alone, below 1 when
# a client puts several commands in one write (Redis counts the commands a script runs as commands,
# so reads are set against requests, not commands)
batching() {
  local n; n=$(awk '/requests in/ {print $1}' "$work/wrk-$1.txt")
  awk -v n="$n" '{if ($5 - $2 < 100) print "-"; else printf "%.2f / %.2f", ($5 - $2) / n, ($6 - $3) / n}' "$work/io-$1"
}
rps() { awk '/^Requests\/sec/ {print $2}' "$work/wrk-$1.txt"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$work/wrk-$1.txt"; }
non200() { awk '/Non-2xx/ {n = $5} END {print n + 0}' "$work/wrk-$1.txt"; }
errors() { awk '/Socket errors/ {print; found = 1} END {if (!found) print "none"}' "$work/wrk-$1.txt"; }
cpu() {
  local hz n; hz=$(getconf CLK_TCK); n=$(awk '/requests in/ {print $1}' "$work/wrk-$1.txt")
  awk -v hz="$hz" -v n="$n" '{printf "%.1f / %.1f / %.1f", $1 * 1e6 / hz / n, $2 * 1e6 / hz / n, $3 * 1e6 / hz / n}' "$work/cpu-$1"
}

parties=("${services[@]}")
policy_of() { case $1 in sluice-b) echo bench ;; sluice-*) echo "bench-${1#sluice-}" ;; *) echo bench ;; esac; }
service_of() { case $1 in sluice-b) echo sluice-b ;; sluice-*) echo sluice ;; *) echo "$1" ;; esac; }
for a in $ALGORITHMS; do parties+=("sluice-$a"); done

echo "warming up ($WARMUP each)..." >&2
for p in "${parties[@]}"; do run_wrk "warm-$p" "$(service_of "$p")" "$WARMUP" "$(policy_of "$p")"; done
echo "measuring ($ROUNDS interleaved rounds of $DURATION each)..." >&2
for r in $(seq 1 "$ROUNDS"); do
  for p in "${parties[@]}"; do run_wrk "$p-$r" "$(service_of "$p")" "$DURATION" "$(policy_of "$p")"; done
done

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
mkdir -p "$here/results"
out="$here/results/peer-bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "Sluice and its peers  $(date -u +%FT%TZ)  $(nproc) cores  wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS interleaved rounds"
  echo "JVM: $("$JAVA" -version 2>&1 | head -1)  $JVM_OPTS  store: 3-master Redis Cluster  keys: $KEYS  limit: $LIMIT per $PERIOD"
  echo "noop: Micronaut, no decision; scg: Spring Cloud Gateway's request_rate_limiter.lua by EVALSHA; bucket4j: Bucket4j 8.19 Lettuce CAS proxy manager; sluice: token bucket"
  echo
  echo "CPU us per request: the service's JVM / the 3 Redis processes / wrk, kernel and the rest"
  echo "Redis reads / writes per request: how many socket reads of commands and writes of replies a check cost Redis"
  printf '%-6s %-28s %12s %10s %10s %10s  %-20s %s\n' round service 'requests/s' p50 p99 'not 200' 'CPU us/request' \
    'Redis reads, writes/request'
  for r in $(seq 1 "$ROUNDS"); do
    for p in "${parties[@]}"; do
      printf '%-6s %-28s %12s %10s %10s %10s  %-20s %s\n' "$r" "$p" "$(rps "$p-$r")" "$(pct "$p-$r" 50%)" "$(pct "$p-$r" 99%)" \
        "$(non200 "$p-$r")" "$(cpu "$p-$r")" "$(batching "$p-$r")"
      e=$(errors "$p-$r"); [ "$e" = none ] || echo "       $e"
    done
  done
  echo
  echo "medians of the $ROUNDS rounds:"
  declare -A med
  for p in "${parties[@]}"; do
    med[$p]=$(for r in $(seq 1 "$ROUNDS"); do rps "$p-$r"; done | median)
    jvm=$(for r in $(seq 1 "$ROUNDS"); do cpu "$p-$r" | awk '{print $1}'; done | median)
    red=$(for r in $(seq 1 "$ROUNDS"); do cpu "$p-$r" | awk '{print $3}'; done | median)
    printf '  %-26s %12s requests/s   JVM %6s us   Redis %6s us per request\n' "$p" "${med[$p]}" "$jvm" "$red"
  done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
  echo
  echo "Sluice token bucket / SCG script: $(ratio "${med[sluice]}" "${med[scg]}")   / Bucket4j: $(ratio "${med[sluice]}" "${med[bucket4j]}")   / no-op: $(ratio "${med[sluice]}" "${med[noop]}")"
  if [ -n "${med[sluice-b]:-}" ]; then
    echo "sluice-b (${COMPARE_JAR:-the same jar} ${COMPARE_OPTS:-}) / sluice: $(ratio "${med[sluice-b]}" "${med[sluice]}")   / SCG script: $(ratio "${med[sluice-b]}" "${med[scg]}")   / Bucket4j: $(ratio "${med[sluice-b]}" "${med[bucket4j]}")"
  fi
  echo "Sluice RSS after the run: $(( $(awk '/VmRSS/ {print $2}' "/proc/${pid_of[sluice]}/status") / 1024 )) MiB"
} | tee "$out"
