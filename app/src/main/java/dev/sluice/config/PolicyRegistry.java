package dev.sluice.config;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.scope.RouteTemplate;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The policies in force: those of the configuration ({@code limiter.policies.*}), checked when the
 * service starts (a mistake stops it with a message naming the policy and the field, e.g. {@code
 * limiter.policies.api.burst: must be at least 1 (was 0)}), and those of the live policy file,
 * replaced as a whole by {@link #replaceFilePolicies} when the file changes.
 */
@Context
public class PolicyRegistry {
    /** What a policy name (and a tier name) may look like. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private static final Pattern TIER = Pattern.compile("\\s*(\\d+)\\s*/\\s*([^\\s]+)\\s*(?:burst\\s+(\\d+)\\s*)?");
    private static final Pattern PERCENT = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*%\\s*");

    private final Map<String, Policy> configured;
    private volatile Map<String, Policy> policies;

    /** The longest period of a global policy: 2^52 / 10^4 µs (a share divides it in 1/10000), ~5.2 days. */
    static final long GLOBAL_MAX_PERIOD_MICROS = (1L << 52) / 10_000;

    @Inject
    public PolicyRegistry(Collection<PolicyProperties> configured) {
        this(check(configured, "limiter.policies.", "configuration"));
    }

    private PolicyRegistry(Map<String, Policy> configured) {
        this.configured = configured;
        this.policies = configured;
    }

    /** Checks every definition; throws {@link ConfigurationException} listing every mistake. */
    static Map<String, Policy> check(Collection<PolicyProperties> definitions, String prefix, String source) {
        Map<String, Policy> checked = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (PolicyProperties p : definitions) {
            try {
                Policy policy = check(p, prefix, source);
                checked.put(policy.name(), policy);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(
                    "Invalid rate limit policy configuration:\n  " + String.join("\n  ", problems));
        }
        return Collections.unmodifiableMap(checked);
    }

    /** Checks one configured policy; the exception's message names the property. */
    static Policy check(PolicyProperties p) {
        return check(p, "limiter.policies.", "configuration");
    }

    /** Checks one policy; the exception's message is {@code <prefix><name>.<field>: <reason>}. */
    public static Policy check(PolicyProperties p, String namePrefix, String source) {
        String prefix = namePrefix + p.getName() + ".";
        if (!NAME.matcher(p.getName()).matches()) {
            throw new IllegalArgumentException(
                    namePrefix + p.getName() + ": the policy name must match [a-z0-9][a-z0-9._-]{0,63}");
        }
        Algorithm algorithm = Algorithm.of(p.getAlgorithm());
        if (algorithm == null) {
            throw new IllegalArgumentException(prefix + "algorithm: unknown algorithm '" + p.getAlgorithm()
                    + "' (supported: " + Algorithm.names() + ")");
        }
        if (p.getLimit() == null) {
            throw new IllegalArgumentException(prefix + "limit: is required (units admitted per period, e.g. 100)");
        }
        Duration period;
        if (algorithm == Algorithm.CONCURRENCY) {
            if (p.getPeriod() != null) {
                throw new IllegalArgumentException(prefix + "period: does not apply to concurrency (a limit of leases"
                        + " held at once); set lease-ttl, how long an unreleased lease lives");
            }
            period = p.getLeaseTtl() == null ? Duration.ofSeconds(60) : p.getLeaseTtl();
            if (period.isNegative() || period.toMillis() < 1) {
                throw new IllegalArgumentException(prefix + "lease-ttl: must be at least 1ms (was " + period + ")");
            }
        } else {
            if (p.getLeaseTtl() != null) {
                throw new IllegalArgumentException(prefix + "lease-ttl: applies to concurrency only");
            }
            if (p.getPeriod() == null) {
                throw new IllegalArgumentException(
                        prefix + "period: is required (a duration such as 500ms, 1s, 1m, 1h, 1d)");
            }
            period = p.getPeriod();
            if (period.isNegative() || period.toMillis() < 1) {
                throw new IllegalArgumentException(prefix + "period: must be at least 1ms (was " + period + ")");
            }
        }
        long burst = p.getBurst() == null ? p.getLimit() : p.getBurst();
        FailureMode mode = parseMode(prefix, p.getOnStoreFailure());
        Limit limit = limit(prefix, algorithm, burst, p.getLimit(), period.toMillis());
        Scope scope = Scope.of(p.getScope());
        if (scope == null) {
            throw new IllegalArgumentException(
                    prefix + "scope: must be one of key, ip, api-key, endpoint, global (was '" + p.getScope() + "')");
        }
        int ipv6Prefix = p.getIpv6Prefix() == null ? 64 : p.getIpv6Prefix();
        if (ipv6Prefix < 1 || ipv6Prefix > 128) {
            throw new IllegalArgumentException(
                    prefix + "ipv6-prefix: must be between 1 and 128 (was " + ipv6Prefix + ")");
        }
        if (p.getIpv6Prefix() != null && scope != Scope.IP) {
            throw new IllegalArgumentException(prefix + "ipv6-prefix: applies to scope ip only");
        }
        List<RouteTemplate> routes = new ArrayList<>();
        if (p.getRoutes() != null) {
            if (scope != Scope.ENDPOINT) {
                throw new IllegalArgumentException(prefix + "routes: apply to scope endpoint only");
            }
            for (int i = 0; i < p.getRoutes().size(); i++) {
                try {
                    routes.add(RouteTemplate.parse(p.getRoutes().get(i)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(prefix + "routes[" + i + "]: " + e.getMessage(), e);
                }
            }
        }
        Map<String, Limit> tiers = new LinkedHashMap<>();
        if (p.getTiers() != null) {
            for (Map.Entry<String, String> t : new TreeMap<>(p.getTiers()).entrySet()) {
                tiers.put(
                        tierName(prefix + "tiers", t.getKey()),
                        tier(prefix + "tiers." + t.getKey(), algorithm, t.getValue()));
            }
        }
        Map<String, Limit> reserves = new LinkedHashMap<>();
        Limit pool = null;
        if (p.getReserve() != null && !p.getReserve().isEmpty()) {
            if (!tiers.isEmpty()) {
                throw new IllegalArgumentException(prefix + "reserve: cannot be combined with tiers: a reserving policy"
                        + " shares one capacity (limit) between tiers");
            }
            double total = 0;
            long reservedLimit = 0;
            long reservedBurst = 0;
            for (Map.Entry<String, String> r : new TreeMap<>(p.getReserve()).entrySet()) {
                String field = prefix + "reserve." + r.getKey();
                tierName(prefix + "reserve", r.getKey());
                Matcher m = PERCENT.matcher(r.getValue() == null ? "" : r.getValue());
                double share = m.matches() ? Double.parseDouble(m.group(1)) : -1;
                if (share <= 0 || share >= 100) {
                    throw new IllegalArgumentException(
                            field + ": must be a percentage above 0% and below 100% (was '" + r.getValue() + "')");
                }
                total += share;
                long l = (long) Math.floor(limit.limit() * share / 100);
                long b = (long) Math.floor(limit.burst() * share / 100);
                if (l < 1 || b < 1) {
                    throw new IllegalArgumentException(
                            field + ": " + r.getValue() + " of a limit of " + limit.limit() + " is less than one unit");
                }
                reservedLimit += l;
                reservedBurst += b;
                reserves.put(r.getKey(), limit(field, algorithm, b, l, limit.periodMs()));
            }
            if (total >= 100 || reservedLimit >= limit.limit() || reservedBurst >= limit.burst()) {
                throw new IllegalArgumentException(
                        prefix + "reserve: the shares must leave some of the limit to the other"
                                + " tiers (they add up to " + total + "%)");
            }
            pool = limit(
                    prefix + "reserve",
                    algorithm,
                    limit.burst() - reservedBurst,
                    limit.limit() - reservedLimit,
                    limit.periodMs());
        }
        boolean global =
                switch (p.getRegions() == null ? "" : p.getRegions()) {
                    case "regional" -> false;
                    case "global" -> true;
                    default ->
                        throw new IllegalArgumentException(
                                prefix + "regions: must be regional or global (was '" + p.getRegions() + "')");
                };
        if (global && !algorithm.hasBurst()) {
            throw new IllegalArgumentException(prefix + "regions: global applies to token-bucket and gcra only (was "
                    + algorithm.value() + "): a region's share of a bucket is a share of its burst and of its rate,"
                    + " which windows and leases do not have");
        }
        if (global && limit.periodMicros() > GLOBAL_MAX_PERIOD_MICROS) {
            // a region's period is the policy's divided by its share, in 1/10000: kept exact below 2^53
            throw new IllegalArgumentException(prefix + "regions: global applies to periods of at most "
                    + GLOBAL_MAX_PERIOD_MICROS / 86_400_000_000L + "d (was " + period + ")");
        }
        return Policy.of(p.getName(), limit, mode, scope, ipv6Prefix, routes, tiers, reserves, pool, source)
                .withGlobal(global);
    }

    private static String tierName(String field, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    field + ": tier name '" + name + "' must match [a-z0-9][a-z0-9._-]{0,63}");
        }
        return name;
    }

    private static Limit tier(String field, Algorithm algorithm, String spec) {
        Matcher m = TIER.matcher(spec == null ? "" : spec);
        Duration period = m.matches() ? Durations.parse(m.group(2)) : null;
        if (period == null) {
            throw new IllegalArgumentException(field + ": must read <limit>/<period>, optionally followed by burst <n>,"
                    + " e.g. 600/1m or 600/1m burst 1200 (was '" + spec + "')");
        }
        long limit = Long.parseLong(m.group(1));
        long burst = m.group(3) == null ? limit : Long.parseLong(m.group(3));
        return limit(field, algorithm, burst, limit, period.toMillis());
    }

    private static Limit limit(String prefix, Algorithm algorithm, long burst, long limit, long periodMs) {
        try {
            return new Limit(algorithm, burst, limit, periodMs);
        } catch (IllegalArgumentException e) {
            String sep = prefix.endsWith(".") ? "" : ".";
            throw new IllegalArgumentException(prefix + sep + e.getMessage(), e);
        }
    }

    private static FailureMode parseMode(String prefix, String value) {
        if (value != null) {
            for (FailureMode mode : FailureMode.values()) {
                if (mode.value().equals(value.toLowerCase(Locale.ROOT))) {
                    return mode;
                }
            }
        }
        throw new IllegalArgumentException(
                prefix + "on-store-failure: must be one of open, closed, local (was '" + value + "')");
    }

    /**
     * Puts the policies of the live file in force, next to the configured ones (a file policy of the
     * same name takes precedence). Unchanged policies keep their state in the store: state is keyed by
     * policy name and key, never by version.
     */
    public void replaceFilePolicies(Map<String, Policy> fromFile) {
        Map<String, Policy> merged = new TreeMap<>(configured);
        merged.putAll(fromFile);
        this.policies = Collections.unmodifiableMap(merged);
    }

    /** The policy named {@code name}, or {@code null}. */
    public Policy find(String name) {
        return policies.get(name);
    }

    /** Every policy, by name. */
    public Map<String, Policy> all() {
        return policies;
    }
}
