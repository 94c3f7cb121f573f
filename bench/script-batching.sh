#!/usr/bin/env bash
# What would batching several subjects into one script save on the Redis side? (issue 15, part 2)
#
#   bench/script-batching.sh             # 200,000 checks per line, redis-benchmark -c 32, 10,000 keys
#
# One standalone Redis on 127.0.0.1. Measures the Redis process's CPU (utime + stime from /proc)
# per check for: Sluice's token bucket script (lua/, one subject per EVALSHA) unpipelined and
# pipelined 8 deep, the same arithmetic for one subject without the shared prelude, and 8
# subjects per EVALSHA (bench/batching/token_bucket_batch.lua); plus a plain SET for scale.
# INFO commandstats counts only the script's execution; this counts what the process spends.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/bin/lib.sh"
need_cmd redis-server redis-server
need_cmd redis-benchmark redis-tools
N=${N:-200000}
bench_workdir script-batching
port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --logfile "$work/redis.log" &
pids+=($!)
redis_pid=$!
wait_redis "$port"
lua="$root/lua/src/main/resources/dev/sluice/lua"
single=$(redis-cli -p "$port" script load "$(cat "$lua/prelude.lua"; echo; cat "$lua/token_bucket.lua")")
batch=$(redis-cli -p "$port" script load "$(cat "$here/batching/token_bucket_batch.lua")")
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$redis_pid/stat"; }
# measure <label> <checks per call> <redis-benchmark arguments...>
measure() {
  local label=$1 per=$2; shift 2
  local calls=$((N / per)) before after
  before=$(cpu)
  redis-benchmark -p "$port" -c 32 -n "$calls" -r 10000 -q "$@" > /dev/null
  after=$(cpu)
  awk -v l="$label" -v t=$((after - before)) -v hz="$ticks" -v n="$N" \
    'BEGIN {printf "%-44s %6.1f us of Redis CPU per check\n", l, t * 1e6 / hz / n}'
}
keys8=()
for k in a b c d e f g h; do keys8+=("$k:__rand_int__"); done
echo "Redis $(redis-server --version | grep -oE 'v=[0-9.]+'), $(nproc) cores, $N checks per line, 10,000 keys"
for round in 1 2; do
  measure "round $round: token bucket, 1 per EVALSHA" 1 evalsha "$single" 1 'k:__rand_int__' 1000000 1000000 1000000 1 -1
  measure "round $round: token bucket, 1 per EVALSHA, -P 8" 1 -P 8 evalsha "$single" 1 'k:__rand_int__' 1000000 1000000 1000000 1 -1
  measure "round $round: batch script with 1 subject, -P 8" 1 -P 8 evalsha "$batch" 1 'k:__rand_int__' 1000000 1000000 1000000 1
  measure "round $round: batch script, 8 subjects per EVALSHA" 8 evalsha "$batch" 8 "${keys8[@]}" 1000000 1000000 1000000 1
  measure "round $round: SET, -P 8" 1 -P 8 set 'k:__rand_int__' 1
done
