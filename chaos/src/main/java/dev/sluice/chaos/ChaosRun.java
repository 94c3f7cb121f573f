package dev.sluice.chaos;

import com.google.gson.JsonObject;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import io.lettuce.core.cluster.SlotHash;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Runs the chaos scenarios against a Sluice deployment and a Toxiproxy in front of its Redis: for
 * each scenario an open-loop load on one subject per failure mode (policies {@code chaos-open},
 * {@code chaos-closed}, {@code chaos-local} by default), the fault on for a while, then off, and
 * every answer judged. One {@link Row} per scenario × mode.
 */
public final class ChaosRun {
    static final List<String> MODES = List.of("open", "closed", "local");

    /**
     * @param target the deployment's base URL (a load balancer or one node)
     * @param toxiproxy the Toxiproxy API between the deployment and Redis
     * @param proxyPrefix only proxies whose name starts with this are faulted ("" for all)
     * @param policies the policy of each mode (open, closed, local)
     * @param rate checks per second, spread over the modes
     * @param fault how long each fault stays on
     * @param recoverBound the longest the store may take to decide again after a fault
     * @param budgetMs the deployment's command time budget
     * @param marginMs what the failure handling may add to the budget at p99 (the probe, the degraded
     *     path, scheduling), on top of the p99 of the no-op pings sent meanwhile (the HTTP path and
     *     the host alone, measured alongside)
     * @param killer kills and restores a Redis master, or null (the master-killed scenario is skipped)
     * @param scenarios the names to run (empty: all)
     */
    public record Settings(
            URI target,
            URI toxiproxy,
            String proxyPrefix,
            Map<String, String> policies,
            int rate,
            Duration fault,
            Duration recoverBound,
            long budgetMs,
            long marginMs,
            Fault.MasterKiller killer,
            List<String> scenarios) {}

    /** {@code limiter.redis.busy-probe-timeout}: the longest a ping is waited for while the store is busy. */
    static final long BUSY_PROBE_TIMEOUT_MS = 250;

    private final Settings settings;
    private final Target target;
    private final ToxiproxyClient toxiproxy;
    private final Consumer<String> log;

    public ChaosRun(Settings settings, Consumer<String> log) {
        this.settings = settings;
        this.target = new Target(settings.target());
        this.toxiproxy = new ToxiproxyClient(
                settings.toxiproxy().getScheme(),
                settings.toxiproxy().getHost(),
                settings.toxiproxy().getPort());
        this.log = log;
    }

    /** Runs the scenarios, in order; the rows of all of them. */
    public Report run() throws Exception {
        List<Proxy> proxies = new ArrayList<>();
        for (Proxy p : toxiproxy.getProxies()) {
            if (p.getName().startsWith(settings.proxyPrefix())) {
                proxies.add(p);
            }
        }
        if (proxies.isEmpty()) {
            throw new IllegalStateException(
                    "no Toxiproxy proxy named " + settings.proxyPrefix() + "* at " + settings.toxiproxy());
        }
        String runId = HexFormat.of().formatHex(randomBytes());
        List<Row> rows = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Scenario s : chosen()) {
            if (s.fault() != null && s.fault().healsItself() && settings.killer() == null) {
                skipped.add(s.name() + ": no way to kill a Redis master was given (--kill-master-cmd)");
                continue;
            }
            log.accept("scenario " + s.name() + ": " + s.description());
            // a scenario named twice gets fresh subjects the second time
            rows.addAll(run(s, runId + "-" + rows.size() / MODES.size(), proxies));
        }
        return new Report(settings, proxies.size(), rows, skipped);
    }

    /** Every scenario in its order, or the named ones in the order named (a name twice runs twice). */
    private List<Scenario> chosen() {
        if (settings.scenarios().isEmpty()) {
            return Scenario.all();
        }
        List<Scenario> chosen = new ArrayList<>();
        for (String name : settings.scenarios()) {
            chosen.add(Scenario.all().stream()
                    .filter(x -> x.name().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no chaos scenario named " + name + "; there are "
                            + Scenario.all().stream().map(Scenario::name).toList())));
        }
        return chosen;
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[3];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private List<Row> run(Scenario s, String runId, List<Proxy> proxies) throws Exception {
        Map<String, String> keys = keys(runId + "-" + s.name());
        awaitShared(keys);
        Map<String, Long> limits = new LinkedHashMap<>();
        for (String mode : MODES) {
            limits.put(
                    mode, target.look(policy(mode), keys.get(mode)).get("limit").getAsLong());
        }
        long live = Math.max(1, target.healthDetail("liveNodes"));
        long divisor = Math.max(1, target.healthDetail("localDivisor"));
        int slot = SlotHash.getSlot(policy("local") + ":" + keys.get("local"));
        Fault.Context context = new Fault.Context(proxies, settings.killer(), slot);

        long faultMs = settings.fault().toMillis();
        long start;
        long clear;
        long recovered;
        List<Sample> samples;
        try (Load load = new Load(target, MODES, settings.policies(), keys)) {
            load.start(settings.rate());
            Thread.sleep(1000);
            start = System.nanoTime();
            if (s.fault() != null) {
                s.fault().begin(context);
                if (!s.fault().healsItself()) {
                    Thread.sleep(faultMs);
                    s.fault().end(context);
                }
            } else {
                Thread.sleep(faultMs);
            }
            clear = s.fault() != null && s.fault().healsItself() ? start : System.nanoTime();
            recovered = awaitRecovery(load, clear);
            Thread.sleep(300);
            samples = load.stop();
        } finally {
            if (s.fault() != null && s.fault().healsItself()) {
                s.fault().end(context);
            }
        }
        long windowEnd = s.fault() != null && s.fault().healsItself() ? recovered : clear;
        int outages = s.fault() == null ? 0 : s.fault().outages(faultMs);
        long remainingAfter = awaitReconciled(keys.get("local"), limits.get("local"), samples);
        List<Row> rows = new ArrayList<>();
        for (String mode : MODES) {
            rows.add(row(
                    s,
                    mode,
                    samples,
                    start,
                    clear,
                    windowEnd,
                    limits.get(mode),
                    live,
                    divisor,
                    outages,
                    mode.equals("local") ? remainingAfter : -1));
        }
        return rows;
    }

    private String policy(String mode) {
        return settings.policies().get(mode);
    }

    /** One fresh subject per mode; all three on the same hash slot, so one failed shard affects them all. */
    private Map<String, String> keys(String base) {
        Map<String, String> keys = new LinkedHashMap<>();
        String local = "c-" + base + "-local";
        keys.put("local", local);
        int slot = SlotHash.getSlot(policy("local") + ":" + local);
        for (String mode : List.of("open", "closed")) {
            for (int i = 0; ; i++) {
                String k = "c-" + base + "-" + mode + "-" + i;
                if (SlotHash.getSlot(policy(mode) + ":" + k) == slot) {
                    keys.put(mode, k);
                    break;
                }
            }
        }
        Map<String, String> ordered = new LinkedHashMap<>();
        MODES.forEach(m -> ordered.put(m, keys.get(m)));
        return ordered;
    }

    /** Waits (up to 30 s) until looks at every subject are decided by the store. */
    private void awaitShared(Map<String, String> keys) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            boolean shared = true;
            for (String mode : MODES) {
                JsonObject look = target.look(policy(mode), keys.get(mode));
                shared &= !look.get("degraded").getAsBoolean();
            }
            if (shared) {
                return;
            }
            if (System.nanoTime() > until) {
                throw new IllegalStateException("the store does not decide for the scenario's subjects");
            }
            Thread.sleep(200);
        }
    }

    /**
     * Waits until every mode has had ten answers in a row from the store after {@code clear}, or
     * the bound passes; the time the last of them started answering from the store again.
     */
    private long awaitRecovery(Load load, long clear) throws InterruptedException {
        long until = clear
                + settings.recoverBound().toNanos()
                + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < until) {
            Thread.sleep(100);
            List<Sample> samples = load.samples();
            long latest = Long.MIN_VALUE;
            boolean all = true;
            for (String mode : MODES) {
                long back = backSince(samples, mode, clear);
                if (back < 0) {
                    all = false;
                    break;
                }
                latest = Math.max(latest, back);
            }
            if (all) {
                return latest;
            }
        }
        return System.nanoTime();
    }

    /**
     * When the store took the mode's decisions back after {@code clear}: the start of the first of
     * ten answers in a row decided by the store (a lone later overrun of the budget, as a loaded
     * machine makes now and then, is not an outage); {@code clear} itself when the first ten after
     * it were; -1 when there were never ten in a row.
     */
    private static long backSince(List<Sample> samples, String mode, long clear) {
        List<Sample> after = samples.stream()
                .filter(x -> x.mode().equals(mode) && x.startNanos() >= clear)
                .sorted(java.util.Comparator.comparingLong(Sample::startNanos))
                .toList();
        int run = 0;
        for (int i = 0; i < after.size(); i++) {
            boolean good = !after.get(i).degraded() && after.get(i).status() >= 0;
            run = good ? run + 1 : 0;
            if (run == 10) {
                int first = i - 9;
                return first == 0 ? clear : after.get(first).startNanos();
            }
        }
        return -1;
    }

    /** Waits (up to 8 s) until the store shows the local subject charged with everything it admitted. */
    private long awaitReconciled(String key, long limit, List<Sample> samples) throws Exception {
        long admitted = samples.stream()
                .filter(x -> x.mode().equals("local") && x.status() == 200)
                .count();
        long expected = Math.max(0, limit - admitted);
        long until = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        long remaining = -1;
        while (System.nanoTime() < until) {
            JsonObject look = target.look(policy("local"), key);
            if (!look.get("degraded").getAsBoolean()) {
                remaining = look.get("remaining").getAsLong();
                if (remaining <= expected) {
                    return remaining;
                }
            }
            Thread.sleep(250);
        }
        return remaining;
    }

    private Row row(
            Scenario s,
            String mode,
            List<Sample> all,
            long start,
            long clear,
            long windowEnd,
            long limit,
            long live,
            long divisor,
            int outages,
            long remainingAfter) {
        List<Sample> during = all.stream()
                .filter(x -> x.mode().equals(mode) && x.startNanos() >= start && x.startNanos() < windowEnd)
                .toList();
        if (s.fault() != null) {
            log.accept("  " + mode + " slowest during the fault: " + slowest(during, start, 3));
        }
        int admitted = (int) during.stream().filter(x -> x.status() == 200).count();
        int degraded = (int) during.stream().filter(Sample::degraded).count();
        int admittedDegraded = (int)
                during.stream().filter(x -> x.degraded() && x.status() == 200).count();
        int errors = (int) during.stream()
                .filter(x -> x.status() < 0
                        || (x.status() >= 500 && !(mode.equals("closed") && x.status() == 503 && x.degraded())))
                .count();
        int wrong = (int) during.stream()
                .filter(Sample::degraded)
                .filter(x -> switch (mode) {
                    case "open" -> x.status() != 200;
                    case "closed" -> x.status() != 503;
                    default -> x.status() != 200 && x.status() != 429;
                })
                .count();
        double[] millis =
                during.stream().mapToDouble(Sample::millisExact).sorted().toArray();
        double pingP99 = percentile(
                all.stream()
                        .filter(x -> x.mode().equals(Target.PING)
                                && x.status() == 200 // an unanswered ping excuses nothing
                                && x.startNanos() >= start
                                && x.startNanos() < windowEnd)
                        .mapToDouble(Sample::millisExact)
                        .sorted()
                        .toArray(),
                0.99);
        // what the HTTP path and the host alone took meanwhile (the no-op pings sent alongside) comes on
        // top of the limiter's own allowance: a host that stalls for 200 ms stalls a check as long,
        // and the probe that judges the store too
        double allowedP99 = settings.budgetMs() + settings.marginMs() + pingP99;
        long firstDegraded = all.stream()
                .filter(x -> x.mode().equals(mode) && x.startNanos() >= start && x.degraded())
                .mapToLong(Sample::startNanos)
                .min()
                .orElse(-1);
        long detectMs = firstDegraded < 0 ? -1 : Math.max(0, (firstDegraded - start) / 1_000_000);
        // Each node finds a fault by itself: a check that started within the detection time of the
        // fault's start (budget + the busy probe timeout, 250 ms: CallBudget's bound while the store
        // and the host are busy) may have waited for its node's detection, and is held to that bound
        // each; the p99 is taken over the checks after it, which the failure handling answers.
        double detectionAllowedMs = settings.budgetMs() + BUSY_PROBE_TIMEOUT_MS + settings.marginMs() + pingP99;
        long detectionEnd = start + (settings.budgetMs() + BUSY_PROBE_TIMEOUT_MS) * 1_000_000;
        List<Sample> beforeDetection = s.fault() == null
                ? List.of()
                : during.stream().filter(x -> x.startNanos() < detectionEnd).toList();
        List<Sample> steady = s.fault() == null
                ? during
                : during.stream().filter(x -> x.startNanos() >= detectionEnd).toList();
        double[] afterDetection =
                steady.stream().mapToDouble(Sample::millisExact).sorted().toArray();
        long back = backSince(all, mode, clear);
        long recoverMs =
                firstDegraded < 0 ? (back < 0 ? -1 : 0) : back < 0 ? -1 : Math.max(0, (back - clear) / 1_000_000);
        long share = -Math.floorDiv(-limit, divisor);
        long bound =
                switch (mode) {
                    case "open" -> during.size();
                    case "closed" -> 0;
                    // the nodes that may decide: the count a node divides by is the peak it heard,
                    // the live count may dip right after an earlier outage
                    default -> Math.max(live, divisor) * share * Math.max(1, outages);
                };
        long admittedTotal = mode.equals("local")
                ? all.stream()
                        .filter(x -> x.mode().equals("local") && x.status() == 200)
                        .count()
                : -1;
        List<String> failures = new ArrayList<>();
        double p99 = percentile(afterDetection, 0.99);
        if (errors > 0) {
            failures.add(errors + " error answer(s) (no answer or an unintended 5xx)");
        }
        if (wrong > 0) {
            failures.add(wrong + " degraded answer(s) not what " + mode + " answers");
        }
        if (s.fault() == null && degraded > 0) {
            // the baseline: a healthy store decides every check (issue 15), at the suite's load
            failures.add(degraded + " degraded answer(s) with no fault injected: a healthy store decides every check");
        }
        if (s.fault() != null && p99 > allowedP99) {
            failures.add(String.format(
                    "p99 %.1f ms over the budget %d ms + margin %d ms + the no-op pings' p99 meanwhile %.1f ms"
                            + " (slowest: %s)",
                    p99, settings.budgetMs(), settings.marginMs(), pingP99, slowest(steady, start, 3)));
        }
        List<Sample> overDetection = beforeDetection.stream()
                .filter(x -> x.millisExact() > detectionAllowedMs)
                .toList();
        if (!overDetection.isEmpty()) {
            failures.add(String.format(
                    "%d check(s) started within the detection time took longer than the budget %d ms + the"
                            + " busy probe timeout %d ms + margin %d ms + the no-op pings' p99 %.1f ms (slowest: %s)",
                    overDetection.size(),
                    settings.budgetMs(),
                    BUSY_PROBE_TIMEOUT_MS,
                    settings.marginMs(),
                    pingP99,
                    slowest(overDetection, start, 3)));
        }
        if (admittedDegraded > bound) {
            failures.add("admitted " + admittedDegraded + " by itself, more than its bound " + bound);
        }
        if (s.fault() != null && recoverMs < 0) {
            failures.add("the store did not decide again within "
                    + settings.recoverBound().toMillis() + " ms");
        } else if (recoverMs > settings.recoverBound().toMillis()) {
            failures.add("recovered after " + recoverMs + " ms, over the bound "
                    + settings.recoverBound().toMillis());
        }
        if (mode.equals("local") && (remainingAfter < 0 || remainingAfter > Math.max(0, limit - admittedTotal))) {
            failures.add("reconciliation: the store shows " + remainingAfter + " left, expected at most "
                    + Math.max(0, limit - admittedTotal) + " (limit " + limit + " - " + admittedTotal + " admitted)");
        }
        return new Row(
                s.name(),
                mode,
                during.size(),
                admitted,
                degraded,
                admittedDegraded,
                bound,
                errors,
                wrong,
                percentile(millis, 0.50),
                p99,
                millis.length == 0 ? 0 : millis[millis.length - 1],
                pingP99,
                allowedP99,
                detectMs,
                recoverMs,
                limit,
                admittedTotal,
                remainingAfter,
                failures);
    }

    /** The {@code n} slowest checks: how long each took, when it started after the fault began, what it got. */
    static String slowest(List<Sample> samples, long faultStart, int n) {
        return samples.stream()
                .sorted(java.util.Comparator.comparingLong((Sample x) -> x.endNanos() - x.startNanos())
                        .reversed())
                .limit(n)
                .map(x -> String.format(
                        "%.1f ms at +%d ms (%d%s)",
                        x.millisExact(),
                        (x.startNanos() - faultStart) / 1_000_000,
                        x.status(),
                        x.degraded() ? ", degraded" : ""))
                .collect(java.util.stream.Collectors.joining("; "));
    }

    private static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
