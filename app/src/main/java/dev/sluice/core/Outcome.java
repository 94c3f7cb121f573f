package dev.sluice.core;

/**
 * What a check (or a refund) does, as every algorithm's twin reports it.
 *
 * @param decision the answer; {@code null} for a refund
 * @param write the whole state after the call, in exactly the form the algorithm's script leaves
 *     it ({@link ZState} for sorted sets); {@code null} when nothing was written, {@code ""} when the
 *     state was removed
 * @param ttlMs the time to live set with {@code write}, in milliseconds; negative when the call left
 *     the time to live as it was
 */
public record Outcome(Decision decision, String write, long ttlMs) {
    /** Nothing written. */
    public static Outcome unchanged(Decision decision) {
        return new Outcome(decision, null, -1);
    }
}
