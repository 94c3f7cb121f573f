package dev.sluice.region;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One subject's region state under a global policy, pure: the Java twin of region.lua's operations
 * and of the part of prelude.lua's global check that reads and writes the state (docs/multi-region.md).
 * Every operation takes {@code now} (µs) as an argument, so a simulator drives it in virtual time
 * and a test compares it with the scripts step by step ({@code RegionStateParityIT}). The fields
 * are the hash's: this region's demand per sync period, its share, what it claimed and what each
 * peer may hold of it, and each peer's last demand. The hash's time to live is modelled too: state
 * idle for longer than {@link Config#ttlMicros} is gone, as Redis would have dropped it.
 *
 * <p>The math is {@link RegionShares}'; the bucket a share gives (and the move of its state when the
 * share grows) is the caller's, with the algorithm's twin and {@link RegionShares#grownDebt}.
 */
public final class RegionState {
    /**
     * The arguments every operation takes: the sync period S (µs), the number of regions R, the
     * floor f (units per S), the share φ every region keeps (1/10000), how long the state lives idle
     * (µs), the peer expiry (µs) and every peer region's name.
     */
    public record Config(
            long syncMicros,
            int regions,
            long floor,
            long guaranteed,
            long ttlMicros,
            long expiryMicros,
            List<String> peers) {
        public Config {
            peers = List.copyOf(peers);
        }
    }

    /** What 'ship' answers: whether this call claimed the period, its demand, the period, the share, and raise. */
    public record Ship(boolean claimed, long demand, long period, long share, boolean raise) {}

    /** What 'apply' answers: whether the delivery was newer than what was held, and the share. */
    public record Applied(boolean applied, long share) {}

    /** What a global check reads: the share it decides on and the share the bucket was last decided on (-1: none). */
    public record Decided(long share, long previous) {}

    private static final long NONE = Long.MIN_VALUE;

    private final Config config;
    private long ck = NONE;
    private long c;
    private long cp;
    private long sn = NONE;
    private long su = NONE;
    private long sk = NONE;
    private final Map<String, Long> low = new HashMap<>();
    private final Map<String, Long> lastSent = new HashMap<>();
    /** Per peer: the periods sent to it and not yet known to be taken, with their demands (q:&lt;p&gt;). */
    private final Map<String, java.util.TreeMap<Long, Long>> unconfirmed = new HashMap<>();

    /** At most this many periods are kept in q:&lt;p&gt; (the oldest goes). */
    static final int UNCONFIRMED = 32;

    private final Map<String, Long> peerDemand = new HashMap<>();
    private final Map<String, Long> peerPeriod = new HashMap<>();
    private final Map<String, Long> heard = new HashMap<>();
    private long expiresAt = Long.MAX_VALUE;
    private boolean exists;

    public RegionState(Config config) {
        this.config = config;
    }

    /** Drops the state when its time to live passed (as Redis would have), before an operation at {@code now}. */
    private void age(long now) {
        if (exists && now >= expiresAt) {
            ck = NONE;
            c = 0;
            cp = 0;
            sn = NONE;
            su = NONE;
            sk = NONE;
            low.clear();
            lastSent.clear();
            unconfirmed.clear();
            peerDemand.clear();
            peerPeriod.clear();
            heard.clear();
            expiresAt = Long.MAX_VALUE;
            exists = false;
        }
    }

    /** A write (HSET, HINCRBY): creates the hash without a time to live when there was none. */
    private void written() {
        exists = true;
    }

    private void expire(long now) {
        exists = true;
        expiresAt = now + config.ttlMicros();
    }

    private long period(long now) {
        return Math.floorDiv(now, config.syncMicros());
    }

    /** The last complete sync period's demand of this region. */
    long demand(long now) {
        long k = period(now);
        if (ck == k) {
            return cp;
        }
        return ck == k - 1 ? c : 0;
    }

    /** The peers' demands that count: those heard of within the peer expiry. */
    long peers(long now) {
        long sum = 0;
        for (Map.Entry<String, Long> e : peerDemand.entrySet()) {
            Long h = heard.get(e.getKey());
            if (h != null && now - h <= config.expiryMicros()) {
                sum += e.getValue();
            }
        }
        return sum;
    }

    /** The lowest demand of this region any peer may hold (0 for one never sent to). */
    long lowest() {
        long m = Long.MAX_VALUE;
        for (String p : config.peers()) {
            m = Math.min(m, low.getOrDefault(p, 0L));
        }
        return m == Long.MAX_VALUE ? 0 : m;
    }

    private long reshare(long now) {
        long x = RegionShares.own(demand(now), lowest());
        sn = RegionShares.share(config.floor(), config.guaranteed(), config.regions(), x, peers(now));
        expire(now);
        return sn;
    }

    /** The share this region decides on (1/10000), or {@code initial} while none was computed. */
    public long share(long now, long initial) {
        age(now);
        return sn == NONE ? initial : sn;
    }

    /**
     * prelude.lua's global part: a check asking {@code cost} units (0: a look) counts them in the
     * current period's demand, and the bucket is decided on the share; returns it, and the share the
     * bucket was last decided on (whose growth the caller moves the bucket's state for).
     */
    public Decided decide(long cost, long now, long initial) {
        age(now);
        long share = sn == NONE ? initial : sn;
        if (cost > 0) {
            long k = period(now);
            if (ck == k) {
                c += cost;
                written();
            } else {
                cp = ck == k - 1 ? c : 0;
                ck = k;
                c = cost;
                expire(now);
            }
        }
        long previous = su == NONE ? -1 : su;
        if (su != share) {
            su = share;
            expire(now);
        }
        return new Decided(share, previous);
    }

    /** 'ship': claims the last complete period's demand for the peers in {@code to}, once per region and period. */
    public Ship ship(List<String> to, long now) {
        age(now);
        long d = demand(now);
        long k = period(now);
        if (sk != NONE && sk >= k - 1) {
            return new Ship(false, d, k - 1, sn == NONE ? 0 : sn, false);
        }
        boolean raise = false;
        sk = k - 1;
        written();
        for (String p : to) {
            long l = low.getOrDefault(p, 0L);
            if (d < l) {
                l = d;
            } else if (d > l) {
                raise = true;
            }
            low.put(p, l);
            lastSent.put(p, k - 1);
            java.util.TreeMap<Long, Long> q = unconfirmed.computeIfAbsent(p, x -> new java.util.TreeMap<>());
            q.put(k - 1, d);
            if (q.size() > UNCONFIRMED) {
                q.pollFirstEntry();
            }
        }
        return new Ship(true, d, k - 1, reshare(now), raise);
    }

    /**
     * 'acked': each peer in {@code took} that still has {@code period} among the periods sent to it
     * holds that period's demand or a later one's now, and never an older one again: what it may
     * hold is raised to the lowest of them, and only the later periods are kept.
     */
    public long acked(long period, long demand, List<String> took, long now) {
        age(now);
        for (String p : took) {
            java.util.TreeMap<Long, Long> q = unconfirmed.get(p);
            if (q != null && q.containsKey(period)) {
                java.util.NavigableMap<Long, Long> since = q.tailMap(period, true);
                low.put(p, java.util.Collections.min(since.values()));
                q.headMap(period, true).clear();
                if (q.isEmpty()) {
                    unconfirmed.remove(p);
                }
                written();
            }
        }
        return reshare(now);
    }

    /** 'apply': region {@code origin}'s demand of {@code period}, kept when newer than what is held. */
    public Applied apply(String origin, long period, long demand, long now) {
        age(now);
        Long held = peerPeriod.get(origin);
        boolean applied = false;
        if (held == null || period > held) {
            peerDemand.put(origin, demand);
            peerPeriod.put(origin, period);
            applied = true;
        }
        heard.put(origin, now);
        written();
        return new Applied(applied, reshare(now));
    }

    /**
     * 'read': {sn (-1: none), own demand, the lowest l:&lt;p&gt;, the peers' demand that counts, then per
     * peer l:&lt;p&gt;, d:&lt;p&gt; (-1: none) and s:&lt;p&gt; (-1: none)}.
     */
    public List<Long> read(long now) {
        age(now);
        List<Long> out = new java.util.ArrayList<>(List.of(sn == NONE ? -1 : sn, demand(now), lowest(), peers(now)));
        for (String p : config.peers()) {
            out.add(low.getOrDefault(p, 0L));
            out.add(peerDemand.getOrDefault(p, -1L));
            out.add(lastSent.getOrDefault(p, -1L));
        }
        return out;
    }

    /** The hash as region.lua and prelude.lua leave it, field by field (for the parity test). */
    Map<String, String> fields(long now) {
        age(now);
        Map<String, String> out = new HashMap<>();
        put(out, "ck", ck);
        if (ck != NONE) {
            out.put("c", Long.toString(c));
            out.put("cp", Long.toString(cp));
        }
        put(out, "sn", sn);
        put(out, "su", su);
        put(out, "sk", sk);
        low.forEach((p, v) -> out.put("l:" + p, Long.toString(v)));
        lastSent.forEach((p, v) -> out.put("s:" + p, Long.toString(v)));
        unconfirmed.forEach((p, q) -> {
            StringBuilder sb = new StringBuilder();
            q.forEach((k, d) ->
                    sb.append(sb.isEmpty() ? "" : ",").append(k).append(':').append(d));
            out.put("q:" + p, sb.toString());
        });
        peerDemand.forEach((r, v) -> out.put("d:" + r, Long.toString(v)));
        peerPeriod.forEach((r, v) -> out.put("v:" + r, Long.toString(v)));
        heard.forEach((r, v) -> out.put("h:" + r, Long.toString(v)));
        return out;
    }

    private static void put(Map<String, String> out, String field, long v) {
        if (v != NONE) {
            out.put(field, Long.toString(v));
        }
    }

    /** Whether the hash, if it exists, has a time to live (none would never go away). */
    boolean expires() {
        return !exists || expiresAt != Long.MAX_VALUE;
    }

    /** Whether the state exists at {@code now} (the hash has not expired). */
    public boolean exists(long now) {
        age(now);
        return exists;
    }
}
