package dev.sluice.store;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * A store call given up on: its node did not answer a ping in time ({@link Reason#SICK}), or it was
 * waited for as long as the cap allows ({@link Reason#CAP}). The command may still run in the
 * store: {@link #late()} completes as it does, so that a consume answered too late can be settled.
 */
public final class StoreTimeoutException extends TimeoutException {
    /** Why a late call was given up on. */
    public enum Reason {
        SICK,
        CAP
    }

    private final transient Reason reason;
    private final transient CompletionStage<?> late;

    public StoreTimeoutException(Reason reason, CompletionStage<?> late) {
        super(
                reason == Reason.SICK
                        ? "the store node did not answer a ping within the probe timeout"
                        : "the store call was not answered within the wait cap");
        this.reason = reason;
        this.late = late;
    }

    public Reason reason() {
        return reason;
    }

    /** The call itself, which may still complete: with what the store decided after all. */
    public CompletionStage<?> late() {
        return late;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // made by the thousand while a store is down: no stack to fill
    }
}
