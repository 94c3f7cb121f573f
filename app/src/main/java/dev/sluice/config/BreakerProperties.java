package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/**
 * The store's circuit breaker, {@code limiter.breaker.*}: tuned for a dependency that answers in
 * about a millisecond, not for the library's defaults (a 100-call window, 60 s open). While open,
 * checks do not wait for Redis at all: they go straight to their policy's {@code on-store-failure}
 * mode.
 */
@ConfigurationProperties("limiter.breaker")
public class BreakerProperties {
    /** Whether the breaker guards the store. Default true. */
    private boolean enabled = true;

    /** The time window the failure and slow-call rates are computed over. Default 2s (whole seconds). */
    private Duration window = Duration.ofSeconds(2);

    /** Calls needed in the window before a rate is judged. Default 10. */
    private int minimumCalls = 10;

    /** Failure rate (percent) that opens the breaker. Default 50. */
    private float failureRateThreshold = 50;

    /**
     * A call slower than this counts as slow. Default 1s, the wait cap: a call that is merely late
     * is no sign of a sick store (it may be queued behind a burst); the store's own slowness is
     * judged by pinging it (CallBudget), and a call it fails counts as a failure.
     */
    private Duration slowCallDuration = Duration.ofSeconds(1);

    /** Slow-call rate (percent) that opens the breaker. Default 100. */
    private float slowCallRateThreshold = 100;

    /** How long the breaker stays open before letting probes through. Default 500ms. */
    private Duration openDuration = Duration.ofMillis(500);

    /** Probes let through while half-open; all must succeed to close. Default 5. */
    private int halfOpenCalls = 5;

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public Duration getWindow() {
        return window;
    }

    public void setWindow(Duration window) {
        this.window = window;
    }

    public int getMinimumCalls() {
        return minimumCalls;
    }

    public void setMinimumCalls(int minimumCalls) {
        this.minimumCalls = minimumCalls;
    }

    public float getFailureRateThreshold() {
        return failureRateThreshold;
    }

    public void setFailureRateThreshold(float failureRateThreshold) {
        this.failureRateThreshold = failureRateThreshold;
    }

    public Duration getSlowCallDuration() {
        return slowCallDuration;
    }

    public void setSlowCallDuration(Duration slowCallDuration) {
        this.slowCallDuration = slowCallDuration;
    }

    public float getSlowCallRateThreshold() {
        return slowCallRateThreshold;
    }

    public void setSlowCallRateThreshold(float slowCallRateThreshold) {
        this.slowCallRateThreshold = slowCallRateThreshold;
    }

    public Duration getOpenDuration() {
        return openDuration;
    }

    public void setOpenDuration(Duration openDuration) {
        this.openDuration = openDuration;
    }

    public int getHalfOpenCalls() {
        return halfOpenCalls;
    }

    public void setHalfOpenCalls(int halfOpenCalls) {
        this.halfOpenCalls = halfOpenCalls;
    }
}
