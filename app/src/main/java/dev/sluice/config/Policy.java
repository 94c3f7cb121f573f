package dev.sluice.config;

import dev.sluice.core.Limit;

/**
 * A checked policy, ready for the request path.
 *
 * @param name the policy's name
 * @param limit the bucket shape
 * @param onStoreFailure what checks do when the store fails
 * @param windowSeconds the period in whole seconds (at least 1), for {@code RateLimit-Policy}'s {@code w}
 * @param policyHeader the {@code RateLimit-Policy} item, computed once
 */
public record Policy(String name, Limit limit, FailureMode onStoreFailure, long windowSeconds, String policyHeader) {

    public static Policy of(String name, Limit limit, FailureMode onStoreFailure) {
        long window = Math.max(1, Math.ceilDiv(limit.periodMs(), 1000L));
        String header = "\"" + name + "\";q=" + limit.burst() + ";w=" + window;
        return new Policy(name, limit, onStoreFailure, window, header);
    }
}
