package dev.sluice.store;

/**
 * Which shard of the store serves a subject's state: for a Redis Cluster, the master of its hash
 * slot (a failover moves the slot to another master, so to another shard). A store fails shard by
 * shard: breakers, health and their log lines are kept per shard, so that a dead shard degrades
 * the subjects on it only.
 */
@FunctionalInterface
public interface StoreShards {
    /** The shard serving {@code subject}: any object with equals/hashCode naming it (e.g. {@code host:port}). */
    Object shardOf(Subject subject);

    /** A store of one shard (standalone Redis, the in-process store). */
    StoreShards ONE = subject -> "all";
}
