package dev.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.FailureMode;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.resilience.FailureModes;
import dev.sluice.store.RateLimitStore;
import dev.sluice.store.Subject;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.ApplicationContext;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The start-up rehearsal of the failure modes leaves no trace: on the embedded default (the
 * in-process store), after a node has started and rehearsed again, no decision is counted, the
 * store's health is untouched, nothing is owed, and a rehearsed subject starts from a full bucket in
 * the local mode and in the store.
 */
class NodeWarmUpTest {
    private static ApplicationContext context;

    @BeforeAll
    static void start() {
        context =
                ApplicationContext.run(Map.of("limiter.policies.real.limit", 10, "limiter.policies.real.period", "1m"));
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }

    @Test
    void aRehearsalRunsEveryModeAndAlgorithmAndCountsNothing() {
        NodeWarmUp warmUp = context.getBean(NodeWarmUp.class);
        int modesTimesAlgorithms = FailureMode.values().length * Algorithm.values().length;

        assertThat(warmUp.rehearse(3)).isEqualTo(3 * modesTimesAlgorithms);

        MeterRegistry registry = context.getBean(MeterRegistry.class);
        assertThat(registry.find("sluice.decisions").counters())
                .as("decisions counted")
                .allSatisfy(c -> assertThat(c.count()).as(c.getId().toString()).isZero());
        assertThat(registry.find("sluice.decisions").tagKeys("policy").counters().stream()
                        .map(c -> c.getId().getTag("policy")))
                .as("no meters for the rehearsal's policies")
                .noneMatch(p -> p.startsWith("sluice-warm-up"));
        assertThat(registry.find("sluice.store.degraded").gauge())
                .satisfiesAnyOf(
                        g -> assertThat(g).isNull(), g -> assertThat(g.value()).isZero());
        assertThat(context.getBean(FailureModes.class).owedSubjects())
                .as("owed")
                .isZero();
    }

    @Test
    void aRehearsedSubjectStartsFullInTheLocalModeAndInTheStore() {
        context.getBean(NodeWarmUp.class).rehearse(1);
        Subject rehearsed = new Subject("sluice-warm-up-local", "degraded-token-bucket-0");
        Limit limit = new Limit(Algorithm.TOKEN_BUCKET, 10, 10, 60_000);

        FailureModes.Answer local = context.getBean(FailureModes.class)
                .decide(FailureMode.LOCAL, rehearsed, limit, 1)
                .toCompletableFuture()
                .join();
        assertThat(local.decision().allowed()).isTrue();
        assertThat(local.decision().remaining()).isEqualTo(local.limit().burst() - 1);
        context.getBean(FailureModes.class).forget(rehearsed);

        RateLimitStore store = context.getBean(RateLimitStore.class);
        assertThat(store.acquire(rehearsed, limit, 1)
                        .toCompletableFuture()
                        .join()
                        .remaining())
                .as("the store never saw the rehearsal")
                .isEqualTo(9);
    }
}
