package dev.sluice.sim;

import dev.sluice.config.FailureMode;
import dev.sluice.core.Limit;
import dev.sluice.core.Outcome;
import dev.sluice.core.TokenBucket;
import dev.sluice.region.GlobalBucket;
import dev.sluice.region.RegionMode;
import dev.sluice.region.RegionShares;
import dev.sluice.region.RegionState;
import dev.sluice.resilience.Membership;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * One {@link Scenario} in virtual time, deterministic for a seed. Each region's store holds one
 * global subject: under {@link Scenario.Mode#SLUICE} its bucket and region state, decided by the
 * project's own twins — {@link GlobalBucket} (prelude.lua's global part and token_bucket.lua),
 * {@link RegionState} (region.lua) and {@link RegionShares} — and synced as {@code RegionSync} does:
 * every S, {@code min(20 ms, S/10)} after the period's end, a region probes the peers it could not
 * reach, claims the period's demand ({@code ship}), sends it to the peers it can reach, which
 * {@code apply} it on arrival, and records what they took ({@code acked}). A region's nodes share
 * its store, so the region decides as one; each node runs its own sync every S (the first to claim a
 * period ships it), as RegionSync's ticker does. Beside it, one exact token bucket is fed every check at
 * the same time: what a single limiter would have admitted.
 *
 * <p>A region's checks go to its nodes in turn (a load balancer's round robin). A {@link
 * Scenario.Outage} takes one region's store away for a while: its checks are decided by the failure
 * mode, in-process under {@code local} ({@link Membership#share}, {@link RegionMode#regionLimit},
 * the node's bucket a {@link TokenBucket}, as {@code InProcessStore} keeps it), and each node's
 * debt is charged to the store ({@link GlobalBucket#charge}) before its first check after the store
 * is back, as {@code FailureModes} does it.
 *
 * <p>Not modelled: a node's over-limit cache, the store's latency (the region's checks are decided
 * at their arrival), the time the breaker takes to judge a store down (each check of an outage goes
 * to the failure mode at once), a peer's expiry (runs are shorter than its default hour), and how
 * many subjects a batch carries.
 */
public final class Simulation {
    /** RegionSync's default: a shipment not answered within it failed. */
    static final long SHIP_TIMEOUT_MICROS = 2_000_000;

    /** A cut link refuses a connection at once (as a Toxiproxy proxy that is disabled does). */
    static final long REFUSED_MICROS = 1_000;

    private final Scenario sc;
    private final SplittableRandom random;
    private final Limit full;
    private final long end;
    private final long rate; // checks per second over all regions, for the arrival gaps
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private long sequence;

    // the regions
    private final int n;
    private final String[] names;
    private final String[] buckets;
    private final RegionState[] states;
    private final boolean[][][] reachable;
    /** Per region, node and peer: until when a call to that peer is unanswered (the peer is busy). */
    private final long[][][] busyUntil;

    private final long[] demandPeriod;
    private final long[] demandNow;
    private final long[] demandLast;
    private final long[][] lastSent;
    private final long[] consumed;
    private final long floor;
    private final Limit split;

    // the arrivals
    private final long[] next;
    private final boolean[] real;

    // the exact bucket and what is measured
    private String exact;
    private long checks;
    private long admitted;
    private long exactAdmitted;
    private final long[] regionChecks;
    private final long[] regionAdmitted;
    private long[] admittedAt = new long[1 << 12];
    private int admittedCount;
    private int[] admittedIn = new int[1 << 12];
    private long[] exactAt = new long[1 << 12];
    private int exactCount;
    private long charged;

    // the nodes: whose turn it is, and the local failure mode's state per region and node
    private final int[] turn;
    private final long[][] lastLeft;
    private final Limit[][] localShare;
    private final String[][] localBucket;
    private final String[][] seedBucket;
    private long decided;
    private long messages;

    private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
        }
    }

    private Simulation(Scenario sc, long seed) {
        this.sc = sc;
        this.random = new SplittableRandom(seed);
        this.full = new Limit(sc.limit(), sc.limit(), sc.windowMicros() / 1000);
        this.end = sc.warmupMicros() + sc.measureMicros();
        this.rate = Math.max(1, Math.round(sc.load() * sc.limit() * 1e6 / sc.windowMicros()));
        this.n = sc.regions();
        this.names = new String[n];
        for (int i = 0; i < n; i++) {
            names[i] = "r" + i;
        }
        this.buckets = new String[n];
        this.states = new RegionState[n];
        this.floor = RegionShares.floorDemand(full, sc.syncMicros(), sc.shareFloor(), n);
        long phi = RegionShares.guaranteed(sc.shareFloor(), n);
        for (int i = 0; i < n; i++) {
            List<String> peers = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    peers.add(names[j]);
                }
            }
            states[i] = new RegionState(new RegionState.Config(
                    sc.syncMicros(), n, floor, phi, Long.MAX_VALUE / 4, Long.MAX_VALUE / 4, peers));
        }
        this.reachable = new boolean[n][sc.nodes()][n];
        for (boolean[][] region : reachable) {
            for (boolean[] row : region) {
                Arrays.fill(row, true);
            }
        }
        this.demandPeriod = new long[n];
        this.demandNow = new long[n];
        this.demandLast = new long[n];
        this.lastSent = new long[n][sc.nodes()];
        this.busyUntil = new long[n][sc.nodes()][n];
        this.consumed = new long[n];
        long share = Math.max(1, sc.limit() / n);
        this.split = new Limit(share, share, sc.windowMicros() / 1000);
        this.next = new long[n];
        this.real = new boolean[n];
        this.regionChecks = new long[n];
        this.regionAdmitted = new long[n];
        this.turn = new int[n];
        this.lastLeft = new long[n][sc.nodes()];
        for (long[] row : lastLeft) {
            Arrays.fill(row, -1);
        }
        this.localShare = new Limit[n][sc.nodes()];
        this.localBucket = new String[n][sc.nodes()];
        this.seedBucket = new String[n][sc.nodes()];
    }

    /** Runs {@code sc} with {@code seed}. */
    public static Result run(Scenario sc, long seed) {
        return new Simulation(sc, seed).run();
    }

    private Result run() {
        long started = System.nanoTime();
        for (int i = 0; i < n; i++) {
            double gap = gap(i, 0);
            next[i] = Double.isInfinite(gap) ? 10_000 : (long) (random.nextDouble() * gap);
            real[i] = !Double.isInfinite(gap);
        }
        if (sc.mode() != Scenario.Mode.STATIC && n > 1) {
            long offset = Math.min(20_000, sc.syncMicros() / 10);
            for (int i = 0; i < n; i++) {
                for (int node = 0; node < (sc.mode() == Scenario.Mode.SLUICE ? sc.nodes() : 1); node++) {
                    int region = i;
                    int which = node;
                    // every node's ticker is aligned to the sync period (its clock within a millisecond)
                    long due = sc.syncMicros() + offset + random.nextLong(1_000);
                    schedule(due, () -> tick(region, which, due));
                }
            }
        }
        while (true) {
            int r = 0;
            for (int i = 1; i < n; i++) {
                if (next[i] < next[r]) {
                    r = i;
                }
            }
            long t = next[r];
            Event e = events.peek();
            if (e != null && e.at() <= t) {
                events.poll();
                if (e.at() >= end) {
                    break;
                }
                eventTime = e.at();
                e.action().run();
                continue;
            }
            if (t >= end) {
                break;
            }
            if (real[r]) {
                check(r, t);
            }
            double gap = gap(r, t);
            if (Double.isInfinite(gap)) {
                next[r] = t + 10_000;
                real[r] = false;
            } else {
                next[r] = t + Math.max(1, Math.round(sc.poisson() ? -Math.log(1 - random.nextDouble()) * gap : gap));
                real[r] = true;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        return Result.of(
                sc,
                sc.limit(),
                checks,
                admitted,
                exactAdmitted,
                Arrays.copyOf(admittedAt, admittedCount),
                Arrays.copyOf(exactAt, exactCount),
                Arrays.copyOf(admittedIn, admittedCount),
                regionChecks,
                regionAdmitted,
                messages,
                charged,
                decided / Math.max(seconds, 1e-9));
    }

    /** The mean gap (µs) between region {@code r}'s arrivals at {@code t}; infinite when it has none. */
    private double gap(int r, long t) {
        double w = sc.traffic().weight(r, n, t);
        return w <= 0 ? Double.POSITIVE_INFINITY : 1e6 / (rate * w);
    }

    private void schedule(long at, Runnable action) {
        events.add(new Event(at, sequence++, action));
    }

    private boolean measured(long t) {
        return t >= sc.warmupMicros();
    }

    private void check(int r, long t) {
        decided++;
        boolean counted = measured(t);
        Outcome exactly = TokenBucket.decide(full, exact, 1, t);
        if (exactly.write() != null) {
            exact = exactly.write();
        }
        int node = turn[r];
        turn[r] = (node + 1) % sc.nodes();
        Scenario.Outage outage = sc.outage();
        boolean down = outage != null && outage.down(r, t);
        if (!down && localShare[r][node] != null) {
            reconcile(r, node, t);
        }
        Outcome o = down
                ? fallback(outage, r, node, t)
                : switch (sc.mode()) {
                    case SLUICE -> {
                        // the region's demand of the current sync period, as the region state counts it
                        long k = Math.floorDiv(t, sc.syncMicros());
                        if (demandPeriod[r] != k) {
                            demandLast[r] = demandPeriod[r] == k - 1 ? demandNow[r] : 0;
                            demandNow[r] = 0;
                            demandPeriod[r] = k;
                        }
                        demandNow[r]++;
                        yield GlobalBucket.check(
                                full, states[r], buckets[r], 1, t, RegionShares.initial(n), sc.syncMicros());
                    }
                    case REPLICATION -> TokenBucket.decide(full, buckets[r], 1, t);
                    case STATIC -> TokenBucket.decide(split, buckets[r], 1, t);
                };
        if (down) {
            // decided without the store: nothing written to it
        } else {
            if (o.write() != null) {
                buckets[r] = o.write();
            }
            // what the store last told this node was left (FailureModes.remember)
            lastLeft[r][node] = o.decision().remaining();
        }
        boolean allowed = o.decision().allowed();
        if (allowed && sc.mode() == Scenario.Mode.REPLICATION) {
            consumed[r]++;
        }
        if (!counted) {
            return;
        }
        checks++;
        regionChecks[r]++;
        if (exactly.decision().allowed()) {
            exactAdmitted++;
            if (exactCount == exactAt.length) {
                exactAt = Arrays.copyOf(exactAt, exactCount * 2);
            }
            exactAt[exactCount++] = t;
        }
        if (allowed) {
            admitted++;
            regionAdmitted[r]++;
            if (admittedCount == admittedAt.length) {
                admittedAt = Arrays.copyOf(admittedAt, admittedCount * 2);
                admittedIn = Arrays.copyOf(admittedIn, admittedCount * 2);
            }
            admittedIn[admittedCount] = r;
            admittedAt[admittedCount++] = t;
        }
    }

    /**
     * A check of region {@code r}'s node while its store does not answer, by the failure mode
     * (FailureModes.decide): under {@code local} the node's first such check makes its bucket — the
     * region's last known share, divided among its nodes, seeded from what the store last told the
     * node was left (scaled to the node's share), with a shadow of the seed alone — and every check
     * takes one unit from it.
     */
    private Outcome fallback(Scenario.Outage outage, int r, int node, long t) {
        if (outage.failure() != FailureMode.LOCAL) {
            boolean open = outage.failure() == FailureMode.OPEN;
            return new Outcome(new dev.sluice.core.Decision(open, full.burst(), 0, 0, 0, t), null, -1);
        }
        if (localShare[r][node] == null) {
            Limit region = outage.wholeLimit()
                    ? full
                    : RegionMode.regionLimit(
                            full,
                            sc.mode() == Scenario.Mode.SLUICE
                                    ? states[r].share(t, RegionShares.initial(n))
                                    : RegionShares.SCALE);
            Limit share = Membership.share(region, sc.nodes());
            localShare[r][node] = share;
            long left = lastLeft[r][node];
            long seed = left < 0
                    ? 0
                    : share.burst() - Math.min(share.burst(), Math.max(0, left) * share.burst() / region.burst());
            localBucket[r][node] = null;
            seedBucket[r][node] = null;
            if (seed > 0) {
                localBucket[r][node] = TokenBucket.decide(share, null, seed, t).write();
                seedBucket[r][node] = TokenBucket.decide(share, null, seed, t).write();
            }
        }
        Outcome o = TokenBucket.decide(localShare[r][node], localBucket[r][node], 1, t);
        if (o.write() != null) {
            localBucket[r][node] = o.write();
        }
        return new Outcome(o.decision(), null, -1);
    }

    /**
     * FailureModes.reconcile, before the node's first check after its store is back: what the local
     * bucket still counts as used beyond what its seed still counts (at most one burst of the whole
     * limit) is charged to the store, whole.
     */
    private void reconcile(int r, int node, long t) {
        Limit share = localShare[r][node];
        long seedLeft =
                TokenBucket.decide(share, seedBucket[r][node], 0, t).decision().remaining();
        long left =
                TokenBucket.decide(share, localBucket[r][node], 0, t).decision().remaining();
        long used = Math.min(full.burst(), seedLeft - left);
        localShare[r][node] = null;
        localBucket[r][node] = null;
        seedBucket[r][node] = null;
        if (used <= 0) {
            return;
        }
        charged += used;
        Outcome o = sc.mode() == Scenario.Mode.SLUICE
                ? GlobalBucket.charge(full, states[r], buckets[r], used, t, RegionShares.initial(n), sc.syncMicros())
                : TokenBucket.charge(full, buckets[r], used, t);
        if (o.write() != null) {
            buckets[r] = o.write();
        }
        lastLeft[r][node] = o.decision().remaining();
    }

    /** Whether region {@code r}'s store does not answer at {@code t}. */
    private boolean storeDown(int r, long t) {
        return sc.outage() != null && sc.outage().down(r, t);
    }

    /** Whether a call from {@code a} to {@code b} at {@code t} is refused at once (a cut that is not a black hole). */
    private boolean refused(int a, int b, long t) {
        for (Scenario.Partition p : sc.partitions()) {
            if (!p.blackhole() && p.cuts(a, b, t)) {
                return true;
            }
        }
        return false;
    }

    private boolean up(int a, int b, long t) {
        for (Scenario.Partition p : sc.partitions()) {
            if (p.cuts(a, b, t)) {
                return false;
            }
        }
        return true;
    }

    private long oneWay() {
        long half = sc.rttMicros() / 2;
        long j = sc.jitterMicros() == 0 ? 0 : random.nextLong(-sc.jitterMicros(), sc.jitterMicros() + 1);
        return Math.max(0, half + j);
    }

    private boolean lost() {
        return sc.loss() > 0 && random.nextDouble() < sc.loss();
    }

    /**
     * One node's sync, due at {@code due}, every S as RegionSync's ticker runs it: the peers it could
     * not reach are probed first, and the shipment waits for their answers at most S/4; a peer with a
     * call still unanswered from an earlier sync is left out (neither probed nor shipped to); what
     * each peer took is recorded as soon as it answers.
     */
    private void tick(int r, int node, long due) {
        long t = eventTime;
        schedule(due + sc.syncMicros(), () -> tick(r, node, due + sc.syncMicros()));
        if (sc.mode() == Scenario.Mode.REPLICATION) {
            replicate(r, t);
            return;
        }
        if (storeDown(r, t)) {
            // its claim (region.lua's ship) fails: nothing shipped, nobody probed
            return;
        }
        boolean[] reach = reachable[r][node];
        long[] busy = busyUntil[r][node];
        long shipAt = t;
        for (int p = 0; p < n; p++) {
            if (p == r || reach[p] || busy[p] > t) {
                continue;
            }
            messages++;
            if (refused(r, p, t)) {
                shipAt = Math.max(shipAt, t + REFUSED_MICROS);
                continue;
            }
            long there = oneWay();
            long back = oneWay();
            boolean lostThere = lost();
            boolean lostBack = lost();
            if (lostThere || lostBack || !up(r, p, t) || !up(p, r, t + there) || there + back > SHIP_TIMEOUT_MICROS) {
                busy[p] = t + SHIP_TIMEOUT_MICROS;
                shipAt = Math.max(shipAt, t + Math.min(SHIP_TIMEOUT_MICROS, sc.syncMicros() / 4));
            } else if (storeDown(p, t + there)) {
                // answered with an error (the peer cannot write what it is sent): still unreachable
                busy[p] = t + there + back;
                shipAt = Math.max(shipAt, t + Math.min(there + back, sc.syncMicros() / 4));
            } else if (there + back <= sc.syncMicros() / 4) {
                reach[p] = true;
                shipAt = Math.max(shipAt, t + there + back);
            } else {
                // answers after the shipment went: shipped to from the next sync
                int peer = p;
                busy[p] = t + there + back;
                schedule(t + there + back, () -> reach[peer] = true);
                shipAt = Math.max(shipAt, t + sc.syncMicros() / 4);
            }
        }
        long at = shipAt;
        if (at == t) {
            ship(r, node, t);
        } else {
            schedule(at, () -> ship(r, node, at));
        }
    }

    /** The time of the event being run. */
    private long eventTime;

    /** RegionSync.shipTo for the one subject: claim, send to the reachable peers that are not busy, record what each took. */
    private void ship(int r, int node, long t) {
        if (storeDown(r, t)) {
            return;
        }
        long k = Math.floorDiv(t, sc.syncMicros());
        long demand = demandPeriod[r] == k ? demandLast[r] : demandPeriod[r] == k - 1 ? demandNow[r] : 0;
        // a subject the peers hold at most f of, asked little of: not claimed (nothing would be sent)
        if (lastSent[r][node] <= floor && demand <= floor) {
            return;
        }
        boolean[] reach = reachable[r][node];
        long[] busy = busyUntil[r][node];
        List<String> to = new ArrayList<>();
        List<Integer> toIndex = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            if (p != r && reach[p] && busy[p] <= t) {
                to.add(names[p]);
                toIndex.add(p);
            }
        }
        RegionState.Ship claim = states[r].ship(to, t);
        if (!claim.claimed()) {
            return;
        }
        boolean send = claim.demand() > floor || lastSent[r][node] > floor;
        if (!send || to.isEmpty()) {
            return;
        }
        lastSent[r][node] = claim.demand();
        boolean raise = claim.raise() && claim.demand() > floor;
        for (int p : toIndex) {
            messages++;
            int peer = p;
            if (refused(r, p, t)) {
                schedule(t + REFUSED_MICROS, () -> reach[peer] = false);
                continue;
            }
            long there = oneWay();
            boolean delivered = up(r, p, t) && !lost();
            if (delivered && storeDown(p, t + there)) {
                // the peer answers with an error: not taken, and it is unreachable until a probe is
                long answered = t + there + oneWay();
                busy[p] = Math.max(busy[p], answered);
                schedule(answered, () -> reach[peer] = false);
                continue;
            }
            if (delivered) {
                long arrives = t + there;
                schedule(arrives, () -> states[peer].apply(names[r], claim.period(), claim.demand(), arrives));
                long back = oneWay();
                if (!lost() && up(p, r, arrives) && there + back <= SHIP_TIMEOUT_MICROS) {
                    long answered = arrives + back;
                    busy[p] = Math.max(busy[p], answered);
                    if (raise) {
                        schedule(
                                answered,
                                () -> states[r].acked(claim.period(), claim.demand(), List.of(names[peer]), answered));
                    }
                    continue;
                }
            }
            busy[p] = Math.max(busy[p], t + SHIP_TIMEOUT_MICROS);
            schedule(t + SHIP_TIMEOUT_MICROS, () -> reach[peer] = false);
        }
    }

    /** Counter replication: what this region admitted since its last sync, taken from every peer's bucket on arrival. */
    private void replicate(int r, long t) {
        long units = consumed[r];
        consumed[r] = 0;
        if (units == 0) {
            return;
        }
        for (int p = 0; p < n; p++) {
            if (p == r) {
                continue;
            }
            messages++;
            if (!up(r, p, t) || lost()) {
                continue;
            }
            long arrives = t + oneWay();
            int peer = p;
            schedule(arrives, () -> {
                Outcome o = TokenBucket.charge(full, buckets[peer], units, arrives);
                if (o.write() != null) {
                    buckets[peer] = o.write();
                }
            });
        }
    }
}
