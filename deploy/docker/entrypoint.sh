#!/bin/sh
# The container's start: java with the options the image's AOT cache was trained with (written
# beside it, in sluice.aot.opts), the cache, then JAVA_OPTS, then the jar. A JAVA_OPTS that changes
# the GC or heap makes the JVM start without the cache (it says so), never fail.
set -eu
home=${SLUICE_HOME:-/app}
java=${JAVA:-java}
if [ "${SLUICE_PROFILE:-default}" = small ]; then
  # glibc's per-thread malloc arenas are most of a small JVM's native memory beyond the heap
  export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
fi
aot=""
if [ -s "$home/sluice.aot" ]; then
  aot="-XX:AOTCache=$home/sluice.aot"
fi
# shellcheck disable=SC2046,SC2086 # the options are words
exec "$java" $(cat "$home/sluice.aot.opts" 2> /dev/null || true) $aot ${JAVA_OPTS:-} -jar "$home/sluice.jar" "$@"
