package dev.sluice.config;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.scope.RouteTemplate;
import java.util.List;
import java.util.Map;

/**
 * A checked policy, ready for the request path.
 *
 * @param name the policy's name
 * @param limit the shape of the default tier (and of the whole capacity when tiers reserve shares)
 * @param onStoreFailure what checks do when the store fails
 * @param windowSeconds the period in whole seconds (at least 1), for {@code RateLimit-Policy}'s {@code w}
 * @param policyHeader the {@code RateLimit-Policy} item of the default tier, computed once
 * @param scope whose allowance a check draws on
 * @param ipv6Prefix for scope {@code ip}: IPv6 clients are grouped by this prefix length
 * @param routes for scope {@code endpoint}: the route templates paths are matched against
 * @param tiers per-tier shapes ({@code tiers: {free: 60/1m, paid: 600/1m}}), by tier name
 * @param tierHeaders the {@code RateLimit-Policy} item of each tier
 * @param reserves the share of {@code limit} reserved for each named tier (fair use), as a limit
 *     of its own; a check of such a tier draws on its reserve first, then on the pool
 * @param pool what is not reserved, shared by every tier (only with reserves)
 * @param source where the policy was defined ({@code configuration} or a file path)
 * @param global whether the limit holds across every region together ({@code regions: global},
 *     docs/multi-region.md) rather than in each region on its own (the default)
 */
public record Policy(
        String name,
        Limit limit,
        FailureMode onStoreFailure,
        long windowSeconds,
        String policyHeader,
        Scope scope,
        int ipv6Prefix,
        List<RouteTemplate> routes,
        Map<String, Limit> tiers,
        Map<String, String> tierHeaders,
        Map<String, Limit> reserves,
        Limit pool,
        String source,
        boolean global) {

    /** A key-scoped policy without tiers. */
    public static Policy of(String name, Limit limit, FailureMode onStoreFailure) {
        return of(name, limit, onStoreFailure, Scope.KEY, 64, List.of(), Map.of(), Map.of(), null, "configuration");
    }

    public static Policy of(
            String name,
            Limit limit,
            FailureMode onStoreFailure,
            Scope scope,
            int ipv6Prefix,
            List<RouteTemplate> routes,
            Map<String, Limit> tiers,
            Map<String, Limit> reserves,
            Limit pool,
            String source) {
        long window = Math.max(1, Math.ceilDiv(limit.periodMs(), 1000L));
        Map<String, String> tierHeaders = new java.util.TreeMap<>();
        tiers.forEach((tier, l) -> tierHeaders.put(tier, header(name, l)));
        return new Policy(
                name,
                limit,
                onStoreFailure,
                window,
                header(name, limit),
                scope,
                ipv6Prefix,
                List.copyOf(routes),
                java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(tiers)),
                java.util.Collections.unmodifiableMap(tierHeaders),
                java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(reserves)),
                pool,
                source,
                false);
    }

    /** This policy, holding across all regions together when {@code global} (docs/multi-region.md). */
    public Policy withGlobal(boolean global) {
        return new Policy(
                name,
                limit,
                onStoreFailure,
                windowSeconds,
                policyHeader,
                scope,
                ipv6Prefix,
                routes,
                tiers,
                tierHeaders,
                reserves,
                pool,
                source,
                global);
    }

    /**
     * The IETF {@code RateLimit-Policy} item: quota {@code q} per window {@code w} seconds; a
     * concurrency limit has no window and names its quota unit {@code concurrent-requests}.
     */
    public static String header(String name, Limit limit) {
        if (limit.algorithm() == Algorithm.CONCURRENCY) {
            return "\"" + name + "\";q=" + limit.limit() + ";qu=\"concurrent-requests\"";
        }
        long window = Math.max(1, Math.ceilDiv(limit.periodMs(), 1000L));
        return "\"" + name + "\";q=" + limit.burst() + ";w=" + window;
    }

    /** The shape for {@code tier} ({@code null}: the default). */
    public Limit limitFor(String tier) {
        return tier == null ? limit : tiers.getOrDefault(tier, limit);
    }

    /** The {@code RateLimit-Policy} item for {@code tier}. */
    public String headerFor(String tier) {
        return tier == null ? policyHeader : tierHeaders.getOrDefault(tier, policyHeader);
    }

    /** Whether the policy reserves shares of its capacity for tiers. */
    public boolean reserving() {
        return !reserves.isEmpty();
    }

    /** Whether this definition decides exactly as {@code other} does (state can be kept across a reload). */
    public boolean sameAs(Policy other) {
        return other != null
                && equals(new Policy(
                        other.name,
                        other.limit,
                        other.onStoreFailure,
                        other.windowSeconds,
                        other.policyHeader,
                        other.scope,
                        other.ipv6Prefix,
                        other.routes,
                        other.tiers,
                        other.tierHeaders,
                        other.reserves,
                        other.pool,
                        source,
                        other.global));
    }
}
