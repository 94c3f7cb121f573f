package dev.sluice.config;

/** What a policy's checks do when the shared store cannot be reached in time. */
public enum FailureMode {
    /** Admit; the response says {@code degraded: true}. */
    OPEN,
    /** Deny with 503 (temporary reduced capacity); {@code degraded: true}. */
    CLOSED,
    /** Decide with this node's in-process buckets; {@code degraded: true}. */
    LOCAL;

    /** The configuration spelling: {@code open}, {@code closed}, {@code local}. */
    public String value() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
