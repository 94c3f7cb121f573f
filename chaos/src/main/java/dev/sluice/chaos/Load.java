package dev.sluice.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open-loop load: {@code ratePerSecond} checks a second, whatever the answers take, spread at
 * random over the failure modes (one subject per mode), and as many no-op pings as one mode gets
 * checks ({@link Target#ping}, the control: what the HTTP path and the host take meanwhile). Each
 * request runs on its own virtual thread, so a slow answer never delays the next.
 */
final class Load implements AutoCloseable {
    private final Target target;
    private final List<String> modes;
    private final Map<String, String> policies;
    private final Map<String, String> keys;
    private final ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "chaos-load");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger fired = new AtomicInteger();
    private ScheduledFuture<?> ticks;

    Load(Target target, List<String> modes, Map<String, String> policies, Map<String, String> keys) {
        this.target = target;
        this.modes = modes;
        this.policies = policies;
        this.keys = keys;
    }

    void start(int ratePerSecond) {
        long periodMicros = 1_000_000L / Math.max(1, ratePerSecond);
        ticks = ticker.scheduleAtFixedRate(this::fire, 0, periodMicros, TimeUnit.MICROSECONDS);
    }

    private void fire() {
        // at random, not in turn: in turn, a round-robin balancer in front of as many nodes as there
        // are modes would send every check of one mode to the same node
        String mode = modes.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(modes.size()));
        send(() -> target.check(mode, policies.get(mode), keys.get(mode)));
        if (fired.incrementAndGet() % modes.size() == 0) {
            send(target::ping);
        }
    }

    private void send(java.util.function.Supplier<Sample> request) {
        inFlight.incrementAndGet();
        Thread.ofVirtual().start(() -> {
            try {
                samples.add(request.get());
            } finally {
                inFlight.decrementAndGet();
            }
        });
    }

    List<Sample> samples() {
        return new ArrayList<>(samples);
    }

    /** Stops sending and waits (up to 5 s) for the answers still on their way. */
    List<Sample> stop() throws InterruptedException {
        if (ticks != null) {
            ticks.cancel(false);
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (inFlight.get() > 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        return samples();
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}
