package dev.sluice.chaos.toxiproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One proxy: listens on {@code listen}, opens a connection to {@code upstream} for each client, and
 * passes the bytes both ways through its toxics, with Toxiproxy's semantics:
 *
 * <ul>
 *   <li>{@code latency}: each chunk is delayed {@code latency ± jitter} ms from when it arrived
 *       (delays do not add up along a stream);
 *   <li>{@code bandwidth}: at most {@code rate} KB/s;
 *   <li>{@code slicer}: chunks cut into {@code average_size ± size_variation} byte pieces, {@code
 *       delay} µs apart;
 *   <li>{@code timeout}: no data gets through (it is dropped); the connection is closed after
 *       {@code timeout} ms (0: never), and when the toxic is removed (the stream lost bytes);
 *   <li>{@code reset_peer}: the connection is reset (TCP RST) after {@code timeout} ms;
 *   <li>{@code slow_close}: a close is passed on {@code delay} ms late;
 *   <li>{@code limit_data}: the connection is closed once {@code bytes} have passed in the stream.
 * </ul>
 *
 * Toxics act on connections that are open when they are added, too. A disabled proxy closes its
 * connections and stops listening, so new connections are refused.
 */
final class ToxicProxy {
    final String name;
    private volatile String listen;
    private volatile String upstream;
    private volatile boolean enabled;
    private final List<Toxic> toxics = new CopyOnWriteArrayList<>();
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timers;
    private ServerSocket server;

    /** The thread accepting on {@link #server}; the listener's port is free again only once it has ended. */
    private Thread acceptor;

    ToxicProxy(String name, String listen, String upstream, ScheduledExecutorService timers) {
        if (name == null || name.isBlank()) {
            throw new ApiException(400, "bad request: missing name");
        }
        if (upstream == null || upstream.isBlank()) {
            throw new ApiException(400, "bad request: missing upstream");
        }
        this.name = name;
        this.listen = listen == null || listen.isBlank() ? "127.0.0.1:0" : listen;
        this.upstream = upstream;
        this.timers = timers;
    }

    synchronized void start() {
        if (enabled) {
            return;
        }
        HostPort at = HostPort.parse(listen);
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(at.host(), at.port()));
            server = s;
            listen = at.host() + ":" + s.getLocalPort();
        } catch (IOException e) {
            throw new ApiException(500, "listen " + listen + ": " + e.getMessage());
        }
        enabled = true;
        ServerSocket s = server;
        // a platform thread: closing a listener that a virtual thread waits on may take effect late
        acceptor = Thread.ofPlatform().daemon().name("toxiproxy-accept-" + name).start(() -> accept(s));
    }

    synchronized void stop() {
        enabled = false;
        if (server != null) {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            server = null;
            // the JDK closes a listener that a thread is blocked accepting on only when that thread
            // leaves accept(): until then the port is taken, and enabling the proxy again on it failed
            // with "Address already in use" (ToxiproxyServerTest, POST /reset right after a disable)
            try {
                acceptor.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            acceptor = null;
        }
        for (Link l : links) {
            l.close(false);
        }
    }

    synchronized void update(String newListen, String newUpstream, Boolean newEnabled) {
        boolean restart = enabled
                && ((newListen != null && !newListen.equals(listen))
                        || (newUpstream != null && !newUpstream.equals(upstream)));
        if (restart) {
            stop();
        }
        if (newListen != null) {
            listen = newListen;
        }
        if (newUpstream != null) {
            upstream = newUpstream;
        }
        if (restart || Boolean.TRUE.equals(newEnabled)) {
            start();
        } else if (Boolean.FALSE.equals(newEnabled)) {
            stop();
        }
    }

    private void accept(ServerSocket s) {
        while (!s.isClosed()) {
            Socket client;
            try {
                client = s.accept();
            } catch (IOException e) {
                return; // closed: disabled or deleted
            }
            if (s.isClosed() || !enabled) {
                // accepted as the proxy was being disabled: a disabled proxy passes nothing
                try {
                    client.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                return;
            }
            Link link = new Link(client);
            links.add(link);
            Thread.ofVirtual().name("toxiproxy-link-" + name).start(link::run);
        }
    }

    List<Toxic> toxics() {
        return List.copyOf(toxics);
    }

    Toxic toxic(String toxicName) {
        for (Toxic t : toxics) {
            if (t.name().equals(toxicName)) {
                return t;
            }
        }
        throw new ApiException(404, "toxic not found");
    }

    synchronized Toxic addToxic(Toxic t) {
        for (Toxic existing : toxics) {
            if (existing.name().equals(t.name())) {
                throw new ApiException(409, "toxic already exists");
            }
        }
        toxics.add(t);
        links.forEach(l -> l.arm(t));
        return t;
    }

    synchronized Toxic updateToxic(String toxicName, Map<String, Long> attributes, Double toxicity) {
        Toxic old = toxic(toxicName);
        Toxic updated = old.withAttributes(attributes, toxicity);
        toxics.set(toxics.indexOf(old), updated);
        links.forEach(l -> {
            if (toxicity != null) {
                l.applies.remove(toxicName);
            }
            l.arm(updated);
        });
        return updated;
    }

    synchronized void removeToxic(String toxicName) {
        Toxic t = toxic(toxicName);
        toxics.remove(t);
        for (Link l : links) {
            Boolean applied = l.applies.remove(toxicName);
            // a timeout dropped bytes on the ground: the stream is broken, so it is closed
            if ("timeout".equals(t.type()) && Boolean.TRUE.equals(applied)) {
                l.close(false);
            }
        }
    }

    synchronized void removeAllToxics() {
        for (Toxic t : toxics()) {
            removeToxic(t.name());
        }
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("listen", listen);
        m.put("upstream", upstream);
        m.put("enabled", enabled);
        List<Object> list = new ArrayList<>();
        toxics.forEach(t -> list.add(t.json()));
        m.put("toxics", list);
        return m;
    }

    record HostPort(String host, int port) {
        static HostPort parse(String address) {
            int colon = address.lastIndexOf(':');
            if (colon < 0) {
                throw new ApiException(400, "bad request: address must be host:port, was " + address);
            }
            String host = address.substring(0, colon);
            if (host.isEmpty()) {
                host = "127.0.0.1";
            }
            try {
                return new HostPort(host, Integer.parseInt(address.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new ApiException(400, "bad request: port of " + address + " is not a number");
            }
        }
    }

    private static final byte[] EOF = new byte[0];

    private record Chunk(byte[] data, long arrivedNanos) {}

    /** One client connection and its connection to the upstream. */
    final class Link {
        private final Socket client;
        private volatile Socket server;
        private volatile boolean closed;
        /** Whether each toxic (by name) applies to this connection: decided once, by its toxicity. */
        final Map<String, Boolean> applies = new ConcurrentHashMap<>();

        private final AtomicInteger directionsDone = new AtomicInteger();

        Link(Socket client) {
            this.client = client;
        }

        boolean applies(Toxic t) {
            return applies.computeIfAbsent(
                    t.name(), k -> ThreadLocalRandom.current().nextDouble() < t.toxicity());
        }

        void run() {
            HostPort to = HostPort.parse(upstream);
            try {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(to.host(), to.port()), 2000);
                s.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                server = s;
            } catch (IOException e) {
                close(false);
                return;
            }
            for (Toxic t : toxics) {
                arm(t);
            }
            try {
                pipe(client.getInputStream(), server.getOutputStream(), true);
                pipe(server.getInputStream(), client.getOutputStream(), false);
            } catch (IOException e) {
                close(false);
            }
        }

        /** Starts the timers of a {@code timeout} or {@code reset_peer} toxic on this connection. */
        void arm(Toxic t) {
            boolean timed = "timeout".equals(t.type()) || "reset_peer".equals(t.type());
            if (!timed || closed || !applies(t)) {
                return;
            }
            long after = t.attr("timeout");
            if ("timeout".equals(t.type()) && after <= 0) {
                return; // holds the connection open, passing nothing, until removed
            }
            boolean reset = "reset_peer".equals(t.type());
            var unused = timers.schedule(
                    () -> {
                        if (toxics.contains(t)) {
                            close(reset);
                        }
                    },
                    Math.max(0, after),
                    TimeUnit.MILLISECONDS);
        }

        private void pipe(InputStream in, OutputStream out, boolean upstreamStream) {
            LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
            Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[32 * 1024];
                try {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        byte[] data = new byte[n];
                        System.arraycopy(buffer, 0, data, 0, n);
                        queue.add(new Chunk(data, System.nanoTime()));
                    }
                } catch (IOException e) {
                    // closed or reset: pass the end on
                }
                queue.add(new Chunk(EOF, System.nanoTime()));
            });
            Thread.ofVirtual().start(() -> write(queue, out, upstreamStream));
        }

        private void write(LinkedBlockingQueue<Chunk> queue, OutputStream out, boolean upstreamStream) {
            String stream = upstreamStream ? "upstream" : "downstream";
            long passed = 0;
            try {
                while (!closed) {
                    Chunk chunk = queue.take();
                    if (chunk.data() == EOF) {
                        for (Toxic t : toxics) {
                            if (t.stream().equals(stream) && "slow_close".equals(t.type()) && applies(t)) {
                                Thread.sleep(t.attr("delay"));
                            }
                        }
                        end(out);
                        return;
                    }
                    byte[] data = chunk.data();
                    boolean drop = false;
                    Toxic slicer = null;
                    long limit = -1;
                    for (Toxic t : toxics) {
                        if (!t.stream().equals(stream) || !applies(t)) {
                            continue;
                        }
                        switch (t.type()) {
                            case "timeout" -> drop = true;
                            case "latency" -> {
                                long jitter = t.attr("jitter");
                                long delayMs = t.attr("latency")
                                        + (jitter > 0
                                                ? ThreadLocalRandom.current().nextLong(-jitter, jitter + 1)
                                                : 0);
                                long due = chunk.arrivedNanos() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, delayMs));
                                sleepUntil(due);
                            }
                            case "bandwidth" -> {
                                long rate = t.attr("rate"); // KB/s = bytes per ms
                                if (rate > 0) {
                                    Thread.sleep(Math.max(0, data.length / rate));
                                }
                            }
                            case "slicer" -> slicer = t;
                            case "limit_data" -> limit = limit < 0 ? t.attr("bytes") : Math.min(limit, t.attr("bytes"));
                            default -> {
                                // reset_peer and slow_close do not touch data
                            }
                        }
                    }
                    if (drop) {
                        continue;
                    }
                    boolean closeAfter = false;
                    if (limit >= 0 && passed + data.length >= limit) {
                        int keep = (int) Math.max(0, limit - passed);
                        byte[] cut = new byte[keep];
                        System.arraycopy(data, 0, cut, 0, keep);
                        data = cut;
                        closeAfter = true;
                    }
                    send(out, data, slicer);
                    passed += data.length;
                    if (closeAfter) {
                        close(false);
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close(false);
            } catch (IOException e) {
                close(false);
            }
        }

        private void send(OutputStream out, byte[] data, Toxic slicer) throws IOException, InterruptedException {
            if (slicer == null || slicer.attr("average_size") <= 0) {
                out.write(data);
                out.flush();
                return;
            }
            int at = 0;
            while (at < data.length) {
                long variation = slicer.attr("size_variation");
                long size = slicer.attr("average_size")
                        + (variation > 0 ? ThreadLocalRandom.current().nextLong(-variation, variation + 1) : 0);
                int n = (int) Math.min(data.length - at, Math.max(1, size));
                out.write(data, at, n);
                out.flush();
                at += n;
                long delayMicros = slicer.attr("delay");
                if (delayMicros > 0 && at < data.length) {
                    Thread.sleep(delayMicros / 1000, (int) (delayMicros % 1000) * 1000);
                }
            }
        }

        private void end(OutputStream out) {
            try {
                if (out == client.getOutputStream()) {
                    client.shutdownOutput();
                } else if (server != null) {
                    server.shutdownOutput();
                }
            } catch (IOException e) {
                // already gone
            }
            if (directionsDone.incrementAndGet() == 2) {
                close(false);
            }
        }

        /** Closes both sides; {@code reset} sends a TCP RST instead of a FIN. */
        void close(boolean reset) {
            if (closed) {
                return;
            }
            closed = true;
            links.remove(this);
            for (Socket s : new Socket[] {client, server}) {
                if (s == null) {
                    continue;
                }
                try {
                    if (reset) {
                        s.setSoLinger(true, 0);
                    }
                    s.close();
                } catch (SocketException e) {
                    // closed already
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }

        private static void sleepUntil(long dueNanos) throws InterruptedException {
            long wait = dueNanos - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }
    }
}
