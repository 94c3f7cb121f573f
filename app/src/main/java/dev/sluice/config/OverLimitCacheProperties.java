package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;

/**
 * The node-local cache of over-limit subjects, {@code limiter.over-limit-cache.*}: a subject denied
 * with nothing left is answered on this node until its retry time without a Redis call
 * (docs/architecture.md). Exact: it only ever denies what the store would deny.
 */
@ConfigurationProperties("limiter.over-limit-cache")
public class OverLimitCacheProperties {
    /** Whether denials are kept. Default true. */
    private boolean enabled = true;

    /** The most subjects kept at once (least recently used go first). Default 100000. */
    private long size = 100_000;

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public long getSize() {
        return size;
    }

    public void setSize(long size) {
        this.size = size;
    }
}
