package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

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

    /**
     * The longest a denial is kept, counted from its store call, however late its retry time: the
     * bound on a wrong denial when an invalidation (reset, refund) is lost on its way to this node.
     * A subject kept over its limit costs one store call per this time per node. Default 1s.
     */
    private Duration maxKeep = Duration.ofSeconds(1);

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

    public Duration getMaxKeep() {
        return maxKeep;
    }

    public void setMaxKeep(Duration maxKeep) {
        if (maxKeep.isNegative() || maxKeep.isZero()) {
            throw new IllegalArgumentException("limiter.over-limit-cache.max-keep must be positive, was " + maxKeep);
        }
        this.maxKeep = maxKeep;
    }
}
