package dev.sluice.api;

/**
 * A syntactically valid {@code POST /v1/check} body: the policy is still only a name and the cost
 * not yet checked against the policy's burst.
 */
public record CheckRequest(String policy, String key, long cost) {
    /** The largest key, in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 256;
}
