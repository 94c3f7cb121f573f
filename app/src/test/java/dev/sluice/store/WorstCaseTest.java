package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.core.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, part 5: for every rate algorithm, the most a subject is admitted in <em>any</em> span of
 * one period — under an adversarial schedule (the boundary burst followed by a steady trickle) and
 * under a search over schedules — against what an honest client at the limit's rate gets. Run on
 * the Java twins through the in-process store (the scripts' decisions, step for step:
 * ScriptDifferentialIT), with a clock moved by hand. Limit 20 per 10 s (burst 20). The figures
 * are docs/algorithms.md's "worst case" column.
 */
class WorstCaseTest {
    static final long PERIOD_MS = 10_000;
    static final int LIMIT = 20;

    /** The most admitted in any span [t, t + period) for each algorithm, as docs/algorithms.md states it. */
    static final Map<Algorithm, Integer> WORST = Map.of(
            Algorithm.TOKEN_BUCKET, 39,
            Algorithm.GCRA, 39,
            Algorithm.FIXED_WINDOW, 40,
            Algorithm.SLIDING_WINDOW_COUNTER, 39,
            Algorithm.SLIDING_WINDOW_LOG, 20);

    static Limit limit(Algorithm a) {
        return new Limit(a, LIMIT, LIMIT, PERIOD_MS);
    }

    /** Sends one check of cost 1 at each time (µs from a period boundary, ascending); answers the admitted times. */
    static List<Long> admitted(Algorithm a, List<Long> times) {
        ManualClock clock = new ManualClock(1_000_000_000L * 1_000_000L); // a period boundary (10 s divides it)
        InProcessStore store = new InProcessStore(clock);
        Subject s = new Subject("worst", "k");
        Limit l = limit(a);
        List<Long> in = new ArrayList<>();
        long at = 0;
        for (long t : times) {
            clock.advanceMicros(t - at);
            at = t;
            if (store.acquire(s, l, 1).toCompletableFuture().join().allowed()) {
                in.add(t);
            }
        }
        return in;
    }

    /** The most of {@code times} (ascending) in any span [t, t + period). */
    static int mostInAnyPeriod(List<Long> times) {
        int most = 0;
        int from = 0;
        for (int to = 0; to < times.size(); to++) {
            while (times.get(to) - times.get(from) >= PERIOD_MS * 1_000) {
                from++;
            }
            most = Math.max(most, to - from + 1);
        }
        return most;
    }

    /** The boundary burst then a trickle: {@code limit} checks 250 ms before a boundary, then one every {@code stepMs}. */
    static List<Long> boundaryBurstThenTrickle(long stepMs) {
        List<Long> t = new ArrayList<>();
        long boundary = 3 * PERIOD_MS * 1_000;
        for (int i = 0; i < LIMIT; i++) {
            t.add(boundary - 250_000);
        }
        for (long at = boundary; at < boundary + 2 * PERIOD_MS * 1_000; at += stepMs * 1_000) {
            t.add(at);
        }
        return t;
    }

    /** An honest client: one check every period / limit, for three periods. */
    static List<Long> honest() {
        List<Long> t = new ArrayList<>();
        for (long at = 0; at < 3 * PERIOD_MS * 1_000; at += PERIOD_MS * 1_000 / LIMIT) {
            t.add(at);
        }
        return t;
    }

    @Test
    void theBoundaryBurstThenATrickleReachesEachAlgorithmsStatedWorstCase() {
        for (Map.Entry<Algorithm, Integer> e : WORST.entrySet()) {
            int most = 0;
            for (long step : new long[] {1, 10, 50, 100, 250, 500}) {
                most = Math.max(most, mostInAnyPeriod(admitted(e.getKey(), boundaryBurstThenTrickle(step))));
            }
            System.out.printf(
                    "WorstCaseTest %-24s adversarial %d, honest %d (limit %d per %d s)%n",
                    e.getKey(), most, mostInAnyPeriod(admitted(e.getKey(), honest())), LIMIT, PERIOD_MS / 1000);
            assertThat(most)
                    .as(e.getKey() + ": the stated worst case is reached")
                    .isEqualTo(e.getValue());
            assertThat(mostInAnyPeriod(admitted(e.getKey(), honest())))
                    .as(e.getKey() + ": an honest client gets the limit")
                    .isEqualTo(LIMIT);
        }
    }

    @Provide
    Arbitrary<List<Long>> schedules() {
        // bursts at chosen instants plus a trickle: the shapes that stress a window's edges
        Arbitrary<Long> instant = Arbitraries.longs().between(0, 3 * PERIOD_MS * 1_000);
        Arbitrary<List<Long>> bursts = Combinators.combine(
                        instant, Arbitraries.integers().between(1, 40))
                .as((at, n) -> java.util.Collections.nCopies(n, at))
                .list()
                .ofMinSize(1)
                .ofMaxSize(6)
                .map(ls -> ls.stream().flatMap(List::stream).toList());
        Arbitrary<List<Long>> trickle = Combinators.combine(
                        instant, Arbitraries.longs().between(1_000, 2_000_000))
                .as((from, step) -> {
                    List<Long> t = new ArrayList<>();
                    for (long at = from; at < from + 2 * PERIOD_MS * 1_000; at += step) {
                        t.add(at);
                    }
                    return t;
                });
        return Combinators.combine(bursts, trickle).as((b, tr) -> {
            List<Long> all = new ArrayList<>(b);
            all.addAll(tr);
            all.sort(null);
            return all;
        });
    }

    @Property(tries = 300, seed = "160516")
    void noScheduleAdmitsMoreThanTheStatedWorstCase(
            @ForAll("schedules") List<Long> schedule, @ForAll("algorithms") Algorithm a) {
        assertThat(mostInAnyPeriod(admitted(a, schedule))).isLessThanOrEqualTo(WORST.get(a));
    }

    @Provide
    Arbitrary<Algorithm> algorithms() {
        return Arbitraries.of(WORST.keySet());
    }
}
