package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/**
 * Service-wide settings under {@code limiter.*} (policies are under {@code limiter.policies.*},
 * see {@link PolicyProperties}).
 */
@ConfigurationProperties("limiter")
public class LimiterProperties {
    /** Prefix of every Redis key Sluice writes. Default {@code sl:}. */
    private String keyPrefix = "sl:";

    public String getKeyPrefix() {
        return keyPrefix;
    }

    public void setKeyPrefix(String keyPrefix) {
        this.keyPrefix = keyPrefix;
    }

    /** Client tuning under {@code limiter.redis.*}: a bean of its own; inject it where needed. */
    @ConfigurationProperties("redis")
    public static class Redis {
        /** How long one Redis command may take before it fails. Default 250ms. */
        private Duration commandTimeout = Duration.ofMillis(250);

        /** How often the cluster client re-reads the topology even when nothing failed. Default 30s. */
        private Duration topologyRefreshPeriod = Duration.ofSeconds(30);

        /** The least time between two refreshes triggered by MOVED, ASK or reconnects. Default 1s. */
        private Duration adaptiveRefreshTimeout = Duration.ofSeconds(1);

        public Duration getCommandTimeout() {
            return commandTimeout;
        }

        public void setCommandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
        }

        public Duration getTopologyRefreshPeriod() {
            return topologyRefreshPeriod;
        }

        public void setTopologyRefreshPeriod(Duration topologyRefreshPeriod) {
            this.topologyRefreshPeriod = topologyRefreshPeriod;
        }

        public Duration getAdaptiveRefreshTimeout() {
            return adaptiveRefreshTimeout;
        }

        public void setAdaptiveRefreshTimeout(Duration adaptiveRefreshTimeout) {
            this.adaptiveRefreshTimeout = adaptiveRefreshTimeout;
        }
    }
}
