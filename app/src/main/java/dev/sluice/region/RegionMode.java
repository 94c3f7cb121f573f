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

    /** The sync period a subject of a global policy was last checked in. */
    static final class Active {
        volatile long lastPeriod;

        Active(long period) {
            this.lastPeriod = period;
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
        this.unknownShare = (long) Math.floor(RegionShares.SCALE * properties.getShareFloor() / properties.regions());
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

    /** Notes that this node checked {@code subject} of a global policy in the current sync period. */
    public void seen(Subject subject) {
        long period = System.currentTimeMillis() * 1000 / syncMicros;
        Active a = active.get(subject);
        if (a != null) {
            if (a.lastPeriod != period) {
                a.lastPeriod = period;
            }
            return;
        }
        if (active.size() >= properties.getMaxSubjects()) {
            dropped.incrementAndGet();
            return;
        }
        active.put(subject, new Active(period));
    }

    /** The subjects to ship now: checked in one of the last three periods; older ones are forgotten. */
    Map<Subject, Active> active() {
        long period = System.currentTimeMillis() * 1000 / syncMicros;
        active.entrySet().removeIf(e -> e.getValue().lastPeriod < period - 3);
        return active;
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
        long sn = known == null ? unknownShare : known;
        long l = Math.max(1, Math.floorDiv(limit.limit() * sn, RegionShares.SCALE));
        long b = limit.algorithm().hasBurst() ? Math.max(1, Math.floorDiv(limit.burst() * sn, RegionShares.SCALE)) : l;
        return new Limit(limit.algorithm(), b, l, limit.periodMs());
    }

    /** Subjects not tracked because {@code max-subjects} were already (their demand is not shipped). */
    public long dropped() {
        return dropped.get();
    }
}
