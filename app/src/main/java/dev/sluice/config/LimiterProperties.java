package dev.sluice.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Service-wide settings under {@code limiter.*} (policies are under {@code limiter.policies.*},
 * see {@link PolicyProperties}).
 */
@ConfigurationProperties("limiter")
public class LimiterProperties {
    /** Prefix of every Redis key Sluice writes. Default {@code sl:}. */
    private String keyPrefix = "sl:";

    /** Proxies whose forwarded client addresses are believed (scope {@code ip}): addresses or CIDR ranges. */
    private List<String> trustedProxies = new ArrayList<>();

    /** A YAML file of policies, read at start-up and again whenever it changes; none by default. */
    private String policyFile;

    /** How often the policy file is looked at for a change. Default 1s. */
    private Duration policyFilePoll = Duration.ofSeconds(1);

    public List<String> getTrustedProxies() {
        return trustedProxies;
    }

    public void setTrustedProxies(List<String> trustedProxies) {
        this.trustedProxies = trustedProxies;
    }

    public String getPolicyFile() {
        return policyFile;
    }

    public void setPolicyFile(String policyFile) {
        this.policyFile = policyFile;
    }

    public Duration getPolicyFilePoll() {
        return policyFilePoll;
    }

    public void setPolicyFilePoll(Duration policyFilePoll) {
        this.policyFilePoll = policyFilePoll;
    }

    public String getKeyPrefix() {
        return keyPrefix;
    }

    public void setKeyPrefix(String keyPrefix) {
        this.keyPrefix = keyPrefix;
    }

    /** Client tuning under {@code limiter.redis.*}: a bean of its own; inject it where needed. */
    @ConfigurationProperties("redis")
    public static class Redis {
        /**
         * The time budget of one Redis command: past it the call is late, and the node that serves
         * it is pinged on a connection of its own. A late call fails (and the check is decided by its
         * policy's {@code on-store-failure} mode) only when that ping does not answer within {@link
         * #probeTimeout}, or when it reaches {@link #waitCap}: a busy node or a busy Redis is waited
         * for, a Redis that is down, blackholed or slow for everyone is not. Default 10ms (see
         * docs/resilience.md and ADR 0005).
         */
        private Duration commandTimeout = Duration.ofMillis(10);

        /**
         * How soon a ping of a late call's node must answer for the node to count as answering
         * promptly (the call is then queued, and waited for). Default 20ms.
         */
        private Duration probeTimeout = Duration.ofMillis(20);

        /**
         * The longest a ping is given while the store is busy: this service sends it at least
         * {@link #busyRate} calls a second while this host's CPUs are contended (Linux's pressure
         * stall information: some task waited for a CPU a quarter of the ping's wait) or while at
         * least {@link #busyQueue} of its calls to the pinged node await their answers. Then a ping
         * whose probe timeout is up is given another, up to this in all: a Redis driven hard on a
         * host short of CPU (or this service's reading of its answers) waits for a CPU, and a Redis
         * working through a queue of commands answers a ping only after them; both are seen silent
         * for more than 20 ms with no fault at all. Default 250ms.
         */
        private Duration busyProbeTimeout = Duration.ofMillis(250);

        /**
         * How many calls a second to the store (from this service, in the current second or the one
         * before) make it busy ({@link #busyProbeTimeout}). Default 200.
         */
        private int busyRate = 200;

        /**
         * How many of this service's calls to one Redis node, awaiting their answers, make that
         * node busy whatever the host's CPU pressure, at five times {@link #busyRate} ({@link
         * #busyProbeTimeout}). Default 16.
         */
        private int busyQueue = 16;

        /**
         * Whether Lettuce's connections run on the HTTP server's event loops instead of threads
         * of their own: a check whose HTTP connection and Redis connection share a loop needs no
         * hand-over between threads (docs/benchmarks.md). Default false: measured in the chaos
         * suite, a store fault then slows the HTTP answers too (bandwidth collapse: p50 2 → 4–9
         * ms, p99 16–21 → 34–45 ms against the bound of 50).
         */
        private boolean shareEventLoops = false;

        public boolean isShareEventLoops() {
            return shareEventLoops;
        }

        public void setShareEventLoops(boolean shareEventLoops) {
            this.shareEventLoops = shareEventLoops;
        }

        public int getBusyQueue() {
            return busyQueue;
        }

        public void setBusyQueue(int busyQueue) {
            this.busyQueue = busyQueue;
        }

        public int getBusyRate() {
            return busyRate;
        }

        public void setBusyRate(int busyRate) {
            this.busyRate = busyRate;
        }

        public Duration getBusyProbeTimeout() {
            return busyProbeTimeout;
        }

        public void setBusyProbeTimeout(Duration busyProbeTimeout) {
            this.busyProbeTimeout = busyProbeTimeout;
        }

        /** The longest a late call is waited for while its node answers pings. Default 1s. */
        private Duration waitCap = Duration.ofSeconds(1);

        public Duration getProbeTimeout() {
            return probeTimeout;
        }

        public void setProbeTimeout(Duration probeTimeout) {
            this.probeTimeout = probeTimeout;
        }

        public Duration getWaitCap() {
            return waitCap;
        }

        public void setWaitCap(Duration waitCap) {
            this.waitCap = waitCap;
        }

        /**
         * Lettuce's own command timeout, a backstop behind the budget: the wait cap plus 500 ms
         * (Lettuce times out on a 100 ms wheel; the budget's cap comes first). It also bounds the
         * cluster client's topology discovery at start-up, which the 10 ms budget must not.
         */
        public Duration lettuceTimeout() {
            return waitCap.plusMillis(500);
        }

        /**
         * How long Lettuce keeps a script call (a consume, a refund) whose caller was already
         * answered, so that its late answer can be settled (refunded, kept, or counted). Default 0:
         * as every other command, the wait cap + 500 ms. 30s settles consumes a Redis stalled for
         * seconds runs when it resumes, but the chaos suite's latency-50ms cell for {@code local}
         * went over its p99 bound in 4 of 5 runs with it (1 of 4 without): off until that is
         * understood (docs/resilience.md).
         */
        private Duration lateAnswerTimeout = Duration.ZERO;

        public Duration getLateAnswerTimeout() {
            return lateAnswerTimeout;
        }

        public void setLateAnswerTimeout(Duration lateAnswerTimeout) {
            this.lateAnswerTimeout = lateAnswerTimeout;
        }

        /**
         * How long one attempt at start-up to reach Redis may take: for a cluster, the discovery of
         * its topology ({@code CLUSTER NODES}, {@code INFO} on the seed nodes). Default 5s. Only the
         * start-up uses it; the topology refreshes after it keep Lettuce's backstop (the wait cap +
         * 500 ms), so that a stalled node does not hold up a failover.
         */
        private Duration discoveryTimeout = Duration.ofSeconds(5);

        /**
         * How long a node keeps trying at start-up to reach Redis, with back-off between attempts
         * (200 ms doubling to 5 s, randomised) before it gives up and exits. Default 60s; the HTTP
         * server does not listen meanwhile, so a load balancer or orchestrator sees the node as not
         * ready rather than deciding by failure modes.
         */
        private Duration startupTimeout = Duration.ofSeconds(60);

        public Duration getDiscoveryTimeout() {
            return discoveryTimeout;
        }

        public void setDiscoveryTimeout(Duration discoveryTimeout) {
            this.discoveryTimeout = discoveryTimeout;
        }

        public Duration getStartupTimeout() {
            return startupTimeout;
        }

        public void setStartupTimeout(Duration startupTimeout) {
            this.startupTimeout = startupTimeout;
        }

        /** The longest wait between two attempts to reconnect to a Redis node. Default 1s. */
        private Duration reconnectMaxDelay = Duration.ofSeconds(1);

        public Duration getReconnectMaxDelay() {
            return reconnectMaxDelay;
        }

        public void setReconnectMaxDelay(Duration reconnectMaxDelay) {
            this.reconnectMaxDelay = reconnectMaxDelay;
        }

        /**
         * Whether the writes of commands to one Redis connection are flushed together: every flush
         * asked for while the connection's event loop is busy becomes one socket write at the end
         * of its turn (Netty's FlushConsolidationHandler), so that under load many checks share a
         * write on this side and a read on Redis's. Default true; false flushes every command at
         * once (docs/benchmarks.md compares both).
         */
        private boolean consolidateFlushes = true;

        public boolean isConsolidateFlushes() {
            return consolidateFlushes;
        }

        public void setConsolidateFlushes(boolean consolidateFlushes) {
            this.consolidateFlushes = consolidateFlushes;
        }

        /**
         * Whether Lettuce also records its own latency of every Redis command ({@code
         * lettuce.command.firstresponse} / {@code lettuce.command.completion}, with histograms), as
         * micronaut-redis sets up when Micrometer is present. Default false: {@code
         * sluice.store.latency} already times every store decision (script round trip included), and
         * Lettuce's two histogram timers per command cost about 2 % of a check's CPU
         * (docs/benchmarks.md).
         */
        private boolean commandLatencyMetrics = false;

        public boolean isCommandLatencyMetrics() {
            return commandLatencyMetrics;
        }

        public void setCommandLatencyMetrics(boolean commandLatencyMetrics) {
            this.commandLatencyMetrics = commandLatencyMetrics;
        }

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
