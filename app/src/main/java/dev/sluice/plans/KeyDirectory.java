package dev.sluice.plans;

import dev.sluice.config.PlansProperties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Requires;
import jakarta.annotation.PreDestroy;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every API key and plan, in memory: checks resolve keys here and never query the database. Each
 * node polls one number ({@code admin_version}, moved by triggers on every change) every {@code
 * limiter.plans.poll} (1 s) and reloads when it moved, so an admin change reaches every node within
 * about a poll. While the database is unreachable the last directory stays in force (and keys keep
 * working); {@code sluice_key_directory_age_seconds} shows how old it is.
 *
 * <p>Resolving costs the same whether the key exists, is revoked or was never issued: the secret
 * is hashed and compared (constant time) with the key's hash or, for an unknown id, a dummy hash.
 */
@Context
@Requires(beans = DataSource.class)
public class KeyDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(KeyDirectory.class);
    private static final byte[] DUMMY = ApiKeys.hash("never-a-key");

    private final PlanRepository plans;
    private final ApiKeyRepository keys;
    private final KeyOverrideRepository overrides;
    private final ScheduledExecutorService poller;
    private volatile Snapshot snapshot = new Snapshot(-1, Map.of(), Map.of());
    private final dev.sluice.core.NodeClock clock;
    private volatile long lastGoodNanos;
    private volatile boolean failing;

    private record Snapshot(long version, Map<String, Entry> keys, Map<String, List<KeyOverride>> overrides) {}

    /** A key with its plan (null when the plan is gone), joined at load, and its memo. */
    private record Entry(ApiKey key, Plan plan, Memo memo) {}

    /**
     * What the plan checks keep per key from one check to the next (its effective plan, policies
     * and the usage ledger's tallies of its current day and month, so that a check does not derive
     * or look them up again), valid as long as the directory that made it: a reload starts every
     * key's memo afresh.
     */
    public static final class Memo {
        volatile Object value;
    }

    /**
     * What a presented key resolves to: valid with its key, its plan and the override in force
     * (or null), or not ({@code key == null}).
     */
    public record Resolution(ApiKey key, Plan plan, KeyOverride override, Memo memo) {
        static final Resolution INVALID = new Resolution(null, null, null, null);

        public boolean valid() {
            return key != null;
        }
    }

    public KeyDirectory(
            PlanRepository plans,
            ApiKeyRepository keys,
            KeyOverrideRepository overrides,
            PlansProperties properties,
            dev.sluice.core.NodeClock clock,
            MeterRegistry meters) {
        this.clock = clock;
        this.lastGoodNanos = clock.nanoTime();
        this.plans = plans;
        this.keys = keys;
        this.overrides = overrides;
        Gauge.builder("sluice.key.directory.keys", this, d -> d.snapshot.keys().size())
                .description("API keys in this node's in-memory directory")
                .register(meters);
        Gauge.builder("sluice.key.directory.age", this, d -> (d.clock.nanoTime() - d.lastGoodNanos) / 1e9)
                .baseUnit("seconds")
                .description("Time since this node last confirmed its key directory with the database")
                .register(meters);
        poll(); // loaded before the node serves, when the database answers
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-key-directory");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(10, properties.getPoll().toMillis());
        var unused = poller.scheduleWithFixedDelay(this::poll, every, every, TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void stop() {
        poller.shutdownNow();
    }

    /** The admin version the directory reflects (-1: never loaded). */
    public long version() {
        return snapshot.version();
    }

    /** Resolves a presented key {@code sk_<id>.<secret>} at {@code now}. */
    public Resolution resolve(String presented, Instant now) {
        String id = "";
        String secret = presented == null ? "" : presented;
        if (presented != null && presented.startsWith(ApiKeys.PREFIX)) {
            int dot = presented.indexOf('.', ApiKeys.PREFIX.length());
            if (dot > 0) {
                id = presented.substring(ApiKeys.PREFIX.length(), dot);
                secret = presented.substring(dot + 1);
            }
        }
        Snapshot s = snapshot;
        Entry e = s.keys().get(id);
        ApiKey k = e == null ? null : e.key();
        boolean match = ApiKeys.same(ApiKeys.hash(secret), k == null ? DUMMY : k.secretHash());
        Plan plan = e == null ? null : e.plan();
        if (k != null && match && plan != null && k.validAt(now)) {
            KeyOverride override = null;
            List<KeyOverride> forKey =
                    s.overrides().isEmpty() ? null : s.overrides().get(k.id());
            for (KeyOverride o : forKey == null ? List.<KeyOverride>of() : forKey) {
                if (o.inForce(now)) {
                    override = o; // newest first
                    break;
                }
            }
            return new Resolution(k, plan, override, e.memo());
        }
        return Resolution.INVALID;
    }

    void poll() {
        try {
            long version = plans.adminVersion();
            if (version != snapshot.version()) {
                Map<String, Plan> p = new HashMap<>();
                plans.findAll().forEach(x -> p.put(x.name(), x));
                Map<String, Entry> k = new HashMap<>();
                keys.findAll().forEach(x -> k.put(x.id(), new Entry(x, p.get(x.plan()), new Memo())));
                Map<String, List<KeyOverride>> o = new HashMap<>();
                for (KeyOverride x : overrides.findByUntilAfter(clock.now())) {
                    o.computeIfAbsent(x.keyId(), id -> new java.util.ArrayList<>())
                            .add(x);
                }
                o.values()
                        .forEach(list -> list.sort(java.util.Comparator.comparing(KeyOverride::createdAt)
                                .thenComparing(KeyOverride::id)
                                .reversed()));
                // HashMaps, never changed once published (the field is volatile): a lookup compares
                // hashes before keys, where Map.copyOf's open addressing compared the presented id
                // with every key it probed (~2.5 % of a check's samples)
                snapshot = new Snapshot(version, k, o);
                LOG.debug("Key directory reloaded: {} keys, {} plans (version {})", k.size(), p.size(), version);
            }
            lastGoodNanos = clock.nanoTime();
            if (failing) {
                failing = false;
                LOG.info("Key directory: the database answers again (version {})", snapshot.version());
            }
        } catch (RuntimeException e) {
            if (!failing) {
                failing = true;
                LOG.warn(
                        "Key directory: the database cannot be reached ({}); the last directory stays in force",
                        e.toString());
            }
        }
    }
}
