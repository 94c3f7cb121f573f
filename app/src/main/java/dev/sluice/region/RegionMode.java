package dev.sluice.region;

import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
import dev.sluice.core.Limit;
import dev.sluice.store.Subject;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Which checks are of a global policy, the arguments their scripts take, and the subjects of global
 * policies this node checked lately, which {@link RegionSync} ships every sync period. Off (nothing
 * is global) unless {@link RegionProperties#enabled()}.
 */
@Singleton
public final class RegionMode {
    /** Multi-region mode off: every policy regional. */
    public static final RegionMode OFF = new RegionMode(new RegionProperties(), name -> false);

    /**
     * A subject of a global policy this node checked: the sync period it last checked it in and
     * the units it asked of it in that period and the one before; and whether, as far as this node
     * knows, the peers hold at most the floor f of this region's demand of it (true for a subject
     * new to this node; false once a larger demand was learned, or a shipment was not taken by every
     * peer), so that they need not hear of it again while it stays within the floor.
     */
    static final class Active {
        volatile long lastPeriod;
        private long count;
        private long previous;
        volatile boolean quiet = true;

        Active(long period) {
            this.lastPeriod = period;
        }

        synchronized void add(long period, long cost) {
            if (period != lastPeriod) {
                previous = period == lastPeriod + 1 ? count : 0;
                count = 0;
                lastPeriod = period;
            }
            count += cost;
        }

        /** The units this node asked of the subject in sync period {@code k}, as far as it remembers. */
        synchronized long askedIn(long k) {
            if (lastPeriod == k) {
                return count;
            }
            return lastPeriod == k + 1 ? previous : 0;
        }
    }

    private final RegionProperties properties;
    private final Predicate<String> globalPolicy;
    private final boolean on;
    private final long syncMicros;
    private final String syncArg;
    private final String initialArg;
    private final String ttlArg;
    private final Map<Subject, Active> active = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    /** The share (1/10000) this region last held of each global subject this node shipped. */
    private final com.github.benmanes.caffeine.cache.Cache<Subject, Long> shares;

    private final long unknownShare;

    @jakarta.inject.Inject
    public RegionMode(RegionProperties properties, PolicyRegistry policies) {
        this(properties, name -> {
            Policy p = policies.find(name);
            return p != null && p.global();
        });
    }

    public RegionMode(RegionProperties properties, Predicate<String> globalPolicy) {
        this.properties = properties;
        this.globalPolicy = globalPolicy;
        this.on = properties.enabled();
        this.syncMicros = properties.getSyncPeriod().toNanos() / 1000;
        this.syncArg = Long.toString(syncMicros);
        this.initialArg = Long.toString(RegionShares.initial(properties.regions()));
        this.ttlArg = Long.toString(ttlMs(properties));
        this.shares = com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
                .maximumSize(Math.max(1, properties.getMaxSubjects()))
                .expireAfterWrite(properties.getPeerExpiry())
                .build();
        this.unknownShare = RegionShares.guaranteed(properties.getShareFloor(), properties.regions());
    }

    /** How long a subject's region state lives idle (ms): the peer expiry and a sync period more. */
    static long ttlMs(RegionProperties p) {
        return p.getPeerExpiry().toMillis() + p.getSyncPeriod().toMillis();
    }

    public boolean on() {
        return on;
    }

    public RegionProperties properties() {
        return properties;
    }

    /** Whether {@code subject}'s policy holds across all regions (and multi-region mode is on). */
    public boolean global(Subject subject) {
        return on && globalPolicy.test(subject.policy());
    }

    /** The suffix of a subject's region state key (region.lua). */
    public static final String SUFFIX = "gr";

    /** ARGV[8..11] of a global check (prelude.lua): 'g', S in µs, the initial share, the state's time to live. */
    public String[] scriptArgs() {
        return new String[] {"g", syncArg, initialArg, ttlArg};
    }

    public long syncMicros() {
        return syncMicros;
    }

    /** S in µs, as a script argument (prelude.lua's and region.lua's). */
    String syncArg() {
        return syncArg;
    }

    /** How long a subject's region state lives idle (ms), as a script argument. */
    String ttlArg() {
        return ttlArg;
    }

    /** Notes that this node checked {@code subject} of a global policy, asking {@code cost} units, now. */
    public void seen(Subject subject, long cost) {
        long period = System.currentTimeMillis() * 1000 / syncMicros;
        Active a = active.get(subject);
        if (a == null) {
            if (active.size() >= properties.getMaxSubjects()) {
                dropped.incrementAndGet();
                return;
            }
            a = active.computeIfAbsent(subject, s -> new Active(period));
        }
        a.add(period, cost);
    }

    /**
     * The subjects this node may have to ship: those it checked in the period that just ended (or in
     * the current one), and those the peers may hold more than the floor of ({@link Active#quiet}
     * false) — they must hear that it fell. The others are forgotten: the peers hold at most the
     * floor of them, and a subject another node checks is that node's to ship.
     */
    Map<Subject, Active> active() {
        long period = System.currentTimeMillis() * 1000 / syncMicros;
        active.entrySet().removeIf(e -> e.getValue().lastPeriod < period - 1 && e.getValue().quiet);
        return active;
    }

    /**
     * What a sync told this node of {@code subject}: the region's demand of the period shipped (within
     * the floor {@code f} or not), and its share. Returns whether the peers were known to hold at
     * most f of it before.
     */
    boolean learned(Subject subject, long demand, long f, long sn) {
        shareIs(subject, sn);
        Active a = active.get(subject);
        if (a == null) {
            return false;
        }
        boolean before = a.quiet;
        a.quiet = demand <= f;
        return before;
    }

    /** A peer did not take {@code subject}'s demand: it is sent again with the next sync, whatever it is. */
    void unsent(Subject subject) {
        Active a = active.get(subject);
        if (a != null) {
            a.quiet = false;
        }
    }

    /** Notes the share (1/10000) the region holds of {@code subject} now, as its state said. */
    public void shareIs(Subject subject, long sn) {
        if (sn >= 0) {
            shares.put(subject, sn);
        }
    }

    /**
     * The part of a global subject's limit this region may decide on without its store (the {@code
     * local} failure mode, which divides it further among the region's nodes): the share the region
     * last held of it as this node saw it (every sync period for the subjects it checked; not
     * older than the peer expiry), or {@code share-floor / R} when this node knows none. The peers
     * keep the region's last share reserved meanwhile (nothing of its demand reaches them while its
     * store is down), so the regions together stay within the whole limit. At least one unit.
     */
    public Limit regionLimit(Subject subject, Limit limit) {
        Long known = shares.getIfPresent(subject);
        return regionLimit(limit, known == null ? unknownShare : known);
    }

    /** {@code limit} at the share {@code sn} (in {@link RegionShares#SCALE}), at least one unit. */
    public static Limit regionLimit(Limit limit, long sn) {
        long l = Math.max(1, Math.floorDiv(limit.limit() * sn, RegionShares.SCALE));
        long b = limit.algorithm().hasBurst() ? Math.max(1, Math.floorDiv(limit.burst() * sn, RegionShares.SCALE)) : l;
        return new Limit(limit.algorithm(), b, l, limit.periodMs());
    }

    /** This region's share (a fraction of the limit) of a policy's subjects this node knows: how many, min, mean, max. */
    public record ShareStats(long subjects, double min, double mean, double max) {
        /** A policy none of whose subjects this node knows. */
        public static final ShareStats NONE = new ShareStats(0, Double.NaN, Double.NaN, Double.NaN);
    }

    /** The shares this node last saw of each policy's subjects (each within the peer expiry), in one pass. */
    public Map<String, ShareStats> shareStats() {
        Map<String, long[]> acc = new java.util.HashMap<>(); // n, min, max, sum
        shares.asMap().forEach((subject, sn) -> {
            long[] a = acc.computeIfAbsent(subject.policy(), p -> new long[] {0, Long.MAX_VALUE, 0, 0});
            a[0]++;
            a[1] = Math.min(a[1], sn);
            a[2] = Math.max(a[2], sn);
            a[3] += sn;
        });
        double scale = RegionShares.SCALE;
        Map<String, ShareStats> out = new java.util.HashMap<>();
        acc.forEach(
                (policy, a) -> out.put(policy, new ShareStats(a[0], a[1] / scale, a[3] / scale / a[0], a[2] / scale)));
        return out;
    }

    /** Subjects not tracked because {@code max-subjects} were already (their demand is not shipped). */
    public long dropped() {
        return dropped.get();
    }
}
