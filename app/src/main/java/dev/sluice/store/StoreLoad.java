package dev.sluice.store;

/**
 * What the store's call budget counts as this node's load besides its own store calls: a node
 * answering most checks from its over-limit cache makes few calls while its CPUs are as busy as
 * ever, and a ping's silence then is as likely the host's as the store's ({@code
 * limiter.redis.busy-rate}).
 */
@FunctionalInterface
public interface StoreLoad {
    /** A check answered on this node without a store call. */
    void answeredWithoutStore();

    /** Counts nothing: a store without a call budget. */
    StoreLoad NONE = () -> {};
}
