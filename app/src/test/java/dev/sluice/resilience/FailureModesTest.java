package dev.sluice.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.FailureMode;
import dev.sluice.config.LocalModeProperties;
import dev.sluice.config.NodeIdentity;
import dev.sluice.core.Decision;
import dev.sluice.core.Limit;
import dev.sluice.core.ManualClock;
import dev.sluice.observability.DecisionMetrics;
import dev.sluice.region.RegionMode;
import dev.sluice.region.RegionProperties;
import dev.sluice.store.InProcessStore;
import dev.sluice.store.StoreTimeoutException;
import dev.sluice.store.Subject;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The failure modes and their books, on the in-process store standing in for the shared one (the
 * embedded default users run) and a clock the test moves: what each mode answers, that the {@code
 * local} mode starts from what the store last said and charges the store once with what it took,
 * and that a late consume is settled by the mode that answered instead of it.
 */
class FailureModesTest {
    private static final Limit TEN_PER_MINUTE = new Limit(10, 10, 60_000);

    private final ManualClock clock = new ManualClock();
    private final InProcessStore shared = new InProcessStore(clock);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DecisionMetrics metrics = new DecisionMetrics(meters);
    private final StoreHealth health = new StoreHealth(shared, metrics);
    private Membership membership;

    private FailureModes modes(int nodesFloor) {
        LocalModeProperties local = new LocalModeProperties();
        local.setNodesFloor(nodesFloor);
        startMembership(local);
        return new FailureModes(
                shared, membership, health, metrics, local, NodeIdentity.random(), clock, RegionMode.OFF);
    }

    /** Heartbeats of one beat, taken at once and waited for: no sweep runs between a test's steps. */
    private void startMembership(LocalModeProperties local) {
        local.setHeartbeat(Duration.ofHours(1));
        membership = new Membership(shared, local, NodeIdentity.random(), clock, meters);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (membership.live() < 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(membership.live()).as("the first heartbeat").isEqualTo(1);
    }

    @AfterEach
    void stopHeartbeats() {
        if (membership != null) {
            membership.leave();
        }
    }

    private static Subject fresh(String name) {
        return new Subject("p", name + "-" + System.nanoTime());
    }

    private Decision take(Subject s, long cost) {
        return shared.acquire(s, TEN_PER_MINUTE, cost).toCompletableFuture().join();
    }

    private FailureModes.Answer decide(FailureModes modes, FailureMode mode, Subject s, long cost) {
        return modes.decide(mode, s, TEN_PER_MINUTE, cost).toCompletableFuture().join();
    }

    @Test
    void openAdmitsAndClosedRefusesAsUnavailableWithoutTouchingTheStore() {
        FailureModes modes = modes(1);
        Subject s = fresh("open-closed");
        FailureModes.Answer open = decide(modes, FailureMode.OPEN, s, 1);
        assertThat(open.decision().allowed()).isTrue();
        assertThat(open.unavailable()).isFalse();
        assertThat(open.local()).isFalse();
        FailureModes.Answer closed = decide(modes, FailureMode.CLOSED, s, 1);
        assertThat(closed.decision().allowed()).isFalse();
        assertThat(closed.unavailable()).isTrue();
        assertThat(closed.decision().retryAfterMs()).isEqualTo(1000);
        assertThat(closed.decision().nowMicros()).isEqualTo(clock.micros());
        assertThat(take(s, 0).remaining()).as("the store was not charged").isEqualTo(10);
        assertThat(modes.owedSubjects()).isZero();
    }

    @Test
    void localDecidesByThisNodesShareOfTheLimit() {
        FailureModes modes = modes(2); // at least 2 nodes: a share of 5
        Subject s = fresh("share");
        for (int i = 0; i < 5; i++) {
            FailureModes.Answer a = decide(modes, FailureMode.LOCAL, s, 1);
            assertThat(a.decision().allowed()).isTrue();
            assertThat(a.local()).isTrue();
            assertThat(a.limit().burst()).isEqualTo(5);
        }
        assertThat(decide(modes, FailureMode.LOCAL, s, 1).decision().allowed()).isFalse();
        assertThat(modes.owedSubjects()).isEqualTo(1);
    }

    /**
     * Multi-region mode: a global policy's subject is decided on the region's last known share of
     * it (the peers keep that share reserved while this region's store is down), not on the whole
     * limit, which would let R regions admit up to R times it; with no share known, on share-floor / R.
     */
    @Test
    void localDecidesAGlobalSubjectOnTheRegionsShareOnly() {
        LocalModeProperties local = new LocalModeProperties();
        startMembership(local);
        RegionProperties p = new RegionProperties();
        p.setName("a");
        p.setToken("region-token");
        p.setPeers(Map.of("b", "http://127.0.0.1:1", "c", "http://127.0.0.1:2"));
        RegionMode regions = new RegionMode(p, policy -> policy.equals("p"));
        FailureModes modes =
                new FailureModes(shared, membership, health, metrics, local, NodeIdentity.random(), clock, regions);
        Limit hundred = new Limit(100, 100, 60_000);
        Subject known = fresh("known");
        regions.shareIs(known, 2_500);
        Subject unknown = fresh("unknown");
        Subject regional = new Subject("other", "r-" + System.nanoTime());
        assertThat(admitted(modes, known, hundred)).isEqualTo(25);
        assertThat(admitted(modes, unknown, hundred)).isEqualTo(1); // 0.05 / 3 of 100, at least one
        assertThat(admitted(modes, regional, hundred)).isEqualTo(100);
    }

    private static long admitted(FailureModes modes, Subject s, Limit limit) {
        long n = 0;
        for (int i = 0; i < 200; i++) {
            if (modes.decide(FailureMode.LOCAL, s, limit, 1)
                    .toCompletableFuture()
                    .join()
                    .decision()
                    .allowed()) {
                n++;
            }
        }
        return n;
    }

    /** Found black-box: a subject at its limit when the store failed was admitted nothing for the whole outage. */
    @Test
    void aSubjectAtItsLimitWhenTheStoreFailsRefillsLocally() {
        FailureModes modes = modes(1);
        Subject s = fresh("at-limit");
        Limit fifty = new Limit(50, 50, 1000);
        modes.remember(
                FailureMode.LOCAL,
                s,
                fifty,
                shared.acquire(s, fifty, 50).toCompletableFuture().join());
        health.failed(new IOException("the store stopped answering"));
        assertThat(health.answers()).isFalse();
        assertThat(modes.decide(FailureMode.LOCAL, s, fifty, 1)
                        .toCompletableFuture()
                        .join()
                        .decision()
                        .allowed())
                .isFalse();
        clock.advanceMillis(1000);
        long n = 0;
        for (int i = 0; i < 60; i++) {
            // as the limiter does before every check: charge what is owed (nothing yet; the store is down)
            CompletionStage<Void> charged = modes.chargeOwed(s);
            if (charged != null) {
                charged.toCompletableFuture().join();
            }
            if (modes.decide(FailureMode.LOCAL, s, fifty, 1)
                    .toCompletableFuture()
                    .join()
                    .decision()
                    .allowed()) {
                n++;
            }
        }
        assertThat(n).as("refilled in a period").isEqualTo(50);
    }

    @Test
    void localStartsFromWhatTheStoreLastSaidWasLeft() {
        FailureModes modes = modes(1);
        Subject s = fresh("seed");
        modes.remember(FailureMode.LOCAL, s, TEN_PER_MINUTE, take(s, 8)); // 2 left
        assertThat(decide(modes, FailureMode.LOCAL, s, 1).decision().allowed()).isTrue();
        assertThat(decide(modes, FailureMode.LOCAL, s, 1).decision().allowed()).isTrue();
        assertThat(decide(modes, FailureMode.LOCAL, s, 1).decision().allowed())
                .as("no fresh allowance for an outage")
                .isFalse();
    }

    @Test
    void whatLocalTookIsChargedToTheStoreOnceBeforeTheSubjectsNextCheck() {
        FailureModes modes = modes(1);
        Subject s = fresh("charge");
        for (int i = 0; i < 3; i++) {
            decide(modes, FailureMode.LOCAL, s, 1);
        }
        modes.chargeOwed(s).toCompletableFuture().join();
        assertThat(take(s, 0).remaining()).isEqualTo(7);
        assertThat(modes.chargeOwed(s)).as("nothing owed any more").isNull();
        assertThat(modes.owedSubjects()).isZero();
        assertThat(meters.get("sluice.reconciled.units").counter().count()).isEqualTo(3);
    }

    @Test
    void theStoresReturnChargesEveryOwedSubject() {
        FailureModes modes = modes(1);
        Subject a = fresh("a");
        Subject b = fresh("b");
        health.failed(new IOException("connection refused"));
        decide(modes, FailureMode.LOCAL, a, 1);
        decide(modes, FailureMode.LOCAL, b, 1);
        decide(modes, FailureMode.LOCAL, b, 1);
        assertThat(modes.owedSubjects()).isEqualTo(2);
        health.succeeded(); // the sweep runs on the answering thread
        assertThat(modes.owedSubjects()).isZero();
        assertThat(take(a, 0).remaining()).isEqualTo(9);
        assertThat(take(b, 0).remaining()).isEqualTo(8);
    }

    @Test
    void aNodeStoppingWhileTheStoreIsDownKeepsItsDebtsCountedAndChargesNothingBlindly() {
        FailureModes modes = modes(1);
        Subject a = fresh("a");
        health.failed(new IOException("connection refused"));
        decide(modes, FailureMode.LOCAL, a, 3);
        modes.stop(); // the store does not answer: nothing can be charged, the debt is logged with its count
        assertThat(modes.owedSubjects()).isEqualTo(1);
        assertThat(take(a, 0).remaining()).isEqualTo(10);
    }

    @Test
    void usageThatRefilledDuringTheOutageIsNotCharged() {
        FailureModes modes = modes(1);
        Subject s = fresh("refilled");
        for (int i = 0; i < 4; i++) {
            decide(modes, FailureMode.LOCAL, s, 1);
        }
        clock.advanceMillis(60_000); // the local bucket is full again
        modes.chargeOwed(s).toCompletableFuture().join();
        assertThat(take(s, 0).remaining()).isEqualTo(10);
    }

    @Test
    void aLateConsumeIsGivenBackWhenClosedRefusedTheCheckAndKeptWhenOpenAdmittedIt() {
        FailureModes modes = modes(1);
        Subject refused = fresh("closed");
        Subject admitted = fresh("open");
        CompletableFuture<Decision> lateClosed = new CompletableFuture<>();
        CompletableFuture<Decision> lateOpen = new CompletableFuture<>();
        modes.settleLate(
                new StoreTimeoutException(StoreTimeoutException.Reason.SICK, lateClosed),
                FailureMode.CLOSED,
                refused,
                TEN_PER_MINUTE,
                1);
        modes.settleLate(
                new StoreTimeoutException(StoreTimeoutException.Reason.SICK, lateOpen),
                FailureMode.OPEN,
                admitted,
                TEN_PER_MINUTE,
                1);
        lateClosed.complete(take(refused, 1)); // the store ran the consume after all
        lateOpen.complete(take(admitted, 1));
        assertThat(take(refused, 0).remaining()).as("refused, so given back").isEqualTo(10);
        assertThat(take(admitted, 0).remaining())
                .as("admitted, so counted once")
                .isEqualTo(9);
        assertThat(late("refunded")).isEqualTo(1);
        assertThat(late("kept")).isEqualTo(1);
    }

    @Test
    void aLateConsumeThatNeverGetsAnAnswerIsCountedAsUnknownNotAsNothingTaken() {
        FailureModes modes = modes(1);
        Subject s = fresh("unanswered");
        CompletableFuture<Decision> late = new CompletableFuture<>();
        modes.settleLate(
                new StoreTimeoutException(StoreTimeoutException.Reason.SICK, late),
                FailureMode.CLOSED,
                s,
                TEN_PER_MINUTE,
                1);
        // Lettuce's own timeout: the command was written, and a stalled Redis may still run it
        late.completeExceptionally(new java.util.concurrent.TimeoutException("Command timed out after 1.5 s"));
        assertThat(late("unknown")).isEqualTo(1);
        assertThat(meters.find("sluice.store.late.answers")
                        .tag("settled", "nothing-taken")
                        .counter())
                .isNull();
    }

    @Test
    void anErrorThatIsNotATimeOutIsNotSettled() {
        FailureModes modes = modes(1);
        Subject s = fresh("error");
        modes.settleLate(new IOException("reset by peer"), FailureMode.CLOSED, s, TEN_PER_MINUTE, 1);
        assertThat(meters.find("sluice.store.late.answers").counters()).isEmpty();
    }

    @Test
    void aResetSubjectOwesNothingAndStartsItsLocalBucketFull() {
        FailureModes modes = modes(1);
        Subject s = fresh("reset");
        for (int i = 0; i < 10; i++) {
            decide(modes, FailureMode.LOCAL, s, 1);
        }
        modes.forget(s);
        assertThat(modes.owedSubjects()).isZero();
        assertThat(decide(modes, FailureMode.LOCAL, s, 1).decision().remaining())
                .isEqualTo(9);
    }

    @Test
    void usageAddedAfterAChargeTimedOutButRanIsChargedToo() {
        // the first charge runs in the store but its answer is lost (Redis stalled, then ran it):
        // the retry must not take the grown debt for the one already counted
        java.util.concurrent.atomic.AtomicBoolean loseNextAnswer = new java.util.concurrent.atomic.AtomicBoolean(true);
        dev.sluice.store.RateLimitStore stalling = new Forwarding(shared) {
            @Override
            public java.util.concurrent.CompletionStage<Decision> charge(Subject s, Limit l, long units, String id) {
                java.util.concurrent.CompletionStage<Decision> ran = shared.charge(s, l, units, id);
                return loseNextAnswer.getAndSet(false)
                        ? CompletableFuture.failedFuture(
                                new StoreTimeoutException(StoreTimeoutException.Reason.SICK, ran))
                        : ran;
            }
        };
        LocalModeProperties local = new LocalModeProperties();
        startMembership(local);
        FailureModes modes = new FailureModes(
                stalling, membership, health, metrics, local, NodeIdentity.random(), clock, RegionMode.OFF);
        Subject s = fresh("stalled-charge");
        for (int i = 0; i < 3; i++) {
            decide(modes, FailureMode.LOCAL, s, 1);
        }
        assertThat(modes.chargeOwed(s).toCompletableFuture()).isCompletedExceptionally();
        assertThat(take(s, 0).remaining()).as("the lost charge ran").isEqualTo(7);
        for (int i = 0; i < 2; i++) {
            decide(modes, FailureMode.LOCAL, s, 1); // still local: two more
        }
        modes.chargeOwed(s).toCompletableFuture().join();
        assertThat(take(s, 0).remaining())
                .as("5 used locally, 5 charged, none twice")
                .isEqualTo(5);
        assertThat(modes.owedSubjects()).isZero();
    }

    @Test
    void aLocalDecisionMadeWhileTheSubjectsChargeIsUnderWayAddsToTheSameDebt() {
        // the charge before a check is held, then fails (the store went again); a local decision
        // made meanwhile must not open a second debt seeded again from the store's last answer
        CompletableFuture<Decision> held = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicBoolean holdNext = new java.util.concurrent.atomic.AtomicBoolean(true);
        dev.sluice.store.RateLimitStore holding = new Forwarding(shared) {
            @Override
            public java.util.concurrent.CompletionStage<Decision> charge(Subject s, Limit l, long units, String id) {
                return holdNext.getAndSet(false) ? held : shared.charge(s, l, units, id);
            }
        };
        LocalModeProperties local = new LocalModeProperties();
        startMembership(local);
        FailureModes modes = new FailureModes(
                holding, membership, health, metrics, local, NodeIdentity.random(), clock, RegionMode.OFF);
        Subject s = fresh("charge-under-way");
        modes.remember(FailureMode.LOCAL, s, TEN_PER_MINUTE, take(s, 2)); // 8 left
        assertThat(decide(modes, FailureMode.LOCAL, s, 1).decision().allowed()).isTrue();
        CompletableFuture<Void> charging = modes.chargeOwed(s).toCompletableFuture();
        assertThat(charging).isNotDone();
        assertThat(modes.chargeOwed(s).toCompletableFuture())
                .as("a second charge of the subject waits for the one under way")
                .isSameAs(charging);
        assertThat(decide(modes, FailureMode.LOCAL, s, 1).decision().allowed()).isTrue();
        held.completeExceptionally(new IllegalStateException("the store went again"));
        assertThat(charging).isCompletedExceptionally();
        assertThat(modes.owedSubjects()).isEqualTo(1);
        modes.chargeOwed(s).toCompletableFuture().join();
        assertThat(take(s, 0).remaining())
                .as("8 left, 2 taken locally, each charged once")
                .isEqualTo(6);
        assertThat(modes.owedSubjects()).isZero();
    }

    @Test
    void aLateConsumesRefundRefusedByTheBreakerIsTriedAgainWhenTheStoreAnswers() {
        // Redis runs the stalled consume and answers while the breaker is still open: the refund is
        // refused at first, and must not leave the refused check counted
        java.util.concurrent.atomic.AtomicBoolean refuseNextRefund =
                new java.util.concurrent.atomic.AtomicBoolean(true);
        dev.sluice.store.RateLimitStore breakerOpen = new Forwarding(shared) {
            @Override
            public java.util.concurrent.CompletionStage<Void> refund(Subject s, Limit l, long units, Decision d) {
                return refuseNextRefund.getAndSet(false)
                        ? CompletableFuture.failedFuture(new IllegalStateException("breaker open"))
                        : shared.refund(s, l, units, d);
            }
        };
        LocalModeProperties local = new LocalModeProperties();
        startMembership(local);
        FailureModes modes = new FailureModes(
                breakerOpen, membership, health, metrics, local, NodeIdentity.random(), clock, RegionMode.OFF);
        Subject refused = fresh("refused-late");
        CompletableFuture<Decision> late = new CompletableFuture<>();
        health.failed(new IOException("stalled"));
        modes.settleLate(
                new StoreTimeoutException(StoreTimeoutException.Reason.SICK, late),
                FailureMode.CLOSED,
                refused,
                TEN_PER_MINUTE,
                1);
        late.complete(take(refused, 1));
        assertThat(take(refused, 0).remaining()).as("refund refused for now").isEqualTo(9);
        health.succeeded();
        assertThat(take(refused, 0).remaining())
                .as("given back once the store answers")
                .isEqualTo(10);
        assertThat(late("refunded")).isEqualTo(1);
        assertThat(meters.find("sluice.store.late.answers")
                        .tag("settled", "counted-twice")
                        .counter())
                .isNull();
    }

    /** A store that forwards every verb to another; a test overrides the one it makes fail. */
    private static class Forwarding implements dev.sluice.store.RateLimitStore {
        private final dev.sluice.store.RateLimitStore to;

        Forwarding(dev.sluice.store.RateLimitStore to) {
            this.to = to;
        }

        @Override
        public java.util.concurrent.CompletionStage<Decision> acquire(Subject s, Limit l, long cost) {
            return to.acquire(s, l, cost);
        }

        @Override
        public java.util.concurrent.CompletionStage<Decision> charge(Subject s, Limit l, long units, String id) {
            return to.charge(s, l, units, id);
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> refund(Subject s, Limit l, long units, Decision d) {
            return to.refund(s, l, units, d);
        }

        @Override
        public java.util.concurrent.CompletionStage<Boolean> release(Subject s, String token) {
            return to.release(s, token);
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> reset(Subject s) {
            return to.reset(s);
        }

        @Override
        public String kind() {
            return "forwarding";
        }
    }

    private double late(String settled) {
        return meters.get("sluice.store.late.answers")
                .tag("settled", settled)
                .counter()
                .count();
    }
}
