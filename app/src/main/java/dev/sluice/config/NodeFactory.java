package dev.sluice.config;

import dev.sluice.core.NodeClock;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

/** The node's clock and identity, one of each per process. */
@Factory
public class NodeFactory {
    @Singleton
    NodeClock clock() {
        return NodeClock.SYSTEM;
    }

    @Singleton
    NodeIdentity identity() {
        return NodeIdentity.random();
    }
}
