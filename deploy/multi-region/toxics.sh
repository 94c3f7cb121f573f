#!/bin/sh
# The link between the regions, as MultiRegionIT has it on loopback: 75 ms ± 10 ms each way
# (a round trip of 150 ± 20 ms), on each proxy, both directions. Run once by the toxiproxy-init
# service; partition a link with: curl -X POST http://localhost:8474/proxies/eu-us -d '{"enabled":false}'
set -eu
api=${TOXIPROXY_API:-http://toxiproxy:8474}
LATENCY_MS=75
JITTER_MS=10
until curl -fsS "$api/version" > /dev/null; do sleep 1; done
for proxy in eu-us us-eu; do
  for stream in upstream downstream; do
    # idempotent: a rerun (restart: on-failure, a second `up`) replaces the toxic instead of failing on it
    curl -sS -o /dev/null -X DELETE "$api/proxies/$proxy/toxics/latency-$stream" || true
    curl -fsS -X POST "$api/proxies/$proxy/toxics" -H 'Content-Type: application/json' \
      -d "{\"name\":\"latency-$stream\",\"type\":\"latency\",\"stream\":\"$stream\",\"attributes\":{\"latency\":$LATENCY_MS,\"jitter\":$JITTER_MS}}" > /dev/null
  done
done
echo "toxics on eu-us and us-eu: 75 ms +- 10 ms each way"
