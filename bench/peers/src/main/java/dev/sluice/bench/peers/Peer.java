package dev.sluice.bench.peers;

import java.util.concurrent.CompletionStage;

/** One way of deciding a check of cost 1 for a key. */
interface Peer {
    /** The decision: admitted or not, what is left, and when denied the seconds to wait. */
    record Result(boolean allowed, long remaining, long retryAfterSeconds) {}

    CompletionStage<Result> check(String key);

    /** The response headers the library's usual integration sends. */
    String remainingHeader();
}
