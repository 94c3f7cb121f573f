package dev.sluice.chaos;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** A fault put on the proxies between the service nodes and Redis, and taken off again. */
interface Fault {
    void begin(Context c) throws Exception;

    void end(Context c) throws Exception;

    /**
     * How many separate outages the fault makes in {@code durationMs}: each can hand the local mode
     * a fresh share (docs/resilience.md).
     */
    default int outages(long durationMs) {
        return 1;
    }

    /** True when the fault ends by itself (a failover) rather than when it is taken off. */
    default boolean healsItself() {
        return false;
    }

    /** What a fault acts on: the Redis proxies, and for a failover the hooks that kill and restore. */
    record Context(List<Proxy> proxies, MasterKiller killer, int slot) {}

    /** Kills the Redis master serving a slot, and afterwards brings the killed node back. */
    interface MasterKiller {
        void kill(int slot) throws Exception;

        void restore() throws Exception;
    }

    static Fault latency(long ms, long jitter) {
        return new Fault() {
            @Override
            public void begin(Context c) throws IOException {
                for (Proxy p : c.proxies()) {
                    p.toxics()
                            .latency("chaos-latency", ToxicDirection.DOWNSTREAM, ms)
                            .setJitter(jitter);
                }
            }

            @Override
            public void end(Context c) throws IOException {
                remove(c, "chaos-latency");
            }
        };
    }

    /** Data is dropped and connections stay open: the hung Redis. */
    static Fault blackhole() {
        return new Fault() {
            @Override
            public void begin(Context c) throws IOException {
                for (Proxy p : c.proxies()) {
                    p.toxics().timeout("chaos-blackhole", ToxicDirection.UPSTREAM, 0);
                }
            }

            @Override
            public void end(Context c) throws IOException {
                remove(c, "chaos-blackhole");
            }
        };
    }

    static Fault resetPeer() {
        return new Fault() {
            @Override
            public void begin(Context c) throws IOException {
                for (Proxy p : c.proxies()) {
                    p.toxics().resetPeer("chaos-reset", ToxicDirection.UPSTREAM, 0);
                }
            }

            @Override
            public void end(Context c) throws IOException {
                remove(c, "chaos-reset");
            }
        };
    }

    static Fault down() {
        return new Fault() {
            @Override
            public void begin(Context c) throws IOException {
                for (Proxy p : c.proxies()) {
                    p.disable();
                }
            }

            @Override
            public void end(Context c) throws IOException {
                for (Proxy p : c.proxies()) {
                    p.enable();
                }
            }
        };
    }

    static Fault bandwidth(long kilobytesPerSecond) {
        return new Fault() {
            @Override
            public void begin(Context c) throws IOException {
                for (Proxy p : c.proxies()) {
                    p.toxics().bandwidth("chaos-bandwidth", ToxicDirection.DOWNSTREAM, kilobytesPerSecond);
                }
            }

            @Override
            public void end(Context c) throws IOException {
                remove(c, "chaos-bandwidth");
            }
        };
    }

    /** The proxies go down and come up again every {@code periodMs}, until the fault ends. */
    static Fault flapping(long periodMs) {
        AtomicBoolean running = new AtomicBoolean();
        Thread[] flapper = new Thread[1];
        return new Fault() {
            @Override
            public void begin(Context c) {
                running.set(true);
                flapper[0] = Thread.ofVirtual().start(() -> {
                    boolean up = false;
                    while (running.get()) {
                        try {
                            for (Proxy p : c.proxies()) {
                                if (up) {
                                    p.enable();
                                } else {
                                    p.disable();
                                }
                            }
                            up = !up;
                            Thread.sleep(periodMs);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
            }

            @Override
            public int outages(long durationMs) {
                return (int) Math.max(1, (durationMs + 2 * periodMs - 1) / (2 * periodMs));
            }

            @Override
            public void end(Context c) throws Exception {
                running.set(false);
                flapper[0].interrupt();
                flapper[0].join(5000);
                for (Proxy p : c.proxies()) {
                    p.enable();
                }
            }
        };
    }

    /** The master serving the scenario's subjects is killed; its replica takes over by itself. */
    static Fault masterKilled() {
        return new Fault() {
            @Override
            public void begin(Context c) throws Exception {
                c.killer().kill(c.slot());
            }

            @Override
            public void end(Context c) throws Exception {
                c.killer().restore();
            }

            @Override
            public boolean healsItself() {
                return true;
            }
        };
    }

    private static void remove(Context c, String toxic) throws IOException {
        for (Proxy p : c.proxies()) {
            p.toxics().get(toxic).remove();
        }
    }
}
