package dev.sluice.api;

import dev.sluice.scope.RequestFacts;

/**
 * One syntactically valid check: the policy is still only a name, and whether {@code key} or the
 * request facts are needed depends on the policy's scope.
 *
 * @param field the prefix of this check's fields in messages: {@code ""} or {@code "checks[2]."}
 * @param policy the policy name
 * @param key the caller's key, or {@code null} when not sent
 * @param cost units to take, at least 1 (default 1)
 * @param tier the caller's tier, or {@code null}
 * @param facts the request facts ({@link RequestFacts#NONE} when not sent)
 * @param apiKey the caller's API key ({@code apiKey} or the {@code X-Api-Key} header): its plan
 *     decides, instead of a named policy; or {@code null}
 */
public record CheckRequest(
        String field, String policy, String key, long cost, String tier, RequestFacts facts, String apiKey) {
    /** The largest key, in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 256;

    /** The most checks one request may carry. */
    public static final int MAX_CHECKS = 16;
}
