package dev.sluice.config;

import io.micronaut.context.annotation.EachProperty;
import io.micronaut.context.annotation.Parameter;
import java.time.Duration;

/**
 * One policy as written under {@code limiter.policies.<name>.*}; checked and turned into a
 * {@link Policy} by {@link PolicyRegistry} at start-up.
 */
@EachProperty("limiter.policies")
public class PolicyProperties {
    private final String name;
    private String algorithm = "token-bucket";
    private Long limit;
    private Duration period;
    private Long burst;
    private String onStoreFailure = FailureMode.OPEN.value();

    public PolicyProperties(@Parameter String name) {
        this.name = name;
    }

    public String getName() {
        return name;
    }

    /** {@code token-bucket} (the default), {@code fixed-window} or {@code sliding-window-counter}. */
    public String getAlgorithm() {
        return algorithm;
    }

    public void setAlgorithm(String algorithm) {
        this.algorithm = algorithm;
    }

    /** Units admitted per period; required, at least 1. */
    public Long getLimit() {
        return limit;
    }

    public void setLimit(Long limit) {
        this.limit = limit;
    }

    /** The period, a Micronaut duration ({@code 500ms}, {@code 1s}, {@code 1m}, {@code 1h}, {@code 1d}); required. */
    public Duration getPeriod() {
        return period;
    }

    public void setPeriod(Duration period) {
        this.period = period;
    }

    /** Token bucket capacity; defaults to {@code limit}. Other algorithms admit {@code limit} per period. */
    public Long getBurst() {
        return burst;
    }

    public void setBurst(Long burst) {
        this.burst = burst;
    }

    /** {@code open} (default), {@code closed} or {@code local}. */
    public String getOnStoreFailure() {
        return onStoreFailure;
    }

    public void setOnStoreFailure(String onStoreFailure) {
        this.onStoreFailure = onStoreFailure;
    }
}
