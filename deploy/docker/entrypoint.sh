#!/bin/sh
# The container's start: java with the image's profile options, which are the options its AOT cache
# was trained with (written beside it, in sluice.aot.opts, at build time), the cache, then JAVA_OPTS,
# then the jar. JDK 25 uses the cache with another GC or heap size too; but a young generation too
# small for the cache's archived objects (e.g. -Xmn16m) stops the JVM ("Unable to use AOT cache"):
# change the heap in JAVA_OPTS only after trying it (docs/deploy.md).
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
