package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;

/** Plans and API keys, {@code limiter.plans.*}. */
@ConfigurationProperties("limiter.plans")
public class PlansProperties {
    /**
     * How often each node asks the database whether plans, keys or overrides changed (one tiny
     * query), reloading its in-memory directory when they did: the bound on how stale a node's view
     * of an admin change can be. Default 1s.
     */
    private Duration poll = Duration.ofSeconds(1);

    /** What checks by API key do while Redis fails: open, closed or local (default). */
    private FailureMode onStoreFailure = FailureMode.LOCAL;

    public FailureMode getOnStoreFailure() {
        return onStoreFailure;
    }

    public void setOnStoreFailure(FailureMode onStoreFailure) {
        this.onStoreFailure = onStoreFailure;
    }

    public Duration getPoll() {
        return poll;
    }

    public void setPoll(Duration poll) {
        this.poll = poll;
    }
}
