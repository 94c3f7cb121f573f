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

    /** How often admitted usage is written to the ledger (and the ledger's totals re-read). Default 1s. */
    private Duration ledgerFlush = Duration.ofSeconds(1);

    /** The most (account, period) entries buffered while the database cannot be written. Default 1,000,000. */
    private int ledgerBuffer = 1_000_000;

    /**
     * How often a node folds the ledger and minute rows it wrote into one row per (account, period)
     * and per (key, minute), so that the tables grow with accounts and keys, not with seconds.
     * Default 1m.
     */
    private Duration ledgerCompact = Duration.ofMinutes(1);

    public Duration getLedgerCompact() {
        return ledgerCompact;
    }

    public void setLedgerCompact(Duration ledgerCompact) {
        this.ledgerCompact = ledgerCompact;
    }

    public Duration getLedgerFlush() {
        return ledgerFlush;
    }

    public void setLedgerFlush(Duration ledgerFlush) {
        this.ledgerFlush = ledgerFlush;
    }

    public int getLedgerBuffer() {
        return ledgerBuffer;
    }

    public void setLedgerBuffer(int ledgerBuffer) {
        this.ledgerBuffer = ledgerBuffer;
    }

    /** How long usage analytics and the violation log are kept. Default 30d. */
    private Duration retention = Duration.ofDays(30);

    public Duration getRetention() {
        return retention;
    }

    public void setRetention(Duration retention) {
        this.retention = retention;
    }

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
