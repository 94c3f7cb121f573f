package dev.sluice.region;

import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
import dev.sluice.lua.LuaScript;
import dev.sluice.resilience.Membership;
import dev.sluice.store.Subject;
import dev.sluice.store.redis.KeyScheme;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micronaut.context.annotation.Context;
import io.micronaut.json.JsonMapper;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciliation between regions (docs/multi-region.md): every sync period S each node claims, for
 * the subjects of global policies it checked lately, the region's demand of the period that just
 * ended (one node a region ships each subject's demand once: region.lua's {@code ship}), sends the
 * claimed ones to every peer region over HTTP ({@code POST /regions/v1/demand}, the region token as
 * bearer) and, once all peers took a batch, records it ({@code acked}), which lets the region count
 * that demand in its own share. What peers send is applied here ({@link #apply}): newer periods
 * only, so loss, duplication, reordering and a peer's restart change nothing but timing.
 *
 * <p>Messages carry a demand (units per period), not increments: nothing accumulates while a peer is
 * away; what a region ships is its state now, so the backlog is one entry per active subject.
 */
@Context
public final class RegionSync implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegionSync.class);
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

    /** A batch's entries at most. */
    static final int BATCH = 500;

    /** One subject's demand of one period, as shipped. */
    @io.micronaut.serde.annotation.Serdeable
    public record Entry(String policy, String key, long period, long demand) {}

    /**
     * A claimed entry; whether it goes to the peers; and whether its demand is above what the region
     * counts itself at (an ack lifts it).
     */
    record Claim(Entry entry, boolean send, boolean raise) {}

    /**
     * Store calls of a sync in flight at once: a sync of many subjects goes out in waves, so the
     * checks that share the connections are not queued behind thousands of sync calls.
     */
    static final int IN_FLIGHT = 64;

    /**
     * Runs {@code call} on each item in waves of {@link #IN_FLIGHT}, a wave after the one before has
     * answered; the results in order, null where a call failed.
     */
    static <T, R> CompletableFuture<List<R>> paced(
            List<T> items, java.util.function.Function<T, CompletionStage<R>> call) {
        List<R> results = new ArrayList<>(java.util.Collections.nCopies(items.size(), null));
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int from = 0; from < items.size(); from += IN_FLIGHT) {
            int start = from;
            int end = Math.min(items.size(), from + IN_FLIGHT);
            chain = chain.thenCompose(x -> {
                List<CompletableFuture<Void>> wave = new ArrayList<>(end - start);
                for (int i = start; i < end; i++) {
                    int at = i;
                    CompletionStage<R> stage;
                    try {
                        stage = call.apply(items.get(at));
                    } catch (RuntimeException e) {
                        stage = CompletableFuture.failedFuture(e);
                    }
                    wave.add(stage.handle((r, e) -> {
                                results.set(at, e == null ? r : null);
                                return (Void) null;
                            })
                            .toCompletableFuture());
                }
                return CompletableFuture.allOf(wave.toArray(CompletableFuture[]::new));
            });
        }
        return chain.thenApply(x -> results);
    }

    /**
     * What a region ships to a peer: its demands, and the shape ({@link #shape}) of each global
     * policy they name — of every global policy in a heartbeat — so that regions whose limits differ
     * are found ({@code policies} may be empty: a sender of an earlier version).
     */
    @io.micronaut.serde.annotation.Serdeable
    public record Batch(
            String origin,
            List<Entry> entries,
            @io.micronaut.core.annotation.Nullable Map<String, String> policies) {
        public Batch {
            policies = policies == null ? null : Map.copyOf(policies);
        }
    }

    /**
     * A global policy's shape as the regions compare it: limit/period in ms/burst, then each tier's
     * the same way after its name ({@code 100/1000/100 paid=1000/1000/1000}), and each reserved
     * share's after {@code reserve:}. Regions whose shapes of a policy differ hold no common limit:
     * no bound holds for it while they differ (found black-box: one tier at 1,000 a second in one
     * region and 100 in another went unnoticed, 5,052 admitted against an allowance of 1,100).
     */
    static String shape(Policy policy) {
        StringBuilder sb = new StringBuilder(shape(policy.limit()));
        new java.util.TreeMap<>(policy.tiers())
                .forEach((t, l) -> sb.append(' ').append(t).append('=').append(shape(l)));
        new java.util.TreeMap<>(policy.reserves())
                .forEach((t, l) -> sb.append(" reserve:").append(t).append('=').append(shape(l)));
        return sb.toString();
    }

    private static String shape(dev.sluice.core.Limit l) {
        return l.limit() + "/" + l.periodMs() + "/" + l.burst();
    }

    /** What a peer's heartbeat says of a policy that is global here but not there. */
    static final String NOT_GLOBAL = "regional";

    /** The shapes of {@code names}' global policies here (of every global policy when null). */
    private Map<String, String> shapes(java.util.Collection<String> names) {
        Map<String, String> out = new java.util.TreeMap<>();
        for (Policy policy : policies.all().values()) {
            if (policy.global() && (names == null || names.contains(policy.name()))) {
                out.put(policy.name(), shape(policy));
            }
        }
        return out;
    }

    /**
     * Per global policy here, per peer region: the shape that region last said it runs the policy
     * with, when it differs from this region's (cleared when it says the same again).
     */
    private final Map<String, Map<String, String>> differing = new java.util.concurrent.ConcurrentHashMap<>();

    /** When this node last logged a policy that differs between the regions, per origin. */
    private final Map<String, AtomicLong> lastDifferWarnedMs = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Compares the shapes a peer says it runs its global policies with against this region's:
     * each that differs is remembered (the policy's bound is lost), counted and logged at most once
     * a minute per origin; one that agrees again is forgotten. Found black-box: a region running a
     * global policy at 1,000 a second beside two at 100 admitted every check, O +0.23, and every
     * region's bound still said 0.
     */
    private void compareShapes(
            String origin, @io.micronaut.core.annotation.Nullable Map<String, String> said, boolean heartbeat) {
        if (said == null) {
            return; // a sender of an earlier version: nothing to compare
        }
        Map<String, String> theirs = new java.util.HashMap<>(said);
        if (heartbeat) {
            // a heartbeat lists every policy global at its sender: one global here that it does not
            // list is regional there (found black-box: c running it as regional admitted a whole
            // limit of its own beside a and b, 2,017 against an allowance of 1,100, every bound 0)
            for (Policy p : policies.all().values()) {
                if (p.global()) {
                    theirs.putIfAbsent(p.name(), NOT_GLOBAL);
                }
            }
        }
        theirs.forEach((name, shape) -> {
            Policy mine = policies.find(name);
            if (mine == null || !mine.global()) {
                return;
            }
            String own = shape(mine);
            if (own.equals(shape)) {
                Map<String, String> d = differing.get(name);
                if (d != null) {
                    d.remove(origin);
                }
                return;
            }
            differing
                    .computeIfAbsent(name, k -> new java.util.concurrent.ConcurrentHashMap<>())
                    .put(origin, shape);
            policiesDiffer.increment();
            if (oncePerMinute(lastDifferWarnedMs.computeIfAbsent(origin, k -> new AtomicLong()))) {
                LOG.warn(
                        "Region {} runs global policy {} as {} (limit/period ms/burst), this region as {}: the regions"
                                + " hold no common limit while they differ, and no bound holds for it"
                                + " (sluice_region_policy_differs_total counts each batch saying so)",
                        origin,
                        name,
                        shape,
                        own);
            }
        });
    }

    /** The peer regions that run {@code policy} with another shape than this region, and their shapes. */
    public Map<String, String> differing(String policy) {
        Map<String, String> d = differing.get(policy);
        return d == null ? Map.of() : Map.copyOf(d);
    }

    /** Per peer region: when it last took a batch and when it last sent one, and what failed. */
    static final class Peer {
        final String name;
        final URI uri;
        final AtomicLong lastTookMs = new AtomicLong();
        final AtomicLong lastSentUsMs = new AtomicLong();
        final AtomicLong lagMs = new AtomicLong();
        final AtomicLong lastWarnedMs = new AtomicLong();
        /** When this node last logged that the peer shipped demand of a policy that is not global here. */
        final AtomicLong lastSkipWarnedMs = new AtomicLong();
        /**
         * The backlog: how many of the subjects' demands claimed in the last sync the peer did not
         * take (they are superseded by the next period's, never queued); {@code pending} counts the
         * sync under way.
         */
        final AtomicLong backlog = new AtomicLong();

        final AtomicLong pending = new AtomicLong();
        /**
         * Whether this node's last batch to the peer was taken. While not, nothing more is sent to it
         * (only empty probes): what it holds of this region stays as it was, so this region's own
         * count of itself is not ratcheted down by every dip of demand during a partition.
         */
        final java.util.concurrent.atomic.AtomicBoolean reachable = new java.util.concurrent.atomic.AtomicBoolean(true);

        Counter failures;

        /**
         * Calls to the peer not answered yet. A peer with one still open from an earlier sync (a peer
         * that takes connections but does not answer: stopped, or a link dropping packets) is left
         * out of the next sync until it answers or times out — neither shipped to nor probed — so that
         * it never holds back the syncs with the others (found black-box: with one peer stopped, the
         * healthy peer was synced every ~3 s instead of every second).
         */
        final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();

        boolean busy() {
            return inFlight.get() > 0;
        }

        /** The peer's own client: replaced, pool and all, when a call fails on its connections. */
        volatile HttpClient client;

        Peer(String name, URI uri) {
            this.name = name;
            this.uri = uri;
        }
    }

    private final RegionMode mode;
    /** How many nodes the region has (the local failure mode's count), for the sync's threshold. */
    private final Optional<Membership> membership;

    private final RegionProperties properties;
    private final PolicyRegistry policies;
    private final KeyScheme keys;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final JsonMapper json;
    private final Map<String, Peer> peers = new LinkedHashMap<>();
    private final ScheduledExecutorService ticker;
    private final Counter shipped;
    private final Counter applied;
    private final Counter skipped;
    private final Counter policiesDiffer;
    /** This region's store as this node sees it (null: not known). */
    private final dev.sluice.resilience.StoreHealth store;

    private final MultiGauge shareGauge;
    private final MultiGauge boundGauge;
    private final String regionsArg;
    private final String expiryArg;
    private final String peersArg;
    private final String guaranteedArg;

    @jakarta.inject.Inject
    public RegionSync(
            RegionMode mode,
            PolicyRegistry policies,
            KeyScheme keys,
            Optional<StatefulRedisClusterConnection<String, String>> cluster,
            Optional<StatefulRedisConnection<String, String>> standalone,
            JsonMapper json,
            MeterRegistry meters,
            Optional<Membership> membership,
            Optional<dev.sluice.resilience.StoreHealth> store) {
        this.membership = membership;
        this.store = store.orElse(null);
        this.mode = mode;
        this.properties = mode.properties();
        this.policies = policies;
        this.keys = keys;
        this.json = json;
        RegionProperties p = properties;
        if (p.getName() != null || (p.getPeers() != null && !p.getPeers().isEmpty())) {
            check(p);
        }
        this.commands = cluster.<RedisClusterAsyncCommands<String, String>>map(StatefulRedisClusterConnection::async)
                .or(() -> standalone.map(StatefulRedisConnection::async))
                .orElse(null);
        this.regionsArg = Integer.toString(p.regions());
        this.expiryArg = Long.toString(p.getPeerExpiry().toNanos() / 1000);
        this.peersArg =
                p.getPeers() == null ? "" : String.join(",", p.getPeers().keySet());
        this.guaranteedArg = Long.toString(RegionShares.guaranteed(p.getShareFloor(), p.regions()));
        this.shipped = Counter.builder("sluice.region.shipped")
                .description("subjects' demands this node shipped to every peer region")
                .register(meters);
        this.applied = Counter.builder("sluice.region.applied")
                .description("peer regions' demands applied here (newer than held)")
                .register(meters);
        this.policiesDiffer = Counter.builder("sluice.region.policy.differs")
                .description("peer regions' batches saying they run a global policy with another limit, period"
                        + " or burst than this region (no bound holds for it while they differ)")
                .register(meters);
        this.skipped = Counter.builder("sluice.region.skipped")
                .description("entries of peer regions' batches naming a policy that is not global here"
                        + " (the regions' policy files differ)")
                .register(meters);
        this.shareGauge = mode.on()
                ? MultiGauge.builder("sluice.region.share")
                        .description("this region's share of each global policy (fraction of the limit) over the"
                                + " subjects this node checked lately: min, mean, max, and how many (stat=subjects);"
                                + " refreshed every sync")
                        .register(meters)
                : null;
        this.boundGauge = mode.on()
                ? MultiGauge.builder("sluice.region.over.admission.bound")
                        .description("the live bound on O of each global policy: 0 (O <= 0) while every peer region"
                                + " is heard of within peer-expiry, runs the policy with the same shape, and this"
                                + " region's store answers or the policy does not fail open; else how many of those"
                                + " do not hold")
                        .register(meters)
                : null;
        Gauge.builder("sluice.region.dropped.subjects", mode, RegionMode::dropped)
                .description("subjects of global policies not tracked for want of room (max-subjects)")
                .register(meters);
        if (mode.on()) {
            p.getPeers().forEach((name, url) -> {
                Peer peer = new Peer(name, URI.create(url.replaceAll("/+$", "") + "/regions/v1/demand"));
                peer.failures = Counter.builder("sluice.region.ship.failures")
                        .tag("peer", name)
                        .description("batches a peer region did not take (error, refusal or time-out)")
                        .register(meters);
                Gauge.builder("sluice.region.peer.last.took.age", peer, x -> ageSeconds(x.lastTookMs.get()))
                        .tag("peer", name)
                        .baseUnit("seconds")
                        .description("seconds since the peer region last took a batch from this node")
                        .register(meters);
                Gauge.builder("sluice.region.peer.last.heard.age", peer, x -> ageSeconds(x.lastSentUsMs.get()))
                        .tag("peer", name)
                        .baseUnit("seconds")
                        .description("seconds since the peer region last sent this node a batch")
                        .register(meters);
                Gauge.builder("sluice.region.peer.backlog", peer, x -> x.backlog.get())
                        .tag("peer", name)
                        .description("subjects' demands claimed in the last sync that the peer region did not take")
                        .register(meters);
                Gauge.builder("sluice.region.peer.lag", peer, this::lagSeconds)
                        .tag("peer", name)
                        .baseUnit("seconds")
                        .description("replication lag: from the end of the period shipped to the peer's answer;"
                                + " while the peer takes nothing, at least the time since it last did")
                        .register(meters);
                peers.put(name, peer);
            });
        }
        // a client (and its selector thread) per peer, only where there are peers to ship to
        peers.values().forEach(peer -> peer.client = newClient());
        if (!mode.on() && policies.all().values().stream().anyMatch(Policy::global)) {
            LOG.warn(
                    "Policies with regions: global hold per region until multi-region mode is configured"
                            + " (limiter.region.name, limiter.region.peers, limiter.region.token): {}",
                    policies.all().values().stream()
                            .filter(Policy::global)
                            .map(Policy::name)
                            .toList());
        }
        if (mode.on() && commands == null) {
            LOG.warn("limiter.region is set but the store is in-process: global policies hold per region only when"
                    + " each region has its own Redis (REDIS_URIS or REDIS_URI); nothing is shipped");
            this.ticker = null;
        } else if (mode.on() && !p.isShipInBackground()) {
            this.ticker = null;
            LOG.info(
                    "Multi-region mode: region {} with peers {}, shipping after requests at most every {}",
                    p.getName(),
                    p.getPeers().keySet(),
                    p.getSyncPeriod());
        } else if (mode.on()) {
            this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sluice-region-sync");
                t.setDaemon(true);
                return t;
            });
            long s = p.getSyncPeriod().toMillis();
            // a little after each period's end, so the period's last checks have counted
            long offset = Math.min(20, s / 10);
            long first = s - Math.floorMod(System.currentTimeMillis(), s) + offset;
            ticker.scheduleAtFixedRate(this::tickSafely, first, s, TimeUnit.MILLISECONDS);
            LOG.info(
                    "Multi-region mode: region {} with peers {}, sync every {}",
                    p.getName(),
                    p.getPeers().keySet(),
                    p.getSyncPeriod());
        } else {
            this.ticker = null;
        }
    }

    /**
     * Whether every peer region sent this node a batch (a heartbeat counts) within the peer expiry:
     * then the bound holds (docs/multi-region.md); else a silent peer's share is reclaimed.
     */
    public boolean everyPeerHeard() {
        return overAdmissionBound() == 0;
    }

    /**
     * The live bound on O of every global policy: 0 (no span admits more than burst + rate x span)
     * while every peer is heard of; else the number of peers silent past the expiry, each of which,
     * if it still decides, may admit up to the whole rate more.
     */
    public double overAdmissionBound() {
        double expiry = properties.getPeerExpiry().toMillis() / 1000.0;
        return peers.values().stream()
                .filter(p -> ageSeconds(p.lastSentUsMs.get()) > expiry)
                .count();
    }

    /**
     * The live bound of one global policy: {@link #overAdmissionBound()}, plus the peers that run
     * the policy with another limit, period or burst, plus one while this region's store does not
     * answer and the policy fails open (it then admits everything offered here); 0: O <= 0 holds.
     */
    public double overAdmissionBound(Policy policy) {
        return overAdmissionBound() + differing(policy.name()).size() + (failsOpenWithoutStore(policy) ? 1 : 0);
    }

    /** Whether this region's store does not answer while {@code policy} fails open: it admits everything here. */
    public boolean failsOpenWithoutStore(Policy policy) {
        return store != null && !store.answers() && policy.onStoreFailure() == dev.sluice.config.FailureMode.OPEN;
    }

    /** The gauges of each global policy's shares and bound, refreshed every sync (policies may be reloaded). */
    private void shareGauges() {
        if (shareGauge == null) {
            return;
        }
        List<MultiGauge.Row<?>> shares = new ArrayList<>();
        List<MultiGauge.Row<?>> bounds = new ArrayList<>();
        Map<String, RegionMode.ShareStats> stats = mode.shareStats();
        for (Policy policy : policies.all().values()) {
            if (!policy.global()) {
                continue;
            }
            RegionMode.ShareStats st = stats.getOrDefault(policy.name(), RegionMode.ShareStats.NONE);
            shares.add(MultiGauge.Row.of(Tags.of("policy", policy.name(), "stat", "subjects"), st.subjects()));
            if (st.subjects() > 0) {
                shares.add(MultiGauge.Row.of(Tags.of("policy", policy.name(), "stat", "min"), st.min()));
                shares.add(MultiGauge.Row.of(Tags.of("policy", policy.name(), "stat", "mean"), st.mean()));
                shares.add(MultiGauge.Row.of(Tags.of("policy", policy.name(), "stat", "max"), st.max()));
            }
            bounds.add(MultiGauge.Row.of(Tags.of("policy", policy.name()), overAdmissionBound(policy)));
        }
        shareGauge.register(shares, true);
        boundGauge.register(bounds, true);
    }

    /** Whether a minute has passed since {@code last} (then it is now): a warning logged at most once a minute. */
    private static boolean oncePerMinute(AtomicLong last) {
        long now = System.currentTimeMillis();
        long before = last.get();
        return now - before >= 60_000 && last.compareAndSet(before, now);
    }

    /** A failed shipment to {@code peer}, logged at most once a minute per peer. */
    private static void warnOnce(Peer peer, String why) {
        if (oncePerMinute(peer.lastWarnedMs)) {
            LOG.warn(
                    "Region {} did not take a demand batch: {} (sluice_region_ship_failures_total counts each)",
                    peer.name,
                    why);
        }
    }

    /**
     * The lag of the last batch the peer took; while it is unreachable, at least the time since then
     * (found black-box: during a partition the gauge stayed at its last good value, 0.036 s).
     */
    double lagSeconds(Peer peer) {
        double lag = peer.lagMs.get() / 1000.0;
        // while it takes nothing — unreachable, or a call to it still unanswered (a peer that takes
        // connections and never answers: found black-box, the gauge stayed at 0.039 s for 4 s)
        double stuck = 1.5 * properties.getSyncPeriod().toMillis() / 1000.0;
        if ((peer.reachable.get() && !(peer.busy() && ageSeconds(peer.lastTookMs.get()) > stuck))
                || peer.lastTookMs.get() == 0) {
            return lag;
        }
        return Math.max(lag, ageSeconds(peer.lastTookMs.get()));
    }

    private static double ageSeconds(long ms) {
        return ms == 0 ? Double.NaN : (System.currentTimeMillis() - ms) / 1000.0;
    }

    static void check(RegionProperties p) {
        if (p.getName() == null || !NAME.matcher(p.getName()).matches()) {
            throw new IllegalStateException(
                    "limiter.region.name: must match [a-z0-9][a-z0-9-]{0,31} (was '" + p.getName() + "')");
        }
        if (p.getPeers() == null || p.getPeers().isEmpty()) {
            throw new IllegalStateException("limiter.region.peers: at least one peer region (name: base URL)");
        }
        for (Map.Entry<String, String> e : p.getPeers().entrySet()) {
            if (!NAME.matcher(e.getKey()).matches() || e.getKey().equals(p.getName())) {
                throw new IllegalStateException("limiter.region.peers." + e.getKey()
                        + ": a peer's name must match [a-z0-9][a-z0-9-]{0,31} and differ from this region's");
            }
            String url = e.getValue();
            if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
                throw new IllegalStateException(
                        "limiter.region.peers." + e.getKey() + ": must be an http(s) URL (was '" + url + "')");
            }
        }
        if (p.getToken() == null || p.getToken().isBlank()) {
            throw new IllegalStateException(
                    "limiter.region.token: is required with peers (the shared secret regions present to each other)");
        }
        if (p.getSyncPeriod().toMillis() < 10) {
            throw new IllegalStateException("limiter.region.sync-period: must be at least 10ms");
        }
        if (!(p.getShareFloor() > 0 && p.getShareFloor() < 1)) {
            throw new IllegalStateException("limiter.region.share-floor: must be above 0 and below 1");
        }
    }

    /**
     * f of a policy (its default shape as in force now: a reloaded policy file changes it), the same
     * in every region: RegionShares.floorDemand.
     */
    private String floorArg(String policyName) {
        return Long.toString(floor(policyName));
    }

    private long floor(String policyName) {
        Policy policy = policies.find(policyName);
        return policy == null
                ? 1
                : RegionShares.floorDemand(
                        policy.limit(), mode.syncMicros(), properties.getShareFloor(), properties.regions());
    }

    /** region.lua's now: the store's clock. */
    private static final String STORE_CLOCK = "-1";

    private CompletionStage<List<Long>> region(Subject subject, String op, String... more) {
        String[] args = new String[9 + more.length];
        args[0] = op;
        args[1] = mode.syncArg();
        args[2] = regionsArg;
        args[3] = floorArg(subject.policy());
        args[4] = mode.ttlArg();
        args[5] = expiryArg;
        args[6] = peersArg;
        args[7] = STORE_CLOCK;
        args[8] = guaranteedArg;
        System.arraycopy(more, 0, args, 9, more.length);
        String[] k = {keys.key(subject, RegionMode.SUFFIX)};
        LuaScript script = LuaScript.REGION;
        CompletionStage<List<Long>> call = commands.evalsha(script.sha1(), ScriptOutputType.MULTI, k, args);
        return call.exceptionallyCompose(e -> {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c instanceof RedisNoScriptException
                    || (c.getMessage() != null && c.getMessage().startsWith("NOSCRIPT"))) {
                return commands.eval(script.source(), ScriptOutputType.MULTI, k, args);
            }
            return CompletableFuture.failedFuture(e);
        });
    }

    /**
     * The ticker's sync: waited for at most one sync period, so that the next one starts on time; a
     * sync still waiting then (for a peer that does not answer) finishes in the background.
     */
    private void tickSafely() {
        if (claiming.get()) {
            // the last sync is still claiming (a store that is slow, or very many subjects): this
            // period's demand is claimed by the next one, never by two at once
            return;
        }
        try {
            tick().toCompletableFuture().get(properties.getSyncPeriod().toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            // finishes in the background: a peer slow to answer (left out of the syncs meanwhile)
        } catch (Exception e) {
            LOG.warn("region sync: {}", e.toString());
        }
    }

    /** Whether a sync is claiming its subjects' demand (region.lua's ship) now. */
    private final java.util.concurrent.atomic.AtomicBoolean claiming = new java.util.concurrent.atomic.AtomicBoolean();

    /** The sync period of the last tick this node started. */
    private final AtomicLong lastTickPeriod = new AtomicLong(-1);

    /**
     * For a process frozen between requests (a function): runs a sync now, and waits for it, if
     * none ran since the current sync period began; else nothing. Returns false when the sync failed
     * or took longer than the ship timeout (the demand stays where it is and goes with a later one).
     */
    public boolean shipIfDue() {
        if (!active()) {
            return true;
        }
        long period = System.currentTimeMillis() * 1000 / mode.syncMicros();
        long last = lastTickPeriod.get();
        if (last >= period || !lastTickPeriod.compareAndSet(last, period)) {
            return true;
        }
        try {
            tick().toCompletableFuture().get(properties.getShipTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            LOG.warn("region sync after a request: {}", e.toString());
            return false;
        }
    }

    /** One sync: claim, ship, record. Returns how many entries this node shipped. */
    public CompletionStage<Integer> tick() {
        lastTickPeriod.accumulateAndGet(System.currentTimeMillis() * 1000 / mode.syncMicros(), Math::max);
        long ended = System.currentTimeMillis() * 1000 / mode.syncMicros() - 1;
        int nodes = Math.max(1, membership.map(Membership::nodes).orElse(1));
        List<Subject> subjects = new ArrayList<>();
        // a subject the peers hold at most the floor f of, which this node asked little of in the
        // period that ended (no more than f over the region's nodes), is not claimed: nothing of it
        // would be sent. Skipping is safe: the region's count of itself stays where the peers hold it.
        mode.active().forEach((s, a) -> {
            if (!a.quiet || a.askedIn(ended) * nodes > floor(s.policy())) {
                subjects.add(s);
            }
        });
        shareGauges();
        if (subjects.isEmpty()) {
            // nothing to ship: an empty batch to every peer all the same (a heartbeat), so that the
            // ages, the alerts on them and the bound tell a quiet hour from a partition (found
            // black-box: with nothing shipped for a minute the runbook's unreachable alert fired)
            return probe(true).thenApply(x -> {
                peers.values().forEach(p -> p.backlog.set(0));
                return 0;
            });
        }
        // a peer that answers a probe again is shipped to in this very sync, not the next — if it
        // answers within a quarter of a sync period; a probe still open then goes on, and the peer is
        // shipped to from the sync after its answer (a peer that does not answer must not hold up
        // the shipments to the others)
        return probe(false)
                .completeOnTimeout(null, Math.max(1, properties.getSyncPeriod().toMillis() / 4), TimeUnit.MILLISECONDS)
                .thenCompose(p -> shipTo(subjects));
    }

    private CompletionStage<Integer> shipTo(List<Subject> subjects) {
        peers.values().forEach(p -> p.pending.set(0));
        List<Peer> attempted = peers.values().stream()
                .filter(x -> x.reachable.get() && !x.busy())
                .toList();
        claiming.set(true);
        String attemptedArg =
                String.join(",", attempted.stream().map(x -> x.name).toList());
        return paced(subjects, s -> region(s, "ship", attemptedArg).thenApply(r -> {
                    long f = floor(s.policy());
                    long demand = r.get(1);
                    boolean quiet = mode.learned(s, demand, f, r.get(3));
                    if (r.get(0) != 1L) {
                        return null;
                    }
                    // Within the floor f every region is counted with anyway, a demand is sent only
                    // when the peers may hold more than f of it (or this node does not know what they
                    // hold), and never acknowledged: one more call each for a share that moves by at
                    // most f. Both are safe — a region the peers hold lower counts itself no higher
                    // (l:<p> was lowered by the claim), so it gets a smaller share, never a larger one.
                    return new Claim(
                            new Entry(s.policy(), s.key(), r.get(2), demand),
                            demand > f || !quiet,
                            r.get(4) == 1L && demand > f);
                }))
                .whenComplete((claims, e) -> claiming.set(false))
                .thenCompose(claims -> {
                    List<Claim> claimed =
                            claims.stream().filter(c -> c != null && c.send()).toList();
                    List<CompletableFuture<Integer>> batches = new ArrayList<>();
                    for (List<Claim> batch : batches(claimed)) {
                        batches.add(ship(batch, attempted));
                    }
                    return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new))
                            .thenApply(y -> {
                                peers.values().forEach(p -> p.backlog.set(p.pending.get()));
                                return batches.stream()
                                        .mapToInt(CompletableFuture::join)
                                        .sum();
                            });
                });
    }

    /**
     * A receiver takes a body of at most {@link #MAX_BODY} bytes (the server's request size limit is
     * 64 KiB): batches of up to {@link #BATCH} entries whose JSON stays under it, whatever the keys.
     */
    static final int MAX_BODY = 48 * 1024;

    private List<List<Claim>> batches(List<Claim> claimed) {
        List<List<Claim>> out = new ArrayList<>();
        List<Claim> current = new ArrayList<>();
        int size = 64 + properties.getName().length();
        for (Claim c : claimed) {
            int entry;
            try {
                entry = json.writeValueAsBytes(c.entry()).length + 1;
            } catch (IOException e) {
                continue;
            }
            if (!current.isEmpty() && (current.size() >= BATCH || size + entry > MAX_BODY)) {
                out.add(current);
                current = new ArrayList<>();
                size = 64 + properties.getName().length();
            }
            current.add(c);
            size += entry;
        }
        if (!current.isEmpty()) {
            out.add(current);
        }
        return out;
    }

    /**
     * An empty batch to each peer this node could not reach (answered within the ship timeout):
     * once one is taken, shipments to it resume; with {@code every}, to the reachable ones too (a
     * heartbeat when there is nothing to ship): one that does not take it is unreachable.
     */
    private CompletableFuture<Void> probe(boolean every) {
        List<CompletableFuture<Void>> probes = new ArrayList<>();
        for (Peer peer : peers.values()) {
            if ((!every && peer.reachable.get()) || peer.busy()) {
                continue;
            }
            // written out: the serializer leaves an empty list out, and a batch without entries is
            // refused; with every global policy's shape, so that regions whose limits differ are found
            // while nothing is shipped too
            byte[] body = probeBody();
            probes.add(send(peer, request(peer, body))
                    .thenAccept(r -> {
                        if (r.statusCode() == 200) {
                            peer.reachable.set(true);
                            peer.lastTookMs.set(System.currentTimeMillis());
                        } else {
                            peer.reachable.set(false);
                            peer.failures.increment();
                        }
                    })
                    .exceptionally(e -> {
                        // a failed probe is a failed shipment: the failure rate shows a partition
                        peer.reachable.set(false);
                        peer.failures.increment();
                        return null;
                    }));
        }
        return CompletableFuture.allOf(probes.toArray(CompletableFuture[]::new));
    }

    /** An empty batch: this region's name, no entries, and every global policy's shape. */
    private byte[] probeBody() {
        String shapes;
        try {
            shapes = new String(json.writeValueAsBytes(shapes(null)), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            shapes = "{}";
        }
        return ("{\"origin\":\"" + properties.getName() + "\",\"entries\":[],\"policies\":" + shapes + "}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * One call to a peer; on an I/O failure, once more on a new client (a batch is idempotent): a
     * pool may hold connections the other end or a proxy on the way has closed or abandoned, and
     * JDK's client has no way to drop them but to drop the client.
     */
    private CompletableFuture<HttpResponse<Void>> send(Peer peer, HttpRequest request) {
        HttpClient first = peer.client;
        peer.inFlight.incrementAndGet();
        return first.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                .exceptionallyCompose(
                        e -> fresh(peer, first).sendAsync(request, HttpResponse.BodyHandlers.discarding()))
                .whenComplete((r, e) -> peer.inFlight.decrementAndGet());
    }

    private HttpClient fresh(Peer peer, HttpClient failed) {
        synchronized (peer) {
            if (peer.client == failed) {
                peer.client = newClient();
                failed.shutdownNow();
            }
            return peer.client;
        }
    }

    private HttpClient newClient() {
        return HttpClient.newBuilder()
                .connectTimeout(properties.getShipTimeout())
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    private HttpRequest request(Peer peer, byte[] body) {
        return HttpRequest.newBuilder(peer.uri)
                .timeout(properties.getShipTimeout())
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + properties.getToken())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
    }

    private CompletableFuture<Integer> ship(List<Claim> claims, List<Peer> attempted) {
        List<Entry> entries = claims.stream().map(Claim::entry).toList();
        byte[] body;
        try {
            body = json.writeValueAsBytes(new Batch(
                    properties.getName(),
                    List.copyOf(entries),
                    shapes(entries.stream().map(Entry::policy).collect(java.util.stream.Collectors.toSet()))));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        long periodEndMs = (entries.get(0).period() + 1) * mode.syncMicros() / 1000;
        List<Entry> raise =
                claims.stream().filter(Claim::raise).map(Claim::entry).toList();
        List<CompletableFuture<Boolean>> sends = new ArrayList<>();
        for (Peer peer : attempted) {
            HttpRequest request = request(peer, body);
            // a batch is idempotent: a connection the pool kept but the other end (or a proxy on
            // the way) had closed is tried once more on a fresh one
            sends.add(send(peer, request)
                    .thenApply(r -> {
                        boolean ok = r.statusCode() == 200;
                        if (!ok) {
                            peer.reachable.set(false);
                            warnOnce(peer, "answered " + r.statusCode());
                        }
                        if (ok) {
                            long now = System.currentTimeMillis();
                            peer.lastTookMs.set(now);
                            peer.lagMs.set(Math.max(0, now - periodEndMs));
                        } else {
                            peer.failures.increment();
                        }
                        return ok;
                    })
                    .exceptionally(e -> {
                        peer.failures.increment();
                        peer.reachable.set(false);
                        warnOnce(
                                peer,
                                e.getCause() == null
                                        ? e.toString()
                                        : e.getCause().toString());
                        return false;
                    })
                    // what this peer took is recorded as soon as it answered, not after the slowest
                    // peer has (one that does not answer would hold it up to the ship timeout)
                    .thenCompose(ok -> !ok || raise.isEmpty()
                            ? CompletableFuture.completedFuture(ok)
                            : paced(
                                            raise,
                                            e -> region(
                                                    new Subject(e.policy(), e.key()),
                                                    "acked",
                                                    Long.toString(e.period()),
                                                    Long.toString(e.demand()),
                                                    peer.name))
                                    .thenApply(y -> true)));
        }
        return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).thenApply(x -> {
            List<String> took = new ArrayList<>();
            for (int i = 0; i < attempted.size(); i++) {
                if (sends.get(i).join()) {
                    took.add(attempted.get(i).name);
                }
            }
            peers.values().stream()
                    .filter(p -> !took.contains(p.name))
                    .forEach(p -> p.pending.addAndGet(entries.size()));
            if (took.size() < peers.size()) {
                entries.forEach(e -> mode.unsent(new Subject(e.policy(), e.key())));
            }
            if (took.size() == peers.size()) {
                shipped.increment(entries.size());
            }
            return entries.size();
        });
    }

    /** What a region took of a peer's batch: the entries newer than held, and those skipped. */
    public record Taken(int applied, int skipped) {}

    /**
     * A peer's batch: each entry applied to its subject's region state when newer than what is held.
     * Entries of policies that are not global here are skipped, counted and logged (at most once a
     * minute per origin): the regions' policy files differ, as during a rollout; the batch is still
     * taken, so the rest of it counts.
     */
    public CompletionStage<Taken> apply(
            String origin, List<Entry> entries, @io.micronaut.core.annotation.Nullable Map<String, String> shapes) {
        Peer peer = peers.get(origin);
        if (peer != null) {
            peer.lastSentUsMs.set(System.currentTimeMillis());
        }
        compareShapes(origin, shapes, entries.isEmpty());
        if (entries.isEmpty()) {
            // a probe: taken only when this region's store answers — a peer whose batches would be
            // refused (store down) must not be shipped to, or each shipment lowers what the prober
            // counts itself at (l:<p>) with nothing to raise it again (found black-box: with one
            // region's Redis down, the other two admitted ~2 a second of 100)
            return commands.ping().thenApply(pong -> new Taken(0, 0));
        }
        Map<Boolean, List<Entry>> byGlobal = entries.stream().collect(java.util.stream.Collectors.partitioningBy(e -> {
            Policy policy = policies.find(e.policy());
            return policy != null && policy.global();
        }));
        List<Entry> global = byGlobal.get(true);
        List<Entry> notGlobal = byGlobal.get(false);
        int skippedHere = notGlobal.size();
        if (skippedHere > 0) {
            this.skipped.increment(skippedHere);
            if (peer != null && oncePerMinute(peer.lastSkipWarnedMs)) {
                LOG.warn(
                        "Region {} shipped demand of policies that are not global here, e.g. {}: the regions' policy"
                                + " files differ (sluice_region_skipped_total counts each entry)",
                        origin,
                        notGlobal.get(0).policy());
            }
        }
        return paced(global, e -> region(
                                new Subject(e.policy(), e.key()),
                                "apply",
                                origin,
                                Long.toString(e.period()),
                                Long.toString(e.demand()))
                        .thenApply(r -> r.get(0)))
                .thenApply(results -> {
                    if (results.contains(null)) {
                        throw new IllegalStateException("the store did not take every entry");
                    }
                    int n = (int) results.stream().mapToLong(Long::longValue).sum();
                    applied.increment(n);
                    return new Taken(n, skippedHere);
                });
    }

    /** {sn, own demand, acked, the peers' demand that counts} of a subject (region.lua's read). */
    public CompletionStage<List<Long>> read(Subject subject) {
        return region(subject, "read");
    }

    /**
     * How far ahead of this region's clock a peer's period may be (its clock may run ahead). Short:
     * a delivery of a period ahead stands against the origin's real, older ones until that period
     * comes (found black-box: one authenticated delivery 59 s ahead with demand 0 let two regions
     * take the third's share for a minute, O +0.25).
     */
    static final long AHEAD_SECONDS = 2;

    /** The sync period this node's clock is in. */
    public long currentPeriod() {
        return System.currentTimeMillis() * 1000 / mode.syncMicros();
    }

    /** Periods in the peer expiry: older entries are stale. */
    public long expiryPeriods() {
        return properties.getPeerExpiry().toNanos() / 1000 / mode.syncMicros();
    }

    /** Periods in {@link #AHEAD_SECONDS}, at least 2 (the sender ships its last complete period). */
    public long aheadPeriods() {
        return Math.max(2, AHEAD_SECONDS * 1_000_000 / mode.syncMicros());
    }

    /** Whether this node ships and applies (multi-region mode on and a Redis store). */
    public boolean active() {
        return mode.on() && commands != null;
    }

    /** Whether {@code origin} is one of this region's peers. */
    public boolean knows(String origin) {
        return peers.containsKey(origin);
    }

    /**
     * Per peer: seconds since it last took a batch and since it last sent one (NaN: never), the
     * replication lag of its last answer (s), and its backlog (subjects of the last sync it did not take).
     */
    public Map<String, double[]> peerAges() {
        Map<String, double[]> out = new LinkedHashMap<>();
        peers.forEach((n, p) -> out.put(n, new double[] {
            ageSeconds(p.lastTookMs.get()), ageSeconds(p.lastSentUsMs.get()), lagSeconds(p), p.backlog.get()
        }));
        return out;
    }

    @PreDestroy
    @Override
    public void close() {
        if (ticker != null) {
            ticker.shutdownNow();
        }
        peers.values().forEach(peer -> peer.client.shutdownNow());
    }
}
