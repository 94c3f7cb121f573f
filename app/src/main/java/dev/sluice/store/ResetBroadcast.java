package dev.sluice.store;

import java.util.function.Consumer;

/**
 * Tells every node sharing the store that a subject was given units back — reset, or refunded —
 * so that what a node keeps of it (its over-limit cache) is forgotten everywhere, not only on the
 * node that gave them back.
 */
public interface ResetBroadcast extends AutoCloseable {
    /**
     * Announces that {@code subject} was reset or refunded; best effort: an announcement that cannot
     * be sent is tried again for a while, and one that is lost leaves a denial kept elsewhere until
     * that node stops keeping it ({@code limiter.over-limit-cache.max-keep}).
     */
    void announce(Subject subject);

    /** Calls {@code listener} for every subject announced, by any node (this one included). */
    void listen(Consumer<Subject> listener);

    /**
     * Calls {@code listener} whenever this node may have missed announcements: its subscription was
     * lost and has been made again.
     */
    default void listenForGaps(Runnable listener) {}

    /** Stops listening. */
    @Override
    default void close() {}

    /** One node only (the in-process store): nothing to tell. */
    ResetBroadcast NONE = new ResetBroadcast() {
        @Override
        public void announce(Subject subject) {}

        @Override
        public void listen(Consumer<Subject> listener) {}
    };
}
