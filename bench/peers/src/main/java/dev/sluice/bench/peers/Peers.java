package dev.sluice.bench.peers;

import io.micronaut.runtime.Micronaut;

/**
 * The benchmark's peers: what a Java team would run instead of Sluice, as small Micronaut services
 * on the same Redis Cluster, so that bench/peer-bench.sh measures them side by side with Sluice.
 * {@code PEER} chooses: {@code bucket4j} ({@link Bucket4jPeer}), {@code scg} ({@link ScgPeer}) or
 * {@code noop} (answers without deciding: the HTTP cost alone). Each takes {@code POST /v1/check}
 * with Sluice's body ({@code {"policy": ..., "key": ...}}) and answers 200 or 429.
 */
public final class Peers {
    private Peers() {}

    public static void main(String[] args) {
        Micronaut.run(Peers.class, args);
    }
}
