package dev.sluice.core;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link NodeClock} that a test moves by hand; its wall clock starts at the real time, or where told. */
public final class ManualClock implements NodeClock {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AtomicLong epochMicros;

    public ManualClock() {
        this(NodeClock.SYSTEM.micros());
    }

    public ManualClock(long epochMicros) {
        this.epochMicros = new AtomicLong(epochMicros);
    }

    public void advanceMillis(long ms) {
        advanceMicros(ms * 1_000L);
    }

    public void advanceMicros(long us) {
        nanos.addAndGet(us * 1_000L);
        epochMicros.addAndGet(us);
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public Instant now() {
        long us = epochMicros.get();
        return Instant.ofEpochSecond(Math.floorDiv(us, 1_000_000L), Math.floorMod(us, 1_000_000L) * 1_000L);
    }
}
