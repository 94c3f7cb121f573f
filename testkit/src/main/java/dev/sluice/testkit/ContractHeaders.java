package dev.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpHeaders;

/**
 * The decision headers shared/contract/http-api.md requires on every 200 and 429, asserted the same
 * way wherever a test meets them: the server, the function handlers.
 */
public final class ContractHeaders {
    private ContractHeaders() {}

    /**
     * {@code RateLimit-*}, {@code X-RateLimit-*} (the reset as epoch seconds, within 2 s of {@code
     * nowSeconds + resetSeconds}), {@code RateLimit-Policy} and {@code RateLimit} of one decision on
     * {@code policy}: {@code limit} units a {@code windowSeconds} window, {@code remaining} left, full
     * again in {@code resetSeconds}.
     */
    public static void assertDecision(
            HttpHeaders h,
            String policy,
            long limit,
            long windowSeconds,
            long remaining,
            long resetSeconds,
            long nowSeconds) {
        assertThat(h.firstValue("RateLimit-Limit")).hasValue(String.valueOf(limit));
        assertThat(h.firstValue("RateLimit-Remaining")).hasValue(String.valueOf(remaining));
        assertThat(h.firstValue("RateLimit-Reset")).hasValue(String.valueOf(resetSeconds));
        assertThat(h.firstValue("X-RateLimit-Limit")).hasValue(String.valueOf(limit));
        assertThat(h.firstValue("X-RateLimit-Remaining")).hasValue(String.valueOf(remaining));
        assertThat(Long.parseLong(h.firstValue("X-RateLimit-Reset").orElseThrow()))
                .isBetween(nowSeconds + resetSeconds - 2, nowSeconds + resetSeconds + 2);
        assertThat(h.firstValue("RateLimit-Policy")).hasValue("\"" + policy + "\";q=" + limit + ";w=" + windowSeconds);
        assertThat(h.firstValue("RateLimit")).hasValue("\"" + policy + "\";r=" + remaining + ";t=" + resetSeconds);
    }
}
