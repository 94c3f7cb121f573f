package dev.sluice.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.observability.DecisionMetrics;
import dev.sluice.store.InProcessStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The store's health changes once per change, not once per call, and its return is acted on once. */
class StoreHealthTest {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final StoreHealth health = new StoreHealth(new InProcessStore(), new DecisionMetrics(meters));

    private double degradedGauge() {
        return meters.get("sluice.store.degraded").gauge().value();
    }

    @Test
    void aFailureAndARecoveryAreEachTakenOnceHoweverManyCallsReportThem() {
        AtomicInteger recoveries = new AtomicInteger();
        health.onRecovery(recoveries::incrementAndGet);
        assertThat(health.answers()).isTrue();
        for (int i = 0; i < 100; i++) {
            health.failed(new IOException("refused"));
        }
        assertThat(health.answers()).isFalse();
        assertThat(degradedGauge()).isEqualTo(1);
        for (int i = 0; i < 100; i++) {
            health.succeeded();
        }
        assertThat(health.answers()).isTrue();
        assertThat(degradedGauge()).isZero();
        assertThat(recoveries).hasValue(1);
    }

    @Test
    void successesOfAHealthyStoreRunNothing() {
        AtomicInteger recoveries = new AtomicInteger();
        health.onRecovery(recoveries::incrementAndGet);
        health.succeeded();
        health.succeeded();
        assertThat(recoveries).hasValue(0);
    }

    @Test
    void aFailedShardStaysFailedWhileTheOthersAnswerAndComesBackOnItsOwnSuccess() {
        SimpleMeterRegistry m = new SimpleMeterRegistry();
        // the shard is the key's first letter
        StoreHealth sharded =
                new StoreHealth(new InProcessStore(), new DecisionMetrics(m), java.util.Optional.of(s -> s.key()
                        .substring(0, 1)));
        AtomicInteger recoveries = new AtomicInteger();
        sharded.onRecovery(recoveries::incrementAndGet);
        dev.sluice.store.Subject onA = new dev.sluice.store.Subject("p", "a1");
        dev.sluice.store.Subject onB = new dev.sluice.store.Subject("p", "b1");
        for (int i = 0; i < 100; i++) {
            sharded.failed(onA, new IOException("killed"));
            sharded.succeeded(onB); // the healthy shard's calls do not bring shard a back
        }
        assertThat(sharded.answers()).isFalse();
        assertThat(sharded.failedShards()).isEqualTo(1);
        assertThat(m.get("sluice.store.failed.shards").gauge().value()).isEqualTo(1);
        assertThat(recoveries).hasValue(0);
        sharded.succeeded(new dev.sluice.store.Subject("p", "a2"));
        assertThat(sharded.answers()).isTrue();
        assertThat(recoveries).hasValue(1);
    }

    @Test
    void aFailedShardThatNoCallFailsOnAnyMoreIsForgottenWhileOthersAnswer() throws Exception {
        SimpleMeterRegistry m = new SimpleMeterRegistry();
        StoreHealth sharded =
                new StoreHealth(new InProcessStore(), new DecisionMetrics(m), java.util.Optional.of(s -> s.key()
                        .substring(0, 1)));
        sharded.failed(new dev.sluice.store.Subject("p", "a1"), new IOException("killed"));
        assertThat(m.get("sluice.store.failed.shards").gauge().value()).isEqualTo(1);
        System.gc(); // the gauge must not lose what it reads
        assertThat(m.get("sluice.store.failed.shards").gauge().value()).isEqualTo(1);
        // failed over: shard a's subjects now succeed on shard c; nothing reaches a any more
        dev.sluice.store.Subject moved = new dev.sluice.store.Subject("p", "c1");
        sharded.succeeded(moved);
        assertThat(sharded.answers()).as("not before the forget time").isFalse();
        Thread.sleep(StoreHealth.FORGET_MS + 100);
        sharded.succeeded(moved);
        assertThat(sharded.answers()).isTrue();
        assertThat(m.get("sluice.store.degraded").gauge().value()).isZero();
        assertThat(m.get("sluice.store.failed.shards").gauge().value()).isZero();
    }
}
