package dev.sluice.store;

import java.util.function.Consumer;

/**
 * Tells every node sharing the store that a subject was reset, so that what a node keeps of it
 * (its over-limit cache) is forgotten everywhere, not only on the node that reset it.
 */
public interface ResetBroadcast extends AutoCloseable {
    /** Announces that {@code subject} was reset; best effort (a lost message leaves a denial kept until its retry time). */
    void announce(Subject subject);

    /** Calls {@code listener} for every subject announced, by any node (this one included). */
    void listen(Consumer<Subject> listener);

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
