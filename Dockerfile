# Sluice's container image: the service jar, a JDK AOT cache trained inside the image it runs in,
# a non-root user. For Cloud Run, Knative, Kubernetes, Fly.io (docs/deploy.md).
#
#   docker build -t sluice .                                # default profile
#   docker build -t sluice:small --build-arg PROFILE=small .  # small-footprint profile (64 MiB heap, Serial GC)
#   docker run --rm -p 8080:8080 sluice                     # embedded default: in-process store, demo policy
#   docker run --rm -p 8080:8080 -e REDIS_URIS=redis://redis-1:6379 sluice
#
# The port is MICRONAUT_SERVER_PORT when set, else $PORT (which Cloud Run and Knative set), else
# 8080. The profile is chosen here, at build time: the image runs with the options its cache was
# trained with (/app/sluice.aot.opts). SIGTERM drains the checks in flight (at most 10 s), then flushes the usage ledger.

ARG JDK_IMAGE=eclipse-temurin:25-jdk-noble
ARG JRE_IMAGE=eclipse-temurin:25-jre-noble

# 1. Build the jar.
FROM ${JDK_IMAGE} AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -pl app -am package -DskipTests -Dspotless.check.skip=true \
 && cp app/target/sluice.jar /sluice.jar

# 2. Train the AOT cache with the runtime image's own JVM (a cache is valid only for the JVM, the
#    jar path and the GC and heap options it was made with), on the in-process store and on a
#    throwaway one-node Redis Cluster.
FROM ${JRE_IMAGE} AS train
ARG PROFILE=default
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/*
COPY bin/lib.sh bin/train-aot /opt/train/bin/
COPY --from=build /sluice.jar /app/sluice.jar
RUN bash -c 'source /opt/train/bin/lib.sh \
 && opts=""; if [ "$0" = small ]; then opts=$SMALL_JVM_OPTS; elif [ "$0" != default ]; then echo "PROFILE is default or small, not $0" >&2; exit 2; fi \
 && /opt/train/bin/train-aot /app/sluice.jar /app/sluice.aot $opts' "$PROFILE"

# 3. The image: the runtime, the jar, the cache, and nothing that trained it.
FROM ${JRE_IMAGE}
ARG PROFILE=default
RUN groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --no-create-home --shell /usr/sbin/nologin sluice
COPY --from=train /app/ /app/
COPY deploy/docker/entrypoint.sh /app/entrypoint.sh
# read by the entrypoint (MALLOC_ARENA_MAX for the small profile); the JVM options come from the build
ENV SLUICE_PROFILE=${PROFILE}
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/entrypoint.sh"]
