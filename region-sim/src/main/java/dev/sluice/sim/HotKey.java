package dev.sluice.sim;

import dev.sluice.core.Limit;
import dev.sluice.core.Outcome;
import dev.sluice.core.TokenBucket;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Experiment 5, {@code hotkey}: one hot subject — L = 1,000 a second, burst L, W = 1 s, offered 2 × L
 * in Poisson arrivals — on one region's store (a global policy's region decides on its share of the
 * same bucket: the calls per check are the region's), checked through N nodes in turn, each node
 * talking to the store by one of four strategies with a window w ∈ {1, 2, 5, 10, 20, 50, 100 ms}:
 *
 * <ul>
 *   <li>{@code per-check} — what Sluice does today: one script call per check (w does not apply);
 *   <li>{@code coalesce} — a node holds the checks that arrive within w and asks the store for them
 *       in one call that takes as many as are left ("take up to k"); exact, but each check waits up
 *       to w for its answer;
 *   <li>{@code lease} — a node takes a lease of tokens (its rate over the last w, at least one) in
 *       one call and admits from it in-process for up to w; what is left of a lease is given back in
 *       the node's next call; a node the store had nothing for denies in-process until its lease
 *       window ends;
 *   <li>{@code async} — a node decides in-process on what the store last told it was left, and sends
 *       what it admitted every w (taken whole, as a reconciliation charge is) — the way Gubernator's
 *       GLOBAL behaviour and Kong's {@code sync_rate} count.
 * </ul>
 *
 * <p>The store is Sluice's token bucket ({@link TokenBucket}, token_bucket.lua's twin). Per run
 * (hotkey.csv): store calls per admitted check, O (p50, p99, max over every window of W) and FR
 * against one exact bucket fed the same checks, and the wait a check adds (mean, max). None of the
 * three batching strategies is built in Sluice: this experiment is what says whether one should be.
 */
final class HotKey {
    static final long[] WINDOWS_MS = {1, 2, 5, 10, 20, 50, 100};
    static final long[] QUICK_WINDOWS_MS = {1, 10, 100};
    static final int[] NODES = {3, 10};
    static final int[] QUICK_NODES = {3};

    /** The bucket's burst: a whole second of the rate, and 10 ms of it (a smooth 1,000 a second). */
    static final long[] BURSTS = {1_000, 10};

    static final long LIMIT = 1_000;
    static final long W = 1_000_000;
    static final long WARMUP = 5_000_000;
    static final long MEASURE = 30_000_000;
    static final long QUICK_MEASURE = 10_000_000;

    /** The on-off load: on for ON of each PERIOD (µs). */
    static final long ON = 100_000;

    static final long PERIOD = 1_000_000;

    /** The short windows O is also measured over (µs). */
    static final long SHORT = 100_000;

    /** How a node talks to the store. */
    enum Strategy {
        PER_CHECK("per-check"),
        COALESCE("coalesce"),
        LEASE("lease"),
        ASYNC("async");

        final String label;

        Strategy(String label) {
            this.label = label;
        }
    }

    /** What one run measured besides {@link Result}: the store calls, and the wait each check added (µs). */
    record Run(
            Result result,
            Strategy strategy,
            long windowMicros,
            int nodes,
            long burst,
            long calls,
            double meanWait,
            long maxWait) {
        /** O_p99 over windows of 100 ms (allowance burst + L · 0.1 s): where a burst of checks lands. */
        double overShortP99() {
            return Result.percentile(shortWindows(), 0.99);
        }

        /** The same, the worst window. */
        double overShortMax() {
            double[] o = shortWindows();
            return o[o.length - 1];
        }

        private double[] shortWindows() {
            Scenario sc = result.scenario();
            long from = sc.warmupMicros();
            return Result.windows(
                    result.admittedAt(),
                    from,
                    from + sc.measureMicros(),
                    SHORT,
                    burst + (double) sc.limit() * SHORT / sc.windowMicros());
        }

        double callsPerAdmitted() {
            return result.admitted() == 0 ? Double.NaN : (double) calls / result.admitted();
        }
    }

    private HotKey() {}

    static List<Result> run(Main.Options o) throws IOException {
        List<Result> results = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        long measure = o.quick() ? QUICK_MEASURE : MEASURE;
        for (boolean onOff : new boolean[] {false, true}) {
            for (long burst : BURSTS) {
                Map<String, List<double[]>> overAgainstCalls = new LinkedHashMap<>();
                for (int nodes : o.quick() ? QUICK_NODES : NODES) {
                    long seed = o.seed() + 4_000 + nodes;
                    for (Strategy s : Strategy.values()) {
                        long[] windows =
                                s == Strategy.PER_CHECK ? new long[] {0} : o.quick() ? QUICK_WINDOWS_MS : WINDOWS_MS;
                        for (long ms : windows) {
                            Run r = simulate(s, ms * 1000, nodes, burst, onOff, 2, measure, seed);
                            results.add(r.result());
                            rows.add(String.format(
                                            Locale.ROOT,
                                            "%s,%s,%d,%d,%d,%d,%.4f,%.3f,%.3f,%.4f,%.4f,",
                                            onOff ? "on-off" : "steady",
                                            s.label,
                                            ms,
                                            nodes,
                                            burst,
                                            r.calls(),
                                            r.callsPerAdmitted(),
                                            r.meanWait() / 1000,
                                            r.maxWait() / 1000.0,
                                            r.overShortP99(),
                                            r.overShortMax())
                                    + Csv.row(r.result()));
                            overAgainstCalls
                                    .computeIfAbsent(s.label + ", N = " + nodes, k -> new ArrayList<>())
                                    .add(new double[] {r.callsPerAdmitted(), r.overShortMax(), ms});
                        }
                    }
                }
                String shape = onOff ? "on-off" : "steady";
                Charts.panels(
                        o.out().resolve("hotkey-" + shape + "-burst" + burst),
                        String.format(
                                Locale.ROOT,
                                "A hot key, L = 1,000/s, burst %d, 2 × L offered %s: worst O (100 ms) against store calls per"
                                        + " admitted check, w = 1–100 ms",
                                burst,
                                onOff ? "in 100 ms of each second" : "steadily"),
                        "store calls per admitted check",
                        true,
                        List.of(new Charts.Panel(
                                "O_max over 100 ms windows (0.05 = 5 %); each point labelled with its w",
                                points(overAgainstCalls), Map.of(0.0, "the bucket's bound: O ≤ 0"), "%.0f ms")));
            }
        }
        Csv.writeRows(
                o.out().resolve("hotkey.csv"),
                "load_shape,strategy,window_ms,nodes,burst,store_calls,calls_per_admitted,wait_mean_ms,wait_max_ms,"
                        + "O100_p99,O100_max,"
                        + Csv.HEADER,
                rows);
        return results;
    }

    private static Map<String, double[][]> points(Map<String, List<double[]>> in) {
        Map<String, double[][]> out = new LinkedHashMap<>();
        in.forEach((k, v) -> out.put(k, v.toArray(double[][]::new)));
        return out;
    }

    /** One run: {@code nodes} nodes, strategy {@code s} with window {@code w} (µs), {@code load} × L offered. */
    static Run simulate(
            Strategy s, long w, int nodes, long burst, boolean onOff, double load, long measure, long seed) {
        return new Node(s, w, nodes, burst, onOff, load, measure, seed).run();
    }

    /** The run's state: the store's bucket, each node's, the exact bucket, and what is measured. */
    private static final class Node {
        private final Strategy s;
        private final long w;
        private final int nodes;
        private final long end;
        private final double gap;
        private final long burst;
        private final boolean onOff;
        private final Limit full;
        private final Scenario scenario;
        private final SplittableRandom random;

        private String store;
        private String exact;
        private long calls;
        private long checks;
        private long admitted;
        private long exactAdmitted;
        private long[] admittedAt = new long[1 << 14];
        private int admittedCount;
        private long[] exactAt = new long[1 << 14];
        private int exactCount;
        private long waitSum;
        private long waitMax;
        private long waited;

        // per node: coalesce's held checks (arrival times) and when they are sent; a lease's tokens,
        // its end and the checks of the last window; async's view of what is left and what it owes
        private final long[][] held;
        private final int[] heldCount;
        private final long[] sendAt;
        private final long[] have;
        private final long[] leaseEnd;
        private final long[] seen;
        private final long[] seenBefore;
        private final long[] view;
        private final long[] owes;
        private final long[] flushAt;

        Node(Strategy s, long w, int nodes, long burst, boolean onOff, double load, long measure, long seed) {
            this.s = s;
            this.onOff = onOff;
            this.burst = burst;
            this.full = new Limit(burst, LIMIT, W / 1000);
            this.w = w;
            this.nodes = nodes;
            this.end = WARMUP + measure;
            this.gap = W / (load * LIMIT);
            this.random = new SplittableRandom(seed);
            this.scenario = new Scenario(
                    Scenario.Mode.SLUICE,
                    1,
                    nodes,
                    Math.max(1, w),
                    0,
                    0,
                    0,
                    W,
                    LIMIT,
                    load,
                    Traffic.uniform(),
                    true,
                    List.of(),
                    WARMUP,
                    measure,
                    0.05);
            this.held = new long[nodes][16];
            this.heldCount = new int[nodes];
            this.sendAt = new long[nodes];
            Arrays.fill(sendAt, Long.MAX_VALUE);
            this.have = new long[nodes];
            this.leaseEnd = new long[nodes];
            this.seen = new long[nodes];
            this.seenBefore = new long[nodes];
            this.view = new long[nodes];
            Arrays.fill(view, burst);
            this.owes = new long[nodes];
            this.flushAt = new long[nodes];
            for (int i = 0; i < nodes; i++) {
                flushAt[i] = random.nextLong(Math.max(1, w));
            }
        }

        Run run() {
            long started = System.nanoTime();
            long t = 0;
            long u = 0; // on-off: the time the load has been on
            int turn = 0;
            long decided = 0;
            while (true) {
                if (onOff) {
                    // the same load in the first ON of each PERIOD, nothing in the rest
                    u += Math.max(1, Math.round(-Math.log(1 - random.nextDouble()) * gap * ON / PERIOD));
                    t = Math.floorDiv(u, ON) * PERIOD + Math.floorMod(u, ON);
                } else {
                    t += Math.max(1, Math.round(-Math.log(1 - random.nextDouble()) * gap));
                }
                if (t >= end) {
                    break;
                }
                // what is due before this arrival: coalesced sends, async flushes
                due(t);
                int node = turn;
                turn = (turn + 1) % nodes;
                decided++;
                arrive(node, t);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            Arrays.sort(admittedAt, 0, admittedCount); // coalesced admissions are recorded when answered
            Result result = Result.of(
                    scenario,
                    burst,
                    checks,
                    admitted,
                    exactAdmitted,
                    Arrays.copyOf(admittedAt, admittedCount),
                    Arrays.copyOf(exactAt, exactCount),
                    new int[admittedCount],
                    new long[] {checks},
                    new long[] {admitted},
                    calls,
                    0,
                    decided / Math.max(seconds, 1e-9));
            return new Run(result, s, w, nodes, burst, calls, waited == 0 ? 0 : (double) waitSum / waited, waitMax);
        }

        private void due(long t) {
            for (int i = 0; i < nodes; i++) {
                if (s == Strategy.COALESCE && sendAt[i] <= t) {
                    send(i, sendAt[i]);
                }
                if (s == Strategy.ASYNC) {
                    while (flushAt[i] <= t) {
                        flush(i, flushAt[i]);
                        flushAt[i] += w;
                    }
                }
            }
        }

        private void arrive(int node, long t) {
            boolean counted = t >= WARMUP;
            Outcome e = TokenBucket.decide(full, exact, 1, t);
            if (e.write() != null) {
                exact = e.write();
            }
            if (counted) {
                checks++;
                if (e.decision().allowed()) {
                    exactAdmitted++;
                    exactAt = add(exactAt, exactCount++, t);
                }
            }
            switch (s) {
                case PER_CHECK -> {
                    calls++;
                    decided(TokenBucket.decide(full, store, 1, t), t, t);
                }
                case COALESCE -> {
                    if (heldCount[node] == 0) {
                        sendAt[node] = t + w;
                    }
                    if (heldCount[node] == held[node].length) {
                        held[node] = Arrays.copyOf(held[node], heldCount[node] * 2);
                    }
                    held[node][heldCount[node]++] = t;
                }
                case LEASE -> lease(node, t);
                case ASYNC -> {
                    if (view[node] > 0) {
                        view[node]--;
                        owes[node]++;
                        admit(t, t);
                    }
                }
            }
        }

        /** Coalesce: one call takes as many of the node's held checks as the store has tokens for. */
        private void send(int node, long t) {
            calls++;
            long k = takeUpTo(heldCount[node], t);
            for (int i = 0; i < heldCount[node]; i++) {
                long arrived = held[node][i];
                if (arrived >= WARMUP) {
                    waitSum += t - arrived;
                    waited++;
                    waitMax = Math.max(waitMax, t - arrived);
                }
                if (i < k) {
                    admit(t, arrived);
                }
            }
            heldCount[node] = 0;
            sendAt[node] = Long.MAX_VALUE;
        }

        /** Lease: admit from the node's lease; past its end, give back what is left and take the next. */
        private void lease(int node, long t) {
            seen[node]++;
            if (t < leaseEnd[node]) {
                if (have[node] > 0) {
                    have[node]--;
                    admit(t, t);
                }
                return;
            }
            calls++;
            if (have[node] > 0) {
                Outcome back = TokenBucket.refund(full, store, have[node], t);
                if (back.write() != null) {
                    store = back.write().isEmpty() ? null : back.write();
                }
            }
            // the node's rate over its last window (this check included), as a lease of w
            long window = seenBefore[node];
            seenBefore[node] = seen[node];
            seen[node] = 0;
            long ask = Math.max(1, Math.max(window, seenBefore[node]));
            long got = takeUpTo(ask, t);
            have[node] = got;
            leaseEnd[node] = t + Math.max(1, w);
            if (have[node] > 0) {
                have[node]--;
                admit(t, t);
            }
        }

        /**
         * One store call that takes as many as {@code want} tokens as the bucket has (the "take up to k"
         * script coalescing and leasing would need); how many it took.
         */
        private long takeUpTo(long want, long t) {
            long k = Math.min(TokenBucket.decide(full, store, 0, t).decision().remaining(), want);
            if (k <= 0) {
                return 0;
            }
            Outcome o = TokenBucket.decide(full, store, k, t);
            if (!o.decision().allowed() || o.write() == null) {
                return 0;
            }
            store = o.write();
            return k;
        }

        /** Async: what the node admitted since its last flush, taken whole; its view becomes what is left. */
        private void flush(int node, long t) {
            if (owes[node] == 0 && view[node] > 0) {
                return;
            }
            calls++;
            Outcome o = owes[node] > 0
                    ? TokenBucket.charge(full, store, owes[node], t)
                    : TokenBucket.decide(full, store, 0, t);
            if (o.write() != null) {
                store = o.write();
            }
            owes[node] = 0;
            view[node] = o.decision().remaining();
        }

        private void decided(Outcome o, long t, long arrived) {
            if (o.write() != null) {
                store = o.write();
            }
            if (o.decision().allowed()) {
                admit(t, arrived);
            }
        }

        /** An admission answered at {@code t} of a check that arrived at {@code arrived}. */
        private void admit(long t, long arrived) {
            if (arrived < WARMUP) {
                return;
            }
            admitted++;
            admittedAt = add(admittedAt, admittedCount++, t);
        }

        private static long[] add(long[] a, int i, long v) {
            long[] out = i == a.length ? Arrays.copyOf(a, a.length * 2) : a;
            out[i] = v;
            return out;
        }
    }
}
