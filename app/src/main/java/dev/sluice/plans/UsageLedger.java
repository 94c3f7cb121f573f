package dev.sluice.plans;

import dev.sluice.config.PlansProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
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

    private record Batch(long seq, Map<Period, Long> units) {}

    private final DataSource dataSource;
    private final String node;
    private final AtomicLong seq = new AtomicLong();
    private final int maxPending;
    private volatile ConcurrentHashMap<Period, LongAdder> current = new ConcurrentHashMap<>();
    private final Deque<Batch> pending = new ArrayDeque<>();
    /** Usage not yet in the database, by period: recorded and not yet written. */
    private final ConcurrentHashMap<Period, LongAdder> unwritten = new ConcurrentHashMap<>();
    /** What the database holds for the periods in use here (all nodes), as last read. */
    private final ConcurrentHashMap<Period, Long> durable = new ConcurrentHashMap<>();

    private final AtomicLong pendingUnits = new AtomicLong();
    private final java.util.concurrent.locks.ReentrantReadWriteLock swap =
            new java.util.concurrent.locks.ReentrantReadWriteLock();
    private final Counter written;
    private final Counter failed;
    private final Counter dropped;
    private final ScheduledExecutorService flusher;
    private volatile boolean failing;

    public UsageLedger(
            DataSource dataSource,
            io.micronaut.jdbc.DataSourceResolver resolver,
            PlansProperties properties,
            MeterRegistry meters) {
        // the pool itself: the ledger opens its own connections off the request path, outside the
        // contextual (transaction-bound) connection the injected proxy expects
        this.dataSource = resolver.resolve(dataSource);
        this.maxPending = Math.max(1, properties.getLedgerBuffer());
        byte[] id = new byte[6];
        new SecureRandom().nextBytes(id);
        this.node = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
        Gauge.builder("sluice.ledger.pending.units", pendingUnits, AtomicLong::get)
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
        long every = Math.max(10, properties.getLedgerFlush().toMillis());
        var unused = flusher.scheduleWithFixedDelay(this::flush, every, every, TimeUnit.MILLISECONDS);
    }

    /** Records {@code units} admitted for {@code account} in its current day and month. */
    public void record(String account, String dayPeriod, String monthPeriod, long units) {
        if (units <= 0) {
            return;
        }
        swap.readLock().lock(); // many recorders at once; only the flush's swap excludes them
        try {
            for (String period : new String[] {dayPeriod, monthPeriod}) {
                Period p = new Period(account, period);
                current.computeIfAbsent(p, k -> new LongAdder()).add(units);
                unwritten.computeIfAbsent(p, k -> new LongAdder()).add(units);
                durable.putIfAbsent(p, 0L);
            }
            pendingUnits.addAndGet(units);
        } finally {
            swap.readLock().unlock();
        }
    }

    /** What a missing counter of {@code period} starts from: the database's total plus what is not written yet. */
    public long seed(String account, String period) {
        Period p = new Period(account, period);
        LongAdder mine = unwritten.get(p);
        long total = durable.getOrDefault(p, 0L) + (mine == null ? 0 : mine.sum());
        durable.putIfAbsent(p, 0L); // read its total at the next flush
        return total;
    }

    /** Admitted units recorded here and not yet in the database. */
    public long pendingUnits() {
        return pendingUnits.get();
    }

    synchronized void flush() {
        ConcurrentHashMap<Period, LongAdder> taken;
        swap.writeLock().lock();
        try {
            taken = current;
            current = new ConcurrentHashMap<>();
        } finally {
            swap.writeLock().unlock();
        }
        if (!taken.isEmpty()) {
            Map<Period, Long> units = new HashMap<>();
            taken.forEach((p, n) -> units.put(p, n.sum()));
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
                pending.addLast(new Batch(seq.incrementAndGet(), units));
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
                            pendingUnits.get());
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
    }

    /**
     * A written (or dropped) amount leaves the unwritten tally; a written one joins the database's
     * total at once (the next re-read confirms it), so {@link #seed} never dips. The pending count
     * loses each unit once (day and month both carry it).
     */
    private void forget(Period p, long n, boolean wasWritten) {
        if (wasWritten) {
            durable.merge(p, n, Long::sum);
        }
        LongAdder mine = unwritten.get(p);
        if (mine != null) {
            mine.add(-n);
        }
        if (p.period().startsWith("d:")) {
            pendingUnits.addAndGet(-n);
        }
    }

    private void write(Batch b) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO usage_ledger (node, seq, account, period, units) VALUES (?, ?, ?, ?, ?)"
                            + " ON CONFLICT DO NOTHING")) {
                for (Map.Entry<Period, Long> e : b.units().entrySet()) {
                    s.setString(1, node);
                    s.setLong(2, b.seq());
                    s.setString(3, e.getKey().account());
                    s.setString(4, e.getKey().period());
                    s.setLong(5, e.getValue());
                    s.addBatch();
                }
                s.executeBatch();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
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
        durable.keySet().removeIf(p -> p.period().compareTo(p.period().startsWith("d:") ? oldestDay : oldestMonth) < 0);
        swap.writeLock().lock(); // no recorder in between: a tally is never dropped while being added to
        try {
            unwritten.entrySet().removeIf(e -> e.getValue().sum() == 0 && !durable.containsKey(e.getKey()));
        } finally {
            swap.writeLock().unlock();
        }
        if (durable.isEmpty()) {
            return;
        }
        List<Period> wanted = new ArrayList<>(durable.keySet());
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT account, period, sum(units) FROM usage_ledger"
                        + " WHERE account = ANY (?) AND period = ANY (?) GROUP BY account, period")) {
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
                durable.put(p, totals.getOrDefault(p, 0L));
            }
        } catch (SQLException | RuntimeException e) {
            // the last totals stay; the next flush tries again
        }
    }

    @PreDestroy
    void stop() {
        flusher.shutdownNow();
        flush(); // best effort: what can be written now is not lost with the node
    }
}
