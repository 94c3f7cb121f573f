#!/usr/bin/env bash
# The Lambda handler's cold start, as the runtime makes it: a JVM, HttpApiHandler's no-argument
# constructor (the application context on the embedded default), then one API Gateway HTTP API event.
# Prints, for each of STARTS runs, the time from before `java` ran to the handler built and to its
# first decision. No Lambda runtime here: the JVM is this machine's JDK, not the java21 runtime.
#
#   bench/lambda-cold-start.sh            # STARTS=5
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bin/lib.sh"
use_java
jar="$root/function/target/sluice-lambda.jar"
if [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -B -q -pl function -am package -DskipTests)
fi
work=$(mktemp -d /tmp/sluice-lambda-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$JAVA_HOME/bin/javac" -cp "$jar" -d "$work" "$root/bench/lambda/Measure.java"
for _ in $(seq 1 "${STARTS:-5}"); do
  env -u REDIS_URIS -u REDIS_URI -u DATASOURCES_DEFAULT_URL "$JAVA" -cp "$jar:$work" Measure "$(date +%s%3N)" 2> /dev/null | grep status
done
