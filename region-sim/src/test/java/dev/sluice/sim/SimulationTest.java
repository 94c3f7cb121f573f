package dev.sluice.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulator on the reference point (S = 1 s, RTT 150 ± 10 ms, R = 3, offered 2 × L):
 * Sluice's shares stay within the bound and the targets, counter replication goes far over, a
 * static split rejects much of a skewed load, and a seed gives the same run twice.
 */
class SimulationTest {
    private static Scenario at(Scenario.Mode mode, long windowS, Traffic traffic) {
        return at(mode, windowS, traffic, 2);
    }

    private static Scenario at(Scenario.Mode mode, long windowS, Traffic traffic, double load) {
        long w = windowS * 1_000_000;
        return new Scenario(
                mode,
                3,
                2,
                1_000_000,
                150_000,
                10_000,
                0,
                w,
                100 * windowS,
                load,
                traffic,
                true,
                List.of(),
                Math.max(3 * w, 10_000_000),
                Math.max(10 * w, 30_000_000),
                0.05);
    }

    @Test
    void theSharesStayWithinTheBoundAndTheTargetsAtOneSecondAndOneMinute() {
        for (long w : new long[] {1, 60}) {
            for (Traffic t : List.of(Traffic.uniform(), Traffic.skewed(0.8, 0.1, 0.1))) {
                Result r = Simulation.run(at(Scenario.Mode.SLUICE, w, t), 7);
                System.out.printf(
                        "sluice W=%ds: O_p99 %.4f, O_max %.4f, FR %.4f, %d of %d admitted (exact %d)%n",
                        w, r.overP99(), r.overMax(), r.falseRejects(), r.admitted(), r.checks(), r.exactAdmitted());
                assertThat(r.overMax())
                        .as("W = " + w + " s: no window over its allowance")
                        .isLessThanOrEqualTo(0);
                assertThat(r.falseRejects()).as("W = " + w + " s: FR").isLessThanOrEqualTo(0.01);
            }
        }
    }

    @Test
    void counterReplicationGoesFarOverAndAStaticSplitRejectsASkewedLoad() {
        // offered 5 x L: at 2 x L replication cannot go over by more than what is offered
        Result replication = Simulation.run(at(Scenario.Mode.REPLICATION, 1, Traffic.uniform(), 5), 7);
        Result shares = Simulation.run(at(Scenario.Mode.SLUICE, 1, Traffic.uniform(), 5), 7);
        Result split = Simulation.run(at(Scenario.Mode.STATIC, 1, Traffic.skewed(0.8, 0.1, 0.1)), 7);
        System.out.printf(
                "at 5 x L: replication O_p99 %.4f, shares %.4f; static split 80/10/10 FR %.4f%n",
                replication.overP99(), shares.overP99(), split.falseRejects());
        // each region's bucket learns the others' use S + RTT/2 late, on average: the windows that
        // follow a lull take what the peers already spent
        assertThat(replication.overP99()).isGreaterThan(0.15);
        assertThat(shares.overMax()).isLessThanOrEqualTo(0);
        // region a gets L/3 of its 0.8 x 2 L, b and c all of their 0.2 L: 0.73 L of the L one bucket admits
        assertThat(split.falseRejects()).isGreaterThan(0.1);
    }

    @Test
    void aSeedGivesTheSameRun() {
        Scenario s = at(Scenario.Mode.SLUICE, 1, Traffic.skewed(0.8, 0.1, 0.1));
        assertThat(Simulation.run(s, 11).admittedAt())
                .isEqualTo(Simulation.run(s, 11).admittedAt());
        assertThat(Simulation.run(s, 11).admittedAt())
                .isNotEqualTo(Simulation.run(s, 12).admittedAt());
    }
}
