package dev.sluice.region;

import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
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

    /** Subjects not tracked because {@code max-subjects} were already (their demand is not shipped). */
    public long dropped() {
        return dropped.get();
    }
}
