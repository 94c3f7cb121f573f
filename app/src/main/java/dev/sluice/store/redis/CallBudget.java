package dev.sluice.store.redis;

import dev.sluice.store.StoreTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long a store call may take before its caller stops waiting — and why a late answer alone is
 * not a failure. A call that has not answered within the budget ({@code
 * limiter.redis.command-timeout}, 10 ms) is <em>late</em>; it fails (with a {@link
 * StoreTimeoutException}, and the policy's failure mode decides) only when the node that serves it
 * is shown to be sick, or when the wait reaches a hard cap:
 *
 * <ul>
 *   <li>The node is pinged on a connection and an I/O thread of the probe's own ({@link
 *       StoreProbe}). If the ping answers within its time, the node answers promptly and the call
 *       is only queued — behind other checks in this service, in the connection, or in Redis — so
 *       it is waited for. An answer is trusted for half a budget ({@link #TRUST_BUDGETS}): while
 *       calls stay late, the node is pinged at most twice a budget. A call caught by a fault just
 *       after a good answer is so failed within budget + trust + probe timeout (35 ms by default).
 *   <li>A ping's time is the probe timeout ({@code limiter.redis.probe-timeout}, 20 ms), counted
 *       from when the probe wrote it. When it is up, the verdict is taken on the probe's thread
 *       after it has read whatever has arrived ({@link StoreProbe#afterReads}): an answer that
 *       reached this host in time but waited for a busy CPU counts as an answer.
 *   <li>If the pinged node answered at least {@code limiter.redis.busy-queue} (16) of this
 *       service's calls meanwhile (it works through a queue that the ping waits behind), or if the
 *       store is <em>busy</em> then — this service sent it at least {@code
 *       limiter.redis.busy-rate} calls (200) in the current second or the one before, while some
 *       task of this host waited for a CPU for at least a quarter of the ping's wait ({@link
 *       HostPressure}, Linux's pressure stall information; no reading counts as contended) or
 *       while, at five times the busy rate, at least {@code limiter.redis.busy-queue} (16) of its
 *       calls to the pinged node await their answers — the ping is given another probe timeout, and so on up to {@code
 *       limiter.redis.busy-probe-timeout} (250 ms) in all. A Redis driven hard on a host short of
 *       CPU (or this service's reading of its answers) waits for a CPU, and is seen silent for
 *       more than 100 ms with no fault at all (measured here, with Redis on the same 2 vCPUs: 36
 *       to 184 ms); a Redis working through the commands queued ahead of the ping answers it after
 *       them (seen: 20.3 ms while the host's CPU stall was just under a quarter of the wait). A
 *       quiet store, or one on a host with CPU to spare and no queue, is judged on the probe
 *       timeout.
 *   <li>A ping unanswered at its verdict makes the node sick (down, blackholed, stalled, or slower
 *       than the ping's time for everyone): every late call it serves fails now, each later one as
 *       soon as it is late; the node is pinged again at once (a node silent for one ping's time
 *       only is trusted again soon), then every {@link #SICK_PING_BUDGETS} budgets, until a ping
 *       answers in time.
 *   <li>No call waits longer than the cap ({@code limiter.redis.wait-cap}, 1 s), whatever the pings
 *       say.
 * </ul>
 *
 * <p>A busy node or store therefore does not turn into degraded decisions, while a store that is
 * down, stalled or slow is found within budget + probe timeout of a call (30 ms by default; up to
 * budget + the busy probe timeout, 260 ms, while it is busy) and then, while it stays sick, each
 * call within the budget. A store slower than that is failed over to the policy's failure mode;
 * one slower by less is waited for. A connection error still fails a call at once (that is the
 * call's own outcome, not the budget's).
 *
 * <p>The command itself is left to finish or to fail in Lettuce; a {@link StoreTimeoutException}
 * carries the call ({@link StoreTimeoutException#late()}) so that the caller can settle a consume
 * whose answer came after it was decided by its failure mode.
 *
 * <p>Mechanics: every call of a store has the same budget, so deadlines come due in the order the
 * calls were made. They wait in one lock-free FIFO queue, and one daemon thread ({@code
 * sluice-store-budget}) sleeps until the oldest unfinished call's deadline (or a ping's), judges the
 * late calls, and drops the finished ones on its way. Registering a call is one queue insert;
 * finishing it costs nothing here; the thread does not wake while no call waits and no node is
 * sick. Why not {@code CompletableFuture.orTimeout} or a timer wheel: docs/benchmarks.md (the first
 * woke JDK 25's delay scheduler for every call, 11 % of the service's CPU; the second ticks a
 * thousand times a second forever).
 */
public final class CallBudget implements AutoCloseable, dev.sluice.store.StoreLoad {
    private static final Logger LOG = LoggerFactory.getLogger(CallBudget.class);

    /** While a node is sick it is pinged every this many budgets, to learn that it answers again. */
    public static final int SICK_PING_BUDGETS = 10;

    /**
     * How long a ping's good answer vouches for the late calls of its node, in budgets. Short, because
     * it adds to the time a call caught by a fault right after the answer waits: at one budget the
     * chaos suite's 50 ms latency toxic met answers 40–50 ms late; pings are cheap (their own socket
     * and thread, an {@code ECHO} Redis answers in microseconds).
     */
    static final double TRUST_BUDGETS = 0.5;

    /**
     * How many probe timeouts a ping the probe has not yet written (connecting, or its thread not
     * yet run) is given before its verdict.
     */
    private static final int UNSENT_PROBES = 5;

    /**
     * A ping whose time is up is given longer (up to the busy probe timeout) if, since it was sent,
     * some task of this host waited for a CPU at least this share of the time.
     */
    static final double BUSY_SHARE = 0.25;

    /**
     * A ping whose whole wait (this share of it or more) some task of this host spent waiting for a
     * CPU is given longer at any rate: the silence cannot be told from the host's own. Measured:
     * fresh nodes under 1,000-bursts on a host with a compiler running, pings silent for 20.1 and
     * 22.7 ms with the stall at 101–102 % of the wait and 35–46 calls/s (the burst still being
     * parsed by a cold JVM): 23 × 503 and one over-admission before this rule; 16 calls were
     * outstanding on the node. Asked with the busy queue only: the chaos suite's 50 ms latency
     * fault on a stalled host saw 90 % and more too, with 2–3 calls outstanding, and without the
     * queue condition its detection took a probe timeout longer (p99 71.9 ms, bound 60).
     */
    static final double STALLED_SHARE = 0.9;

    /**
     * A queue on the pinged node earns the longer ping only at this many times the busy rate (1,000
     * calls/s by default). With the rule at any busy rate, the chaos suite's 50 ms latency toxic
     * cell for {@code local} twice reached a p99 of 56 ms (bound 50): a slow link builds a queue
     * too (Little's law: ~150–200 calls/s × 50 ms and the late calls held back), so a queue is
     * evidence of load only at a rate no slow link at chaos rates reaches; the saturation that
     * needed the rule drove 1,472 calls/s with 35–103 outstanding.
     */
    static final int QUEUE_RATE_FACTOR = 5;

    private static final long SECOND_NANOS = 1_000_000_000L;

    /** A sick node is no longer pinged once no call to it was late for this long. */
    private static final long FORGET_NANOS = 30_000_000_000L;

    private final long nanos;
    private final long trustNanos;
    private final long capNanos;
    private final long probeNanos;
    private final StoreProbe probe;
    private final long busyProbeNanos;
    private final HostPressure pressure;
    private final long busyRate;
    private final int busyQueue;
    /** Calls made, and the second they are counted in ({@link #count}). */
    private final LongAdder calls = new LongAdder();

    private volatile long secondStart = System.nanoTime();
    private volatile long callsBefore;
    private volatile long previousSecond;

    private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
    private final Map<Object, NodeHealth> nodes = new ConcurrentHashMap<>();
    private volatile Thread sweeper;
    /**
     * When the sweeper will look again: a call due earlier must wake it. {@code Long.MAX_VALUE}
     * while it judges (a call made meanwhile wakes it, so the next sleep ends at once) and while it
     * sleeps with nothing to wait for.
     */
    private volatile long wakeAt = Long.MAX_VALUE;

    private volatile boolean closed;

    /** A call waiting for its answer: when it was made, the stage its caller holds, its first key. */
    private static final class Pending {
        final long start;
        final CompletableFuture<?> bounded;
        final CompletionStage<?> call;
        final String key;
        /** The node serving the call, found once the call is late; read by the thread that completes it. */
        volatile Object node;

        Pending(long start, CompletableFuture<?> bounded, CompletionStage<?> call, String key) {
            this.start = start;
            this.bounded = bounded;
            this.call = call;
            this.key = key;
        }
    }

    /**
     * What the pings of one node said. Changed under its own lock, by the sweeper (a ping sent, a
     * verdict asked for) and by the probe's I/O thread (an answer, a verdict).
     */
    private static final class NodeHealth {
        final Object node;
        /** The ping in flight, 0 for none; an answer or verdict for another ping is ignored. */
        long ping;

        long pings;
        long pingSent;
        boolean verdictAsked;
        /** Whether the probe has said when it wrote the ping in flight. */
        boolean written;
        /** When the last ping answered, {@code Long.MIN_VALUE} for never. */
        long okAt = Long.MIN_VALUE;
        /** Whether the last ping went unanswered in time (or failed). */
        boolean sick;
        /** When a call to the node was last found late. */
        long lastLate;
        /** How long the ping in flight is given, from when it was written. */
        long timeout;
        /** The host's CPU stall total when the ping in flight was sent (µs; negative: unknown). */
        long stalledAtPing;
        /** Whether the node was found sick since it last answered a ping: it is pinged again at once, once. */
        boolean retry;
        /** Answers of this service's calls that the node gave (counted once a call's node is known). */
        final LongAdder answers = new LongAdder();
        /** {@link #answers} when the ping in flight was sent or its verdict last put off. */
        long answersSeen;

        NodeHealth(Object node) {
            this.node = node;
        }
    }

    /** No budget: every call is returned as it is (and no thread is ever started). */
    public static final CallBudget NONE = new CallBudget(Duration.ZERO);

    /**
     * A plain deadline: a call not answered within {@code budget} fails then (no probe, no cap).
     *
     * @param budget the time a call may take; zero or negative for none (calls are returned as they are)
     */
    public CallBudget(Duration budget) {
        this(
                budget,
                budget,
                Duration.ZERO,
                Duration.ZERO,
                Integer.MAX_VALUE,
                Integer.MAX_VALUE,
                HostPressure.NONE,
                StoreProbe.NONE);
    }

    /**
     * @param budget the time after which a call is late and its node is pinged; zero or negative
     *     for none (calls are returned as they are)
     * @param cap the longest a call is waited for while its node answers pings
     * @param probeTimeout how soon a ping must answer for the node to count as answering promptly
     *     while the store answers quickly
     * @param busyProbeTimeout the longest a ping is given while the store is busy ({@link #busy})
     * @param busyRate how many calls a second make the store busy
     * @param busyQueue how many calls awaiting their answers from one node make it busy on any host
     * @param pressure how long this host's tasks waited for a CPU ({@link HostPressure#NONE}: never
     *     give a ping longer than the probe timeout)
     * @param probe pings the node that serves a call
     */
    public CallBudget(
            Duration budget,
            Duration cap,
            Duration probeTimeout,
            Duration busyProbeTimeout,
            int busyRate,
            int busyQueue,
            HostPressure pressure,
            StoreProbe probe) {
        this.nanos = Math.max(0, budget.toNanos());
        this.trustNanos = (long) (nanos * TRUST_BUDGETS);
        this.capNanos = Math.max(nanos, cap.toNanos());
        this.probeNanos = Math.max(0, probeTimeout.toNanos());
        this.busyProbeNanos = Math.max(probeNanos, busyProbeTimeout.toNanos());
        this.busyRate = Math.max(0, busyRate);
        this.busyQueue = Math.max(1, busyQueue);
        this.pressure = pressure;
        this.probe = probe;
    }

    /** Opens the probe's connections before the first call can be late ({@link StoreProbe#warmUp}). */
    public CompletionStage<Void> warmUp() {
        return probe.warmUp();
    }

    /** The budget in milliseconds (0: none). */
    public long millis() {
        return nanos / 1_000_000;
    }

    /** As {@link #bound(CompletionStage, String)} for a call without a key (its node: any). */
    public <T> CompletionStage<T> bound(CompletionStage<T> call) {
        return bound(call, null);
    }

    /**
     * A stage that completes as {@code call} does or, if the store is found sick while the call is
     * late or the cap runs out first, fails with a {@link StoreTimeoutException}. As {@code
     * CompletableFuture.copy()}: a failed call's error arrives wrapped in a {@link
     * CompletionException}. After {@link #close} (the service stopping), calls are returned without
     * a budget.
     *
     * @param key the call's first key (which node serves it; encoded only if the call is late), or null
     */
    public <T> CompletionStage<T> bound(CompletionStage<T> call, String key) {
        if (nanos == 0 || closed) {
            return call;
        }
        CompletableFuture<T> bounded = new CompletableFuture<>();
        Pending p = new Pending(System.nanoTime(), bounded, call, key);
        count(p.start);
        pending.offer(p);
        Thread s = sweeper;
        if (s == null) {
            start();
        } else {
            long w = wakeAt;
            if (w == Long.MAX_VALUE || p.start + nanos - w < 0) {
                LockSupport.unpark(s);
            }
        }
        call.whenComplete((value, error) -> {
            if (error != null) {
                bounded.completeExceptionally(
                        error instanceof CompletionException ? error : new CompletionException(error));
            } else {
                bounded.complete(value);
                countAnswer(p);
            }
        });
        return bounded;
    }

    /**
     * Counts a check this node answered without a store call (the over-limit cache) into the busy
     * rate: the node is as loaded as if it had called, and a ping's silence as likely its host's.
     * Measured: three nodes behind haproxy at saturation, most checks answered from the cache, each
     * node's store calls under the busy rate while the host's CPU stall was 15–23 ms of a ping's
     * 20 ms — healthy nodes judged sick, 43–296 degraded answers per run.
     */
    @Override
    public void answeredWithoutStore() {
        if (nanos != 0 && !closed) {
            count(System.nanoTime());
        }
    }

    /**
     * Counts the answer of a call whose node is known (a late call, or one counted as outstanding):
     * evidence that the node works through its queue ({@link #busy}).
     */
    private void countAnswer(Pending p) {
        Object node = p.node;
        if (node != null) {
            NodeHealth h = nodes.get(node);
            if (h != null) {
                h.answers.increment();
            }
        }
    }

    /** Counts a call into the current second; starts a new second when this one is over. */
    private void count(long now) {
        calls.increment();
        if (now - secondStart >= SECOND_NANOS) {
            synchronized (calls) {
                long began = secondStart;
                if (now - began >= SECOND_NANOS) {
                    long sum = calls.sum();
                    previousSecond = now - began >= 2 * SECOND_NANOS ? 0 : sum - callsBefore;
                    callsBefore = sum;
                    secondStart = now;
                }
            }
        }
    }

    /**
     * What a late ping's verdict is taken on, read once: the same figures decide and are logged.
     *
     * @param waitedMicros how long the ping has waited since it was written
     * @param now calls made in the current second
     * @param before calls made in the second before
     * @param stallMicros how long some task of this host waited for a CPU meanwhile; negative: unknown
     * @param outstanding this service's calls to the node awaiting their answers (counted up to the
     *     busy queue)
     * @param answered the node's answers to this service's calls since the ping was sent or its
     *     verdict last put off
     */
    private record Evidence(
            long waitedMicros, long now, long before, long stallMicros, int outstanding, long answered) {
        @Override
        public String toString() {
            return "ping unanswered for " + waitedMicros + " µs (calls/s " + now + " now, " + before + " before;"
                    + " host CPU stall " + stallMicros + " µs; " + outstanding + " calls outstanding; "
                    + answered + " answered meanwhile)";
        }
    }

    private Evidence evidence(NodeHealth h, long now, long waitedNanos) {
        long stalled = h.stalledAtPing < 0 ? -1 : pressure.stalledMicros();
        long answers = h.answers.sum();
        return new Evidence(
                waitedNanos / 1_000,
                currentSecond(now),
                previousSecond,
                stalled < 0 ? -1 : stalled - h.stalledAtPing,
                outstanding(h.node, busyQueue),
                answers - h.answersSeen);
    }

    /**
     * Whether a silence of the node may be its queue's or this host's, not the node's own:
     *
     * <ul>
     *   <li>the node answered at least the busy queue of this service's calls since the ping was
     *       sent or its verdict last put off — it works through a queue that the ping, written on
     *       another connection, waits behind (a node that is down, blackholed or stalled answers
     *       none; one behind a slow link answers at the rate it is called, a few per probe timeout
     *       at the rates that do not make a store busy) — measured: 3 nodes at -c256 on a slowed
     *       host, a ping unanswered for 21 ms with the host's stall under a quarter of it and 18
     *       calls outstanding, 138 degraded answers when this rule was missing;
     *   <li>or some task of this host waited for a CPU for (nearly) the whole of the ping's wait
     *       ({@link #STALLED_SHARE}) while the busy queue of calls to the node await their answers,
     *       at any rate (a cold node under a burst; a chaos fault on a stalled host had 2–3);
     *   <li>or the store is driven hard (at least the busy rate of calls in the current second or
     *       the one before) while this host's CPUs are contended (some task waited for a CPU {@link
     *       #BUSY_SHARE} of the ping's wait; or no reading), or while at {@link #QUEUE_RATE_FACTOR}
     *       times the rate the busy queue of calls to the node await their answers or were answered
     *       since the ping (measured: a -c256 run's ping silent for 22 ms with 15 calls outstanding
     *       and 14 answered meanwhile, the stall 23 % of the wait — each rule missed by a hair, 16
     *       degraded answers).
     * </ul>
     */
    private boolean busy(Evidence e) {
        if (e.answered() >= busyQueue) {
            return true;
        }
        if (e.stallMicros() >= 0
                && e.stallMicros() >= STALLED_SHARE * e.waitedMicros()
                && e.outstanding() >= busyQueue) {
            return true;
        }
        if (Math.max(e.now(), e.before()) < busyRate) {
            return false;
        }
        // the queue rule counts the calls of both seconds: a burst that straddles the start of a
        // new second (or takes more than one on a slow host) is still the burst it is — measured:
        // 1,000 concurrent checks of one key on a slowed host, its pings judged on the probe
        // timeout alone, 72 degraded answers
        return e.stallMicros() < 0
                || e.stallMicros() * 1_000.0 >= BUSY_SHARE * e.waitedMicros() * 1_000.0
                || (e.now() + e.before() >= QUEUE_RATE_FACTOR * busyRate
                        && e.outstanding() + e.answered() >= busyQueue);
    }

    /**
     * How many of this service's calls to {@code node} are still waiting for their answer, counted
     * up to {@code enough}. Each is work the node does before it can answer a ping written after it
     * on another connection (Redis serves every connection's buffered commands in turn).
     */
    private int outstanding(Object node, int enough) {
        int n = 0;
        for (Pending p : pending) {
            if (!p.bounded.isDone() && node.equals(node(p)) && ++n >= enough) {
                break;
            }
        }
        return n;
    }

    /** Calls made in the current second so far (0 once it is more than a second old). */
    private long currentSecond(long now) {
        return now - secondStart >= 2 * SECOND_NANOS ? 0 : calls.sum() - callsBefore;
    }

    /** The node serving a call, found once. */
    private Object node(Pending p) {
        Object node = p.node;
        if (node == null) {
            node = p.key == null ? "any" : probe.nodeFor(p.key.getBytes(StandardCharsets.UTF_8));
            p.node = node;
        }
        return node;
    }

    private synchronized void start() {
        if (sweeper == null && !closed) {
            Thread t = new Thread(this::sweep, "sluice-store-budget");
            t.setDaemon(true);
            sweeper = t;
            t.start();
        }
    }

    private void sweep() {
        while (!closed) {
            wakeAt = Long.MAX_VALUE; // a call made while judging wakes the sleep that follows
            long wake = judge(System.nanoTime());
            wakeAt = wake;
            if (wake == Long.MAX_VALUE) {
                LockSupport.park(this); // a new call, a ping's answer or a verdict unparks
                continue;
            }
            long wait = wake - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
            }
        }
    }

    /**
     * One pass over the calls that are due: drops the finished ones, fails the late ones whose node
     * is sick or whose cap has run out, pings for the others; then asks for the verdicts of pings
     * whose time is up and pings the sick nodes again when due. Answers when to look again.
     */
    private long judge(long now) {
        long wake = Long.MAX_VALUE;
        Iterator<Pending> it = pending.iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (p.bounded.isDone()) {
                it.remove();
                continue;
            }
            long deadline = p.start + nanos;
            if (now < deadline) {
                wake = Math.min(wake, deadline); // the rest are younger
                break;
            }
            long cap = p.start + capNanos;
            if (now >= cap) {
                it.remove();
                p.bounded.completeExceptionally(new StoreTimeoutException(StoreTimeoutException.Reason.CAP, p.call));
                continue;
            }
            if (late(p, now)) {
                it.remove();
                p.bounded.completeExceptionally(new StoreTimeoutException(StoreTimeoutException.Reason.SICK, p.call));
            } else {
                wake = Math.min(wake, cap);
            }
        }
        for (NodeHealth h : nodes.values()) {
            wake = Math.min(wake, tend(h, now));
        }
        return wake;
    }

    /** A late call: whether to fail it now (its node is sick); else it waits for a ping's answer. */
    private boolean late(Pending p, long now) {
        NodeHealth h = nodes.computeIfAbsent(node(p), NodeHealth::new);
        synchronized (h) {
            h.lastLate = now;
            if (h.sick) {
                return true;
            }
            if (h.okAt != Long.MIN_VALUE && now - h.okAt < trustNanos) {
                return false; // the node answered a ping just now: the call is queued
            }
            if (h.ping == 0) {
                ping(h, now);
            }
            return false;
        }
    }

    /**
     * A node's pings: asks for the verdict of a ping whose time is up, pings a sick node again when
     * due. Answers when the node needs looking at again ({@code Long.MAX_VALUE}: not by itself).
     */
    private long tend(NodeHealth h, long now) {
        synchronized (h) {
            if (h.ping != 0) {
                long due = h.pingSent + (h.written ? h.timeout : Math.max(h.timeout, UNSENT_PROBES * probeNanos));
                if (now < due) {
                    return due;
                }
                if (!h.verdictAsked) {
                    h.verdictAsked = true;
                    long ping = h.ping;
                    probe.afterReads(h.node, () -> verdict(h, ping));
                }
                return Long.MAX_VALUE; // the verdict wakes the sweeper
            }
            if (!h.sick) {
                if (h.lastLate == now) {
                    return h.okAt + trustNanos; // a call waits on this answer: ping again when it is stale
                }
                if (now - h.lastLate > FORGET_NANOS) {
                    nodes.remove(h.node, h);
                }
                return Long.MAX_VALUE;
            }
            if (now - h.lastLate > FORGET_NANOS) {
                nodes.remove(h.node, h); // a sick node no call needs any more (e.g. replaced in a failover)
                return Long.MAX_VALUE;
            }
            long due = h.retry ? now : h.pingSent + SICK_PING_BUDGETS * nanos;
            if (now < due) {
                return due;
            }
            h.retry = false;
            ping(h, now);
            return now + h.timeout;
        }
    }

    /**
     * Sends a ping; called with {@code h}'s lock held. Its time runs from when the probe wrote it
     * ({@link #sent}); until the probe says so, from now, with {@link #UNSENT_PROBES} probe timeouts.
     */
    private void ping(NodeHealth h, long now) {
        long ping = ++h.pings;
        h.ping = ping;
        h.timeout = probeNanos;
        h.stalledAtPing = pressure.stalledMicros();
        h.answersSeen = h.answers.sum();
        h.pingSent = now;
        h.written = false;
        h.verdictAsked = false;
        CompletionStage<?> answer;
        try {
            answer = probe.ping(h.node, at -> sent(h, ping, at));
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((ok, error) -> answered(h, ping, error));
    }

    /** The probe wrote the ping at {@code at}: its time runs from there. */
    private void sent(NodeHealth h, long ping, long at) {
        synchronized (h) {
            if (h.ping == ping) {
                h.pingSent = at;
                h.written = true;
            }
        }
        wakeSweeper();
    }

    /** A ping's answer (or failure), if it came before its verdict. */
    private void answered(NodeHealth h, long ping, Throwable error) {
        synchronized (h) {
            if (h.ping != ping) {
                return;
            }
            h.ping = 0;
            if (error == null) {
                h.okAt = System.nanoTime();
            } else {
                LOG.atLevel(!h.sick ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG)
                        .log("Store node {} judged sick: its ping failed ({})", h.node, error.toString());
            }
            h.sick = error != null;
        }
        wakeSweeper();
    }

    /** The probe timeout is up and the probe has read what arrived: no answer yet means sick. */
    private void verdict(NodeHealth h, long ping) {
        synchronized (h) {
            if (h.ping != ping) {
                return; // answered in time after all
            }
            long now = System.nanoTime();
            long waited = now - h.pingSent;
            Evidence evidence = evidence(h, now, waited);
            if (waited < busyProbeNanos && busy(evidence)) {
                // Redis works through queued calls ahead of the ping, or is driven hard while the
                // host's CPUs are short (Redis, or this service's reading of its answer, may be
                // waiting for a CPU): look again a probe timeout on
                h.timeout = Math.min(busyProbeNanos, waited + probeNanos);
                h.answersSeen += evidence.answered();
                h.verdictAsked = false;
                wakeSweeper();
                return;
            }
            // a node's first sick verdict since it last answered is logged at INFO with the evidence
            // it was taken on (once per change; later ones at debug), so that a wrong one can be
            // told from the log
            LOG.atLevel(!h.sick ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG)
                    .log("Store node {} judged sick: {}", h.node, evidence);
            h.ping = 0;
            // a first sick verdict is checked at once by another ping, so that a node that was
            // silent for one ping's time only is trusted again without waiting for the sick pings
            h.retry = !h.sick;
            h.sick = true;
        }
        wakeSweeper();
    }

    private void wakeSweeper() {
        Thread s = sweeper;
        if (s != null) {
            LockSupport.unpark(s);
        }
    }

    /** Stops the sweeper; calls still waiting are no longer timed out. */
    @Override
    public void close() {
        closed = true;
        Thread s = sweeper;
        if (s != null) {
            LockSupport.unpark(s);
        }
    }
}
