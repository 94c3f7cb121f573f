package dev.sluice.plans;

import dev.sluice.config.PlansProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable record of usage by API key: admitted units are added up in memory per (account,
 * day) and (account, month) and written to PostgreSQL ({@code usage_ledger}) every {@code
 * limiter.plans.ledger-flush} (1 s), as batches named by this node and a sequence number, so a
 * retried batch is never counted twice. While the database cannot be written, batches wait in
 * memory (at most {@code ledger-buffer} entries; beyond that the newest usage is dropped, counted
 * in {@code sluice_ledger_dropped_units_total} and logged — never silently) and are written in order
 * when it answers again. Checks never wait for any of this.
 *
 * <p>The ledger is what a missing quota counter starts from ({@link #seed}): the totals the
 * database holds for the periods this node is using (re-read after each flush) plus what this node
 * has not written yet. What a flushed or restarted Redis can lose is therefore the usage the other
 * nodes admitted in their last flush interval, at most.
 */
@Context
@Requires(beans = DataSource.class)
public class UsageLedger {
    private static final Logger LOG = LoggerFactory.getLogger(UsageLedger.class);

    /** An account's usage of one period: {@code d:<yyyy-mm-dd>} or {@code m:<yyyy-mm>}. */
    public record Period(String account, String period) {}

    /**
     * This node's record of one {@link Period}, found once per check ({@link #tally}) and then added
     * to without any further lookup. Counts only grow: {@code recorded} is every admitted unit
     * recorded here, {@code taken} what the flush has put into batches so far, {@code settled} what
     * of that has been written (or dropped when the buffer was full), {@code durable} the database's
     * total for the period (all nodes) as last read, plus what this node wrote since. So the flush
     * needs no lock against recorders: a unit added while it reads goes into the next batch.
     */
    public static final class Tally {
        private final Period period;
        private final LongAdder recorded = new LongAdder();
        private long taken; // the flush thread's only
        private volatile long settled;
        private final AtomicLong durable = new AtomicLong();
        /** Whether {@code durable} holds the database's total (read once, then after every flush). */
        private volatile boolean known;

        Tally(Period period) {
            this.period = period;
        }

        /** Recorded here and not yet written: batches waiting, and units not yet in a batch. */
        long unwritten() {
            return recorded.sum() - settled;
        }
    }

    /** Checks of one key in one minute. */
    private record Minute(String keyId, String plan, java.time.Instant minute) {}

    /** One denial kept in full. */
    private record Violation(
            java.time.Instant at, String keyId, String account, String plan, String policy, String client) {}

    private record Batch(long seq, Map<Tally, Long> units, Map<Minute, long[]> minutes, List<Violation> violations) {}

    /** Denials kept in full per key and minute; the rest are only counted. */
    static final int VIOLATIONS_PER_KEY_MINUTE = 5;

    private volatile ConcurrentHashMap<Minute, LongAdder[]> minutes = new ConcurrentHashMap<>();
    private volatile java.util.concurrent.ConcurrentLinkedQueue<Violation> violations =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private long flushes;
    private final java.time.Duration retention;

    private final DataSource dataSource;
    private final String node;
    private final dev.sluice.core.NodeClock clock;
    private final AtomicLong seq = new AtomicLong();
    private final int maxPending;
    private final Deque<Batch> pending = new ArrayDeque<>();
    /** The periods in use here: their usage recorded here and their totals in the database. */
    private final ConcurrentHashMap<Period, Tally> tallies = new ConcurrentHashMap<>();

    private final AtomicLong adjustments = new AtomicLong();
    private final java.util.concurrent.locks.ReentrantReadWriteLock swap =
            new java.util.concurrent.locks.ReentrantReadWriteLock();
    private final Counter written;
    private final Counter failed;
    private final Counter dropped;
    private final ScheduledExecutorService flusher;
    /** Reads the totals of periods new to this node ({@link #learn}), apart from the flushes. */
    private final java.util.concurrent.ExecutorService reader;

    private volatile boolean failing;
    /** Every how many flushes this node folds its rows ({@code limiter.plans.ledger-compact}, {@link #compact}). */
    private final long compactEvery;

    public UsageLedger(
            DataSource dataSource,
            io.micronaut.jdbc.DataSourceResolver resolver,
            PlansProperties properties,
            dev.sluice.config.NodeIdentity node,
            dev.sluice.core.NodeClock clock,
            MeterRegistry meters) {
        this.clock = clock;
        // the pool itself: the ledger opens its own connections off the request path, outside the
        // contextual (transaction-bound) connection the injected proxy expects
        this.dataSource = resolver.resolve(dataSource);
        this.maxPending = Math.max(1, properties.getLedgerBuffer());
        this.retention = properties.getRetention();
        this.node = node.id();
        Gauge.builder("sluice.ledger.pending.units", this, UsageLedger::pendingUnits)
                .description("Admitted units not yet written to the usage ledger (waiting for the database)")
                .register(meters);
        this.written = Counter.builder("sluice.ledger.batches")
                .tag("result", "written")
                .description("Usage batches written to the ledger")
                .register(meters);
        this.failed = Counter.builder("sluice.ledger.batches")
                .tag("result", "failed")
                .description("Attempts to write usage batches that failed (kept, retried)")
                .register(meters);
        this.dropped = Counter.builder("sluice.ledger.dropped.units")
                .description("Units that could not be buffered while the database was unreachable")
                .register(meters);
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-usage-ledger");
            t.setDaemon(true);
            return t;
        });
        this.reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sluice-ledger-totals");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(10, properties.getLedgerFlush().toMillis());
        this.compactEvery = Math.max(1, properties.getLedgerCompact().toMillis() / every);
        var unused = flusher.scheduleWithFixedDelay(this::flush, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Records how a check by API key ended: the {@code units} it was admitted for (0 when denied) in
     * the account's day and month (the tallies {@link #tally} gave for the check), and, under the
     * swap lock, for the usage analytics ({@code usage_minutes}), the key's admitted or denied count of
     * the minute; a denial is kept in the violation log — at most {@value #VIOLATIONS_PER_KEY_MINUTE}
     * per key and minute in full, so that a flood of denials cannot flood the log (all are counted).
     */
    public void checked(
            Tally day,
            Tally month,
            long units,
            String keyId,
            String plan,
            String policy,
            String client,
            java.time.Instant now) {
        boolean admitted = policy == null;
        java.time.Instant minute = now.truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
        if (admitted && units > 0) {
            day.recorded.add(units);
            month.recorded.add(units);
            if (stopped) {
                afterStop(units);
            }
        }
        String account = day.period.account();
        swap.readLock().lock(); // many recorders at once; only the flush's swap excludes them
        try {
            LongAdder[] counts = minutes.computeIfAbsent(
                    new Minute(keyId, plan, minute), k -> new LongAdder[] {new LongAdder(), new LongAdder()});
            counts[admitted ? 0 : 1].increment();
            if (!admitted && counts[1].sum() <= VIOLATIONS_PER_KEY_MINUTE) {
                violations.add(new Violation(now, keyId, account, plan, policy, client));
            }
        } finally {
            swap.readLock().unlock();
        }
    }

    /**
     * The tally of an account's {@code period}, made on first use (its database total is then read
     * at the next flush): one lookup per period and check, which {@link #seed} and {@link #checked}
     * then use.
     */
    public Tally tally(String account, String period) {
        Period p = new Period(account, period);
        Tally t = tallies.get(p);
        return t != null ? t : tallies.computeIfAbsent(p, Tally::new);
    }

    /** What a missing counter of the tally's period starts from: the database's total plus what is not written yet. */
    public long seed(Tally t) {
        return t.durable.get() + t.unwritten();
    }

    /** Whether the database's total of the tally's period has been read here, so that {@link #seed} includes it. */
    public boolean known(Tally t) {
        return t.known;
    }

    /**
     * Reads the database's totals of the periods of {@code tallies} not known here yet, on a thread
     * of the ledger's own (a node's first check of an account's day or month waits for it: one
     * query per account and period in the node's life, then every flush re-reads them). Completes
     * also when the database cannot be read — at once while it is known to be failing — and those
     * periods' missing counters then start from what this node recorded, logged.
     */
    public java.util.concurrent.CompletionStage<Void> learn(Tally... tallies) {
        List<Tally> unknown = new ArrayList<>(tallies.length);
        for (Tally t : tallies) {
            if (t != null && !t.known && !unknown.contains(t)) {
                unknown.add(t);
            }
        }
        if (unknown.isEmpty()) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        if (failing) {
            unreadTotals(unknown, "the database is failing");
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        return java.util.concurrent.CompletableFuture.runAsync(() -> read(unknown), reader);
    }

    private void read(List<Tally> unknown) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT coalesce(sum(units), 0) FROM usage_totals WHERE account = ? AND period = ?")) {
            s.setQueryTimeout(2);
            for (Tally t : unknown) {
                if (t.known) {
                    continue;
                }
                s.setString(1, t.period.account());
                s.setString(2, t.period.period());
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    t.durable.set(r.getLong(1));
                    t.known = true;
                }
            }
        } catch (SQLException | RuntimeException e) {
            unreadTotals(unknown, e.toString());
        }
    }

    /** When {@link #unreadTotals} last logged (nanoTime): at most one line per 10 s. */
    private final AtomicLong unreadLoggedAt = new AtomicLong(Long.MIN_VALUE);

    private void unreadTotals(List<Tally> unknown, String why) {
        long now = System.nanoTime();
        long last = unreadLoggedAt.get();
        if (last != Long.MIN_VALUE && now - last < TimeUnit.SECONDS.toNanos(10)
                || !unreadLoggedAt.compareAndSet(last, now)) {
            return;
        }
        LOG.warn(
                "The usage ledger's totals of {} could not be read ({}): a quota counter missing from the store"
                        + " starts from this node's usage only until the next flush reads them",
                unknown.getFirst().period,
                why);
    }

    /**
     * What the ledger holds for {@code period} now: the database's total, read at once (throws when
     * the database cannot be reached), plus what this node has not written yet.
     */
    public long total(String account, String period) throws SQLException {
        Tally t = tallies.get(new Period(account, period));
        long mine = t == null ? 0 : t.unwritten();
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT coalesce(sum(units), 0) FROM usage_totals WHERE account = ? AND period = ?")) {
            s.setString(1, account);
            s.setString(2, period);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1) + mine;
            }
        }
    }

    /**
     * Takes {@code units} off the ledger's total of each period at once, in one transaction (a reset
     * of the account's quota): a negative row, so that a counter rebuilt from the ledger honours it.
     */
    public void takeOff(String account, Map<String, Long> unitsByPeriod) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement s = c.prepareStatement(
                    "WITH ins AS (INSERT INTO usage_ledger (node, seq, account, period, units) VALUES (?, ?, ?, ?, ?)"
                            + " RETURNING account, period, units) " + ADD_TO_TOTALS)) {
                long n = adjustments.incrementAndGet();
                for (Map.Entry<String, Long> e : unitsByPeriod.entrySet()) {
                    if (e.getValue() <= 0) {
                        continue;
                    }
                    s.setString(1, "reset:" + node);
                    s.setLong(2, n);
                    s.setString(3, account);
                    s.setString(4, e.getKey());
                    s.setLong(5, -e.getValue());
                    s.addBatch();
                }
                s.executeBatch();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        unitsByPeriod.forEach((period, units) -> {
            Tally t = tallies.get(new Period(account, period));
            if (t != null) {
                t.durable.addAndGet(-units);
            }
        });
    }

    /** Admitted units recorded here and not yet in the database. */
    public long pendingUnits() {
        long n = 0;
        for (Tally t : tallies.values()) {
            if (t.period.period().startsWith("d:")) { // each unit once: the day and the month both carry it
                n += t.unwritten();
            }
        }
        return n;
    }

    /**
     * Writes what this node has recorded, now, on the caller's thread: for a runtime that freezes the
     * process between requests (AWS Lambda), where the write-behind flush would not run until the
     * next request, if ever. Returns whether nothing is left unwritten (false: the database did not
     * answer; the usage stays buffered, as with any failed flush).
     */
    public synchronized boolean flushNow() {
        if (pending.isEmpty() && pendingUnits() == 0 && minutes.isEmpty() && violations.isEmpty()) {
            return true; // nothing recorded since the last flush: no round trip
        }
        flush();
        return pending.isEmpty() && pendingUnits() == 0;
    }

    synchronized void flush() {
        // what was recorded since the last flush: no lock, counts only grow (a unit added meanwhile
        // is taken by the next flush)
        Map<Tally, Long> units = new HashMap<>();
        for (Tally t : tallies.values()) {
            long r = t.recorded.sum();
            if (r != t.taken) {
                units.put(t, r - t.taken);
                t.taken = r;
            }
        }
        ConcurrentHashMap<Minute, LongAdder[]> takenMinutes;
        java.util.concurrent.ConcurrentLinkedQueue<Violation> takenViolations;
        swap.writeLock().lock();
        try {
            takenMinutes = minutes;
            minutes = new ConcurrentHashMap<>();
            takenViolations = violations;
            violations = new java.util.concurrent.ConcurrentLinkedQueue<>();
        } finally {
            swap.writeLock().unlock();
        }
        if (!units.isEmpty() || !takenMinutes.isEmpty()) {
            Map<Minute, long[]> counted = new HashMap<>();
            takenMinutes.forEach((m, c) -> counted.put(m, new long[] {c[0].sum(), c[1].sum()}));
            List<Violation> kept = new ArrayList<>(takenViolations);
            int buffered = pending.stream().mapToInt(b -> b.units().size()).sum();
            if (buffered + units.size() > maxPending) {
                long lost = units.values().stream().mapToLong(Long::longValue).sum() / 2;
                dropped.increment(lost);
                units.forEach((p, n) -> forget(p, n, false));
                LOG.error(
                        "Usage ledger buffer full ({} entries): {} admitted unit(s) could not be kept; the database"
                                + " has been unreachable too long",
                        buffered,
                        lost);
            } else {
                pending.addLast(new Batch(seq.incrementAndGet(), units, counted, kept));
            }
        }
        while (!pending.isEmpty()) {
            Batch b = pending.peekFirst();
            try {
                write(b);
            } catch (SQLException | RuntimeException e) {
                failed.increment();
                if (!failing) {
                    failing = true;
                    LOG.warn(
                            "Usage ledger: the database cannot be written ({}); usage is buffered ({} unit(s)) and"
                                    + " written when it answers",
                            e.toString(),
                            pendingUnits());
                }
                return;
            }
            pending.removeFirst();
            written.increment();
            b.units().forEach((p, n) -> forget(p, n, true));
            if (failing) {
                failing = false;
                LOG.info("Usage ledger: the database answers again; buffered usage written");
            }
        }
        refreshTotals();
        // here no batch of this node is in doubt: every one was written and acknowledged
        if (++flushes % compactEvery == 0) {
            compact(node, Long.MAX_VALUE);
        }
        if (flushes % 3600 == 1) {
            compactOthers();
            expire();
        }
    }

    /**
     * Folds the rows node {@code who} wrote into the ledger and the minute analytics, batch by batch,
     * into one row per (account, period) and one per (key, minute) under sequence number 0, keeping
     * every sum (one transaction; the running totals do not change): the batches below sequence
     * number {@code below}. Without it both tables grow by a row per account, period (or key,
     * minute) and node every second: 2,000 ledger rows a second for 1,000 busy accounts.
     *
     * <p>Safe only for batches not in doubt: a folded batch retried would count twice, since its
     * (node, seq) rows are gone. A node writes its batches in order, each only once the one before
     * was acknowledged, so every batch of a node below its newest one in the tables is settled
     * ({@link #compactOthers}); and in this node's flush thread with nothing pending, all of its own
     * are ({@code below} = {@link Long#MAX_VALUE}). Minutes of one key under two plans (a key moved
     * between plans within a minute) fold into one row under either plan.
     */
    void compact(String who, long below) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement l = c.prepareStatement("WITH moved AS (DELETE FROM usage_ledger WHERE node = ?"
                            + " AND seq > 0 AND seq < ? RETURNING account, period, units, recorded_at)"
                            + " INSERT INTO usage_ledger (node, seq, account, period, units, recorded_at)"
                            + " SELECT ?, 0, account, period, sum(units), max(recorded_at) FROM moved"
                            + " GROUP BY account, period HAVING sum(units) <> 0"
                            + " ON CONFLICT (node, seq, account, period) DO UPDATE SET"
                            + " units = usage_ledger.units + excluded.units,"
                            + " recorded_at = greatest(usage_ledger.recorded_at, excluded.recorded_at)");
                    PreparedStatement m = c.prepareStatement("WITH moved AS (DELETE FROM usage_minutes WHERE node = ?"
                            + " AND seq > 0 AND seq < ? RETURNING key_id, plan, minute, admitted, denied)"
                            + " INSERT INTO usage_minutes (node, seq, key_id, plan, minute, admitted, denied)"
                            + " SELECT ?, 0, key_id, max(plan), minute, sum(admitted), sum(denied) FROM moved"
                            + " GROUP BY key_id, minute"
                            + " ON CONFLICT (node, seq, key_id, minute) DO UPDATE SET"
                            + " admitted = usage_minutes.admitted + excluded.admitted,"
                            + " denied = usage_minutes.denied + excluded.denied")) {
                for (PreparedStatement s : List.of(l, m)) {
                    s.setString(1, who);
                    s.setLong(2, below);
                    s.setString(3, who);
                    s.executeUpdate();
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Usage ledger: folding the rows of {} failed (tried again later)", who, e);
        }
    }

    /**
     * Folds the rows of every other node (one that restarted under a new name, or one that folds
     * rarely) but its newest batch, which may still be in doubt ({@link #compact}). Hourly.
     */
    public void compactOthers() {
        Map<String, Long> newest = new HashMap<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement s =
                        c.prepareStatement("SELECT node, max(seq) FROM (SELECT node, seq FROM usage_ledger"
                                + " WHERE seq > 0 AND node NOT LIKE 'reset:%' UNION ALL"
                                + " SELECT node, seq FROM usage_minutes WHERE seq > 0) b GROUP BY node");
                ResultSet r = s.executeQuery()) {
            while (r.next()) {
                newest.put(r.getString(1), r.getLong(2));
            }
        } catch (SQLException | RuntimeException e) {
            return; // tried again in an hour
        }
        newest.remove(node);
        newest.forEach(this::compact);
    }

    /** Drops analytics and violations older than {@code limiter.plans.retention} (the ledger keeps 400 days). */
    private void expire() {
        java.time.Instant cutoff = clock.now().minus(retention);
        try (Connection c = dataSource.getConnection();
                PreparedStatement a = c.prepareStatement("DELETE FROM usage_minutes WHERE minute < ?");
                PreparedStatement v = c.prepareStatement("DELETE FROM violations WHERE at < ?");
                PreparedStatement l = c.prepareStatement("DELETE FROM usage_ledger WHERE recorded_at < ?");
                PreparedStatement t =
                        c.prepareStatement("DELETE FROM usage_totals WHERE (period LIKE 'd:%' AND period < ?)"
                                + " OR (period LIKE 'm:%' AND period < ?)")) {
            a.setObject(1, java.sql.Timestamp.from(cutoff));
            v.setObject(1, java.sql.Timestamp.from(cutoff));
            l.setObject(1, java.sql.Timestamp.from(clock.now().minus(java.time.Duration.ofDays(400))));
            java.time.LocalDate old =
                    java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(400);
            t.setString(1, "d:" + old);
            t.setString(2, "m:" + java.time.YearMonth.from(old));
            long dropped = a.executeUpdate() + v.executeUpdate() + l.executeUpdate() + t.executeUpdate();
            if (dropped > 0) {
                LOG.info("Retention: {} row(s) older than {} removed", dropped, retention);
            }
        } catch (SQLException | RuntimeException e) {
            // tried again in an hour
        }
    }

    /**
     * A written (or dropped) amount leaves the unwritten tally; a written one joins the database's
     * total at once (the next re-read confirms it), so {@link #seed} never dips. The pending count
     * loses each unit once (day and month both carry it).
     */
    private void forget(Tally t, long n, boolean wasWritten) {
        if (wasWritten) {
            t.durable.addAndGet(n);
        }
        t.settled += n; // the flush thread's alone (flush is synchronized)
    }

    private void write(Batch b) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                // multi-row INSERTs, up to ROWS_PER_STATEMENT rows each: one statement per chunk, not per row
                List<Object[]> units = new ArrayList<>(b.units().size());
                for (Map.Entry<Tally, Long> e : b.units().entrySet()) {
                    Period p = e.getKey().period;
                    units.add(new Object[] {node, b.seq(), p.account(), p.period(), e.getValue()});
                }
                insertRows(
                        c,
                        "WITH ins AS (INSERT INTO usage_ledger (node, seq, account, period, units) VALUES ",
                        5,
                        units,
                        " ON CONFLICT DO NOTHING RETURNING account, period, units) " + ADD_TO_TOTALS);
                List<Object[]> minuteRows = new ArrayList<>(b.minutes().size());
                for (Map.Entry<Minute, long[]> e : b.minutes().entrySet()) {
                    minuteRows.add(new Object[] {
                        node,
                        b.seq(),
                        e.getKey().keyId(),
                        e.getKey().plan(),
                        java.sql.Timestamp.from(e.getKey().minute()),
                        e.getValue()[0],
                        e.getValue()[1]
                    });
                }
                insertRows(
                        c,
                        "INSERT INTO usage_minutes (node, seq, key_id, plan, minute, admitted, denied) VALUES ",
                        7,
                        minuteRows,
                        " ON CONFLICT DO NOTHING");
                // (node, seq, n) names each kept denial: a retried batch logs none twice
                if (!b.violations().isEmpty()) {
                    try (PreparedStatement v = c.prepareStatement(
                            "INSERT INTO violations (at, key_id, account, plan, policy, client_address, node, seq, n)"
                                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                        int n = 0;
                        for (Violation x : b.violations()) {
                            v.setObject(1, java.sql.Timestamp.from(x.at()));
                            v.setString(2, x.keyId());
                            v.setString(3, x.account());
                            v.setString(4, x.plan());
                            v.setString(5, x.policy());
                            v.setString(6, x.client());
                            v.setString(7, node);
                            v.setLong(8, b.seq());
                            v.setInt(9, n++);
                            v.addBatch();
                        }
                        v.executeBatch();
                    }
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
    }

    static final int ROWS_PER_STATEMENT = 500;

    /** Adds the rows a ledger INSERT really inserted ({@code ins}) to the running totals. */
    private static final String ADD_TO_TOTALS = "INSERT INTO usage_totals (account, period, units)"
            + " SELECT account, period, sum(units) FROM ins GROUP BY account, period"
            + " ON CONFLICT (account, period) DO UPDATE SET units = usage_totals.units + excluded.units";

    /** {@code head} + "(?, ...), (?, ...)" + {@code tail} for each chunk of {@code rows}. */
    private static void insertRows(Connection c, String head, int columns, List<Object[]> rows, String tail)
            throws SQLException {
        String one = "(" + String.join(", ", java.util.Collections.nCopies(columns, "?")) + ")";
        for (int from = 0; from < rows.size(); from += ROWS_PER_STATEMENT) {
            List<Object[]> chunk = rows.subList(from, Math.min(rows.size(), from + ROWS_PER_STATEMENT));
            String sql = head + String.join(", ", java.util.Collections.nCopies(chunk.size(), one)) + tail;
            try (PreparedStatement s = c.prepareStatement(sql)) {
                int i = 1;
                for (Object[] row : chunk) {
                    for (Object v : row) {
                        s.setObject(i++, v);
                    }
                }
                s.executeUpdate();
            }
        }
    }

    /** Re-reads the database's totals of the periods in use here (after the writes, so they include them). */
    private void refreshTotals() {
        // periods long over are no longer asked for (zones are at most 14 h from UTC)
        String oldestDay =
                "d:" + java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(2);
        String oldestMonth =
                "m:" + java.time.YearMonth.now(java.time.ZoneOffset.UTC).minusMonths(2);
        // a tally of a period two days or months over, all of it written, is dropped (no check records
        // to a period that long over: a check's tally is that of the day it was decided in)
        tallies.values()
                .removeIf(t ->
                        t.period.period().compareTo(t.period.period().startsWith("d:") ? oldestDay : oldestMonth) < 0
                                && t.unwritten() == 0);
        if (tallies.isEmpty()) {
            return;
        }
        List<Period> wanted = new ArrayList<>(tallies.keySet());
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT account, period, units FROM usage_totals"
                        + " WHERE account = ANY (?) AND period = ANY (?)")) {
            s.setArray(
                    1,
                    c.createArrayOf(
                            "text",
                            wanted.stream().map(Period::account).distinct().toArray()));
            s.setArray(
                    2,
                    c.createArrayOf(
                            "text",
                            wanted.stream().map(Period::period).distinct().toArray()));
            Map<Period, Long> totals = new HashMap<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    totals.put(new Period(r.getString(1), r.getString(2)), r.getLong(3));
                }
            }
            for (Period p : wanted) {
                Tally t = tallies.get(p);
                if (t != null) {
                    t.durable.set(totals.getOrDefault(p, 0L));
                    t.known = true;
                }
            }
        } catch (SQLException | RuntimeException e) {
            // the last totals stay; the next flush tries again
        }
    }

    /** Set when the node stops: usage admitted after the last flush cannot be written any more. */
    private volatile boolean stopped;

    /**
     * A check admitted after the ledger's last flush (the HTTP server's graceful shutdown answers
     * every check it took before the ledger stops, so only a check still running past the grace
     * period gets here): its units are lost from the durable record — counted and logged, never
     * silently.
     */
    private void afterStop(long units) {
        dropped.increment(units);
        LOG.warn(
                "{} unit(s) of usage admitted after the usage ledger's last flush at shutdown are not written"
                        + " (sluice_ledger_dropped_units_total)",
                units);
    }

    @PreDestroy
    void stop() {
        flusher.shutdownNow();
        reader.shutdownNow();
        stopped = true;
        flush(); // best effort: what can be written now is not lost with the node
    }
}
