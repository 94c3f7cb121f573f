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
}
