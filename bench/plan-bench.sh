#!/usr/bin/env bash
# Benchmark of checks by API key (issue 5): POST /v1/check with X-Api-Key — the key resolved in
# memory, then the plan's rate, daily quota and monthly quota in one plan.lua step on a 3-master
# Redis Cluster — against the no-op POST /v1/ping driven by the same wrk script and headers, in one
# run; and the statements PostgreSQL executed meanwhile (pg_stat_statements), to show that the
# database is not on the request path.
#
#   bench/plan-bench.sh                          # 3 rounds of 15 s per endpoint, wrk -t2 -c32, 1,000 keys
#   ROUNDS=5 DURATION=30s API_KEYS=5000 bench/plan-bench.sh
#   PROFILE=/tmp/check.jfr bench/plan-bench.sh  # + a Flight Recording of the last check round
#   COMPARE_OPTS="-Dlimiter.redis.share-event-loops=false" bench/plan-bench.sh
#       # + a second service node "B" started with these extra JVM options (same cluster, database
#       # and keys); each round then measures ping and check on A, then on B, so that the two
#       # settings meet the same moments of a noisy host (paired rounds; one node runs at a time)
#   COMPARE_JAR=/tmp/before.jar bench/plan-bench.sh   # node B runs another build (e.g. the commit before)
#
# Everything runs on 127.0.0.1 and stops when the script ends (also on failure or Ctrl-C).
# Results go to stdout and to bench/results/plan-bench-<timestamp>.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"

DURATION=${DURATION:-15s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
API_KEYS=${API_KEYS:-1000}
JVM_OPTS=${JVM_OPTS:-"-Xms256m -Xmx256m -XX:+UseParallelGC"}

need_cmd redis-server redis-server
need_cmd redis-cli redis-tools
need_cmd wrk wrk
need_cmd psql postgresql-client
need_cmd curl curl
use_java
build_jar

bench_workdir plan-bench

start_bench_cluster
pg_port=$(free_port)
start_embedded_postgres "$work" "$pg_port" "$work/postgres.log"
pids+=("$PG_PID")
export PGPASSWORD=postgres
sql() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d sluice -qAtX -c "$1"; }
sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" > /dev/null

http_port=$(free_port)
token="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf 'limiter:\n  policies:\n    bench: {limit: 1000, period: 1h}\n' > "$work/policies.yml"
start_node() { # port log extra-jvm-options: sets node_pid
  REDIS_URIS="$uris" MICRONAUT_SERVER_PORT="$1" MICRONAUT_CONFIG_FILES="$work/policies.yml" \
    DATASOURCES_DEFAULT_URL="$PG_URL" DATASOURCES_DEFAULT_USERNAME=postgres DATASOURCES_DEFAULT_PASSWORD=postgres \
    LIMITER_ADMIN_TOKENS="$token" "$JAVA" $JVM_OPTS $3 -jar "${4:-$JAR}" > "$2" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$1/v1/ping" > /dev/null && break; sleep 0.1; done
  curl -fs "http://127.0.0.1:$1/v1/ping" > /dev/null || { cat "$2"; echo "service did not start" >&2; exit 1; }
}
start_node "$http_port" "$work/sluice.log" ""
sluice_pid=$node_pid
base="http://127.0.0.1:$http_port"
variants=(A)
if [ -n "${COMPARE_OPTS:-}${COMPARE_JAR:-}" ]; then
  port_B=$(free_port)
  start_node "$port_B" "$work/sluice-b.log" "${COMPARE_OPTS:-}" "${COMPARE_JAR:-$JAR}"
  pid_B=$node_pid
  base_B="http://127.0.0.1:$port_B"
  variants=(A B)
fi
pid_A=$sluice_pid
base_A=$base

# a plan whose rate and quotas admit every check of the run: what is measured is the work of
# deciding and counting, not of denying
admin() { curl -fsS -X POST "$base$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$2"; }
admin /admin/plans '{"name":"bench","limit":1000000,"period":"1m","dailyQuota":1000000000,"monthlyQuota":10000000000}' > /dev/null
echo "issuing $API_KEYS API keys..." >&2
: > "$work/keys.txt"
for _ in $(seq 1 "$API_KEYS"); do
  { admin /admin/keys '{"plan":"bench"}' | sed -E 's/.*"key":"([^"]+)".*/\1/'; echo; } >> "$work/keys.txt"
done
last=$(tail -1 "$work/keys.txt")
for v in "${variants[@]}"; do
  b="base_$v"
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "${!b}/v1/check" -H "X-Api-Key: $last")" = 200 ] && break
    sleep 0.1
  done
  sample=$(curl -s -w ' %{http_code}' -X POST "${!b}/v1/check" -H "X-Api-Key: $last")
  case "$sample" in
    *' 200') ;;
    *) tail -20 "$work"/sluice*.log >&2; echo "a check by API key was not admitted by node $v: $sample" >&2; exit 1 ;;
  esac
done
export KEYS_FILE="$work/keys.txt"

# Redis's scripts run (EVALSHA/EVAL calls) and socket reads over all masters: scripts per read shows how many
# checks share one read (Lettuce's flushes consolidated, limiter.redis.consolidate-flushes)
redis_io() {
  local c=0 rd=0 port
  for port in "${cluster_ports[@]}"; do
    read -r a b < <({ redis-cli -p "$port" info stats; redis-cli -p "$port" info commandstats; } | tr -d '\r' \
      | awk -F'[:=,]' '/^cmdstat_(evalsha|eval):/ {c += $3} /^total_reads_processed:/ {r = $2} END {print c + 0, r + 0}')
    c=$((c + a)); rd=$((rd + b))
  done
  echo "$c $rd"
}
proc_ticks() { local t=0; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# PostgreSQL's processes (postmaster and backends): those whose command line names its data directory or port
pg_ticks() {
  local t=0 pid
  for pid in $(pgrep -d ' ' -x postgres || true); do
    [ -r "/proc/$pid/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2> /dev/null || echo 0)))
  done
  echo "$t"
}
# voluntary context switches of each thread of process $1, a line per thread: tid name count (a
# thread parked and woken for every request shows here and not in a Flight Recording: the common
# pool's delay scheduler behind CompletableFuture.orTimeout did, docs/benchmarks.md)
thread_switches() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s\n' "${t##*/}" "$(tr ' ' '_' < "$t/comm" 2> /dev/null)" \
      "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2> /dev/null)"
  done
}
run_wrk() { # label duration [node A|B]: also records statements executed by PostgreSQL meanwhile
  local label=$1 duration=$2 b="base_${3:-A}" n="pid_${3:-A}"
  sql "SELECT pg_stat_statements_reset()" > /dev/null
  thread_switches "${!n}" > "$work/switches0-$label"
  local j0 r0 p0 m0 io0; j0=$(proc_ticks "${!n}"); r0=$(proc_ticks "${redis_pids[@]}"); p0=$(pg_ticks); m0=$(machine_busy); io0=$(redis_io)
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -s "$here/apikey.lua" "${!b}" > "$work/wrk-$label.txt" 2>&1
  local j=$(( $(proc_ticks "${!n}") - j0 )) r=$(( $(proc_ticks "${redis_pids[@]}") - r0 )) p=$(( $(pg_ticks) - p0 )) m=$(( $(machine_busy) - m0 ))
  echo "$j $r $p $((m - j - r - p))" > "$work/cpu-$label"
  thread_switches "${!n}" > "$work/switches1-$label"
  echo "$io0 $(redis_io)" | awk '{c = $3 - $1; r = $4 - $2; printf "Redis: %d scripts run in %d socket reads (%.2f per read)", c, r, r ? c / r : 0}' > "$work/redisio-$label"
  # every statement of every client but this script's own (pg_stat_statements' reset and reads)
  sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'" > "$work/sql-$label"
  # reads of keys, plans or overrides: what a check would need if the database were on its path
  sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
       WHERE query ~* 'from\s+\"?(api_keys|plans|overrides)'" > "$work/lookups-$label"
  sql "SELECT calls || '  ' || regexp_replace(left(query, 90), '\s+', ' ', 'g') FROM pg_stat_statements
       WHERE query NOT ILIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 6" > "$work/sqltop-$label"
}
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
requests() { awk '/requests in/ {print $1}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {n = $5} END {print n + 0}' "$1"; }

# labels: ping-<round>, check-<round> for node A (as without COMPARE_OPTS); ping-B<round>, check-B<round> for B
suffix() { [ "$1" = A ] && echo "$2" || echo "$1$2"; }
echo "warming up ($WARMUP each)..." >&2
for v in "${variants[@]}"; do
  PATH_UNDER_TEST=/v1/ping run_wrk "warm-ping$(suffix "$v" '')" "$WARMUP" "$v"
  PATH_UNDER_TEST=/v1/check run_wrk "warm-check$(suffix "$v" '')" "$WARMUP" "$v"
done
echo "measuring ($ROUNDS rounds of $DURATION each)..." >&2
for r in $(seq 1 "$ROUNDS"); do
  for v in "${variants[@]}"; do
    n="pid_$v"
    PATH_UNDER_TEST=/v1/ping run_wrk "ping-$(suffix "$v" "$r")" "$DURATION" "$v"
    # PROFILE=<file.jfr>: a Flight Recording of the service (node A) during the last check round only
    [ -n "${PROFILE:-}" ] && [ "$r" = "$ROUNDS" ] && [ "$v" = A ] && "$JAVA_HOME/bin/jcmd" "${!n}" JFR.start name=check settings="${JFR_SETTINGS:-profile}" > /dev/null
    PATH_UNDER_TEST=/v1/check run_wrk "check-$(suffix "$v" "$r")" "$DURATION" "$v"
    [ -n "${PROFILE:-}" ] && [ "$r" = "$ROUNDS" ] && [ "$v" = A ] && "$JAVA_HOME/bin/jcmd" "${!n}" JFR.stop name=check filename="$PROFILE" > /dev/null
  done
done
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$sluice_pid/status")
sleep 2 # one more ledger flush
ledger_total=$(sql "SELECT coalesce(sum(units), 0) FROM usage_ledger WHERE period LIKE 'd:%'")
counted=0
for f in "$work"/wrk-check-*.txt "$work"/wrk-warm-check*.txt; do counted=$((counted + $(requests "$f") - $(non2xx "$f"))); done

mkdir -p "$here/results"
out="$here/results/plan-bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
hz=$(getconf CLK_TCK)
{
  echo "Sluice checks by API key  $(date -u +%FT%TZ)  $(nproc) cores  wrk -t$THREADS -c$CONNECTIONS -d$DURATION  $API_KEYS keys"
  echo "service: $JAR  JVM: $("$JAVA" -version 2>&1 | head -1)  $JVM_OPTS"
  echo "store: 3-master Redis Cluster; database: PostgreSQL 16 (embedded binaries), pg_stat_statements"
  echo "plan: rate 1,000,000/min, daily 1,000,000,000, monthly 10,000,000,000 (every check admitted and counted)"
  [ "${#variants[@]}" = 2 ] && echo "compared: node A as above, node B with ${COMPARE_JAR:-the same jar} ${COMPARE_OPTS:-} (rounds B<n>; one node measured at a time)"
  echo
  echo "SQL: statements PostgreSQL executed during the round (pg_stat_statements calls; a batched row counts"
  echo "once), of them reads of api_keys/plans/overrides (what a check would need if the database were on its path)"
  printf '%-6s %-26s %11s %9s %9s %7s %8s %9s %9s %9s %9s\n' round endpoint 'requests/s' p50 p99 ratio 'non-2xx' 'SQL' 'SQL/s' 'SQL/req' 'lookups'
  for r in $(for v in "${variants[@]}"; do for i in $(seq 1 "$ROUNDS"); do suffix "$v" "$i"; done; done); do
    p="$work/wrk-ping-$r.txt"; c="$work/wrk-check-$r.txt"
    ratio=$(awk -v a="$(rps "$c")" -v b="$(rps "$p")" 'BEGIN {printf "%.1f %%", 100 * a / b}')
    secs=${DURATION%s}
    for l in ping check; do
      f="$work/wrk-$l-$r.txt"; n=$(cat "$work/sql-$l-$r")
      per=$(awk -v s="$n" -v q="$(requests "$f")" 'BEGIN {printf "%.5f", s / q}')
      persec=$(awk -v s="$n" -v d="$secs" 'BEGIN {printf "%.0f", s / d}')
      name='POST /v1/ping (no-op)'; rt=''
      [ "$l" = check ] && { name='POST /v1/check (API key)'; rt=$ratio; }
      printf '%-6s %-26s %11s %9s %9s %7s %8s %9s %9s %9s %9s\n' "$r" "$name" "$(rps "$f")" "$(pct "$f" 50%)" "$(pct "$f" 99%)" "$rt" "$(non2xx "$f")" "$n" "$persec" "$per" "$(cat "$work/lookups-$l-$r")"
    done
    for l in ping check; do
      echo "       CPU us per request, $l: $(awk -v q="$(requests "$work/wrk-$l-$r.txt")" -v hz="$hz" '{printf "Sluice JVM %.0f, Redis %.0f, PostgreSQL %.0f, wrk+kernel+rest %.0f", $1 * 1e6 / hz / q, $2 * 1e6 / hz / q, $3 * 1e6 / hz / q, $4 * 1e6 / hz / q}' "$work/cpu-$l-$r")"
      echo "       $(awk -v q="$(requests "$work/wrk-$l-$r.txt")" -v l="$l" '
        NR == FNR {b[$1] = $3; next}
        {d = $3 - b[$1]; t += d; if (d > m) {m = d; n = $2}}
        END {printf "JVM voluntary context switches per request, %s: %.2f (the most: %s, %.0f %%)", l, t / q, n, t ? 100 * m / t : 0}' \
        "$work/switches0-$l-$r" "$work/switches1-$l-$r")"
      [ "$l" = check ] && echo "       $(cat "$work/redisio-$l-$r")"
    done
  done
  if [ "${#variants[@]}" = 2 ]; then
    echo
    for v in "${variants[@]}"; do
      for i in $(seq 1 "$ROUNDS"); do
        r=$(suffix "$v" "$i")
        awk -v a="$(rps "$work/wrk-check-$r.txt")" -v b="$(rps "$work/wrk-ping-$r.txt")" 'BEGIN {printf "%.1f\n", 100 * a / b}'
      done | sort -n | awk -v v="$v" '{x[NR] = $1; s += $1} END {printf "node %s: check / no-op %s %% (mean %.1f %%)\n", v, x[1] "-" x[NR], s / NR}'
    done
  fi
  echo
  echo "statements PostgreSQL ran during the last check round (all of them; calls, statement):"
  sed 's/^/  /' "$work/sqltop-check-$ROUNDS"
  echo
  echo "admitted checks by API key (warm-up + rounds): $counted; units of today in the durable usage ledger afterwards: $ledger_total"
  echo "service RSS after the run: $((rss_kb / 1024)) MiB"
} | tee "$out"
