# Shared helpers of bin/run, bin/test and bench/*.sh. Sourced, not run.

# Sets JAVA_HOME and JAVA to a JDK of version 21 or newer: $JAVA_HOME if it is one, else the
# Temurin 25 JDK this project is built with, else any JDK >= 21 under /usr/lib/jvm.
use_java() {
  local candidates=("${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*)
  for home in "${candidates[@]}"; do
    [ -n "$home" ] && [ -x "$home/bin/javac" ] || continue
    local v
    v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    if [ "${v%%.*}" -ge 21 ] 2>/dev/null; then
      export JAVA_HOME="$home"
      JAVA="$home/bin/java"
      return 0
    fi
  done
  echo "Sluice needs a JDK 21 or newer (it is built and tested with Temurin 25)." >&2
  echo "Install one under /usr/lib/jvm or set JAVA_HOME to it." >&2
  exit 1
}

# need_cmd COMMAND DEBIAN_PACKAGE: installs the package with apt-get when the command is missing.
need_cmd() {
  command -v "$1" > /dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "installing $2 (for $1)..." >&2
    if [ -z "${SLUICE_APT_UPDATED:-}" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q > /dev/null
      export SLUICE_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" > /dev/null
  fi
  command -v "$1" > /dev/null 2>&1 || { echo "$1 is needed: install the $2 package" >&2; exit 1; }
}

# Builds app/target/sluice.jar unless it is newer than every source file.
build_jar() {
  JAR="$root/app/target/sluice.jar"
  if [ ! -f "$JAR" ] || [ -n "$(find "$root/app/src/main" "$root/lua/src/main" "$root/pom.xml" "$root/app/pom.xml" -newer "$JAR" -type f -print -quit)" ]; then
    echo "building $JAR ..." >&2
    (cd "$root" && ./mvnw -B -q -DskipTests -pl app -am package) >&2
  fi
}

# The small-footprint profile (docs/operations.md, "Fast start and a small footprint"): the serial
# GC (no GC threads, none of G1's native structures), a heap that starts at 8 MiB and stops at 64,
# small thread stacks, and the C heap's free pages given back to the OS every 5 s (what class loading
# and the JIT leave behind: ~27 MiB idle); bin/run adds MALLOC_ARENA_MAX=2. (C1 alone, -XX:TieredStopAtLevel=1, saved
# another ~25 MiB but halved the throughput: docs/benchmarks.md.)
SMALL_JVM_OPTS="-XX:+UseSerialGC -Xms8m -Xmx64m -Xss256k -XX:TrimNativeHeapInterval=5000"

# aot_cache [small]: the path of the JDK AOT cache bin/build-aot trains for the jar (for the small
# profile: trained with its options, since a cache is usable only with the heap and GC it was made for).
aot_cache() {
  if [ "${1:-}" = small ]; then echo "$root/app/target/sluice-small.aot"; else echo "$root/app/target/sluice.aot"; fi
}

# aot_training_opts PROFILE: the JVM options a cache for PROFILE is trained with, and must be run
# with: the profile's, then JAVA_OPTS' (without the AOT options themselves).
aot_training_opts() {
  local opts=""
  [ "$1" = small ] && opts=$SMALL_JVM_OPTS
  local o
  for o in ${JAVA_OPTS:-}; do
    case "$o" in -XX:AOTMode=* | -XX:AOTCache=* | -XX:AOTCacheOutput=* | -XX:AOTConfiguration=*) ;; *) opts="$opts $o" ;; esac
  done
  echo "${opts# }"
}

# aot_fresh CACHE PROFILE: whether CACHE exists, is newer than the jar, and was trained with the
# options this run would use (bin/build-aot writes them beside it, in CACHE.opts).
aot_fresh() {
  [ -s "$1" ] && [ "$1" -nt "$JAR" ] && [ -f "$1.opts" ] && [ "$(cat "$1.opts")" = "$(aot_training_opts "$2")" ]
}

# Builds the test kit (its PostgresMain is the embedded database of bin/run --with-db and the
# benchmarks) and sets TESTKIT_CP to its class path.
build_testkit() {
  local cp_file="$root/testkit/target/classpath.txt"
  if [ ! -f "$cp_file" ] || [ -n "$(find "$root/testkit/src/main" "$root/testkit/pom.xml" "$root/pom.xml" -newer "$cp_file" -type f -print -quit)" ]; then
    echo "building the embedded database launcher (testkit) ..." >&2
    (cd "$root" && ./mvnw -B -q -DskipTests -pl testkit package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt) >&2
  fi
  TESTKIT_CP="$root/testkit/target/classes:$(cat "$cp_file")"
}

# start_embedded_postgres DATA_DIR PORT LOG: a real PostgreSQL 16 (zonky binaries) in the background;
# sets PG_PID and PG_URL (database sluice, user/password postgres) once it accepts connections.
start_embedded_postgres() {
  build_testkit
  mkdir -p "$1"
  "$JAVA" -cp "$TESTKIT_CP" dev.sluice.testkit.PostgresMain "$1/postgres" "$2" > "$3" 2>&1 &
  PG_PID=$!
  for _ in $(seq 1 600); do
    grep -q '^ready ' "$3" 2> /dev/null && break
    kill -0 "$PG_PID" 2> /dev/null || { cat "$3" >&2; echo "the embedded PostgreSQL did not start" >&2; return 1; }
    sleep 0.1
  done
  grep -q '^ready ' "$3" || { cat "$3" >&2; echo "the embedded PostgreSQL did not start in 60 s" >&2; return 1; }
  PG_URL="jdbc:postgresql://127.0.0.1:$2/sluice"
}

# bench_workdir NAME: a fresh work directory in $work, and the pids array whose processes are all
# stopped (and the directory removed) when the script ends, also on failure or Ctrl-C.
bench_workdir() {
  work=$(mktemp -d "/tmp/sluice-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}

port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# A free loopback port.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 10000))
    port_free "$p" && { echo "$p"; return; }
  done
}

# A free port p with p + 10000 free too (Redis Cluster bus port).
free_port_pair() {
  local p
  while :; do
    p=$((20000 + RANDOM % 10000))
    port_free "$p" && port_free $((p + 10000)) && { echo "$p"; return; }
  done
}

wait_redis() {
  for _ in $(seq 1 100); do redis-cli -p "$1" ping 2> /dev/null | grep -q PONG && return 0; sleep 0.05; done
  echo "redis on port $1 did not start" >&2
  exit 1
}

# start_bench_cluster: a 3-master Redis Cluster without replicas, in $work, on free loopback ports
# (their bus ports free too). Appends the servers to pids; sets cluster_ports, redis_pids and uris
# (REDIS_URIS form). For the bench scripts.
start_bench_cluster() {
  cluster_ports=()
  redis_pids=()
  local i port
  for i in 1 2 3; do
    port=$(free_port_pair)
    mkdir -p "$work/redis-$port"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --cluster-enabled yes \
      --cluster-config-file nodes.conf --dir "$work/redis-$port" --logfile "$work/redis-$port/log" &
    pids+=($!)
    redis_pids+=($!)
    wait_redis "$port"
    cluster_ports+=("$port")
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster_ports[@]}") --cluster-replicas 0 --cluster-yes \
    > "$work/cluster-create.log"
  for port in "${cluster_ports[@]}"; do
    until redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok'; do sleep 0.1; done
  done
  uris=$(printf 'redis://127.0.0.1:%s,' "${cluster_ports[@]}")
  uris=${uris%,}
}
