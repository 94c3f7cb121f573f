package dev.sluice.config;

import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.exceptions.ConfigurationException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The configured policies, checked when the service starts: a mistake stops it with a message
 * naming the policy and the field, e.g. {@code limiter.policies.api.burst: must be at least 1 (was
 * 0)}.
 */
@Context
public class PolicyRegistry {
    /** What a policy name may look like. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private final Map<String, Policy> policies;

    public PolicyRegistry(Collection<PolicyProperties> configured) {
        Map<String, Policy> checked = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (PolicyProperties p : configured) {
            try {
                Policy policy = check(p);
                checked.put(policy.name(), policy);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(
                    "Invalid rate limit policy configuration:\n  " + String.join("\n  ", problems));
        }
        this.policies = Collections.unmodifiableMap(checked);
    }

    /** Checks one policy; the exception's message names the property. */
    static Policy check(PolicyProperties p) {
        String prefix = "limiter.policies." + p.getName() + ".";
        if (!NAME.matcher(p.getName()).matches()) {
            throw new IllegalArgumentException(
                    "limiter.policies." + p.getName() + ": the policy name must match [a-z0-9][a-z0-9._-]{0,63}");
        }
        Algorithm algorithm = Algorithm.of(p.getAlgorithm());
        if (algorithm == null) {
            throw new IllegalArgumentException(prefix + "algorithm: unknown algorithm '" + p.getAlgorithm()
                    + "' (supported: " + Algorithm.names() + ")");
        }
        if (p.getLimit() == null) {
            throw new IllegalArgumentException(prefix + "limit: is required (units admitted per period, e.g. 100)");
        }
        if (p.getPeriod() == null) {
            throw new IllegalArgumentException(
                    prefix + "period: is required (a duration such as 500ms, 1s, 1m, 1h, 1d)");
        }
        Duration period = p.getPeriod();
        if (period.isNegative() || period.toMillis() < 1) {
            throw new IllegalArgumentException(prefix + "period: must be at least 1ms (was " + period + ")");
        }
        long burst = p.getBurst() == null ? p.getLimit() : p.getBurst();
        FailureMode mode = parseMode(prefix, p.getOnStoreFailure());
        try {
            return Policy.of(p.getName(), new Limit(algorithm, burst, p.getLimit(), period.toMillis()), mode);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(prefix + e.getMessage(), e);
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

    /** The policy named {@code name}, or {@code null}. */
    public Policy find(String name) {
        return policies.get(name);
    }

    /** Every policy, by name. */
    public Map<String, Policy> all() {
        return policies;
    }
}
