package dev.sluice.store.redis;

import io.lettuce.core.RedisURI;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Pings Redis nodes for {@link CallBudget} over plain sockets of its own, all served by one thread
 * of its own ({@code sluice-store-probe}) that sends each ping ({@code ECHO} of a check's size), reads the answers and takes the
 * verdicts: the time a ping is sent is the time its bytes were written, and a verdict is taken only
 * after the thread has read whatever has arrived ({@link #afterReads}). A busy CPU can therefore
 * delay a verdict but never turn an answer that reached this host in time into a missing one.
 *
 * <p>One connection per node, opened on first use (or by {@link #warmUp}), with {@code AUTH} first
 * when the URI has credentials; a connection that fails fails its pings and is opened anew by the
 * next. Nothing is sent while no call is late. TLS is not spoken here: {@link StoreFactory} uses
 * {@link LettuceProbe} for {@code rediss://}.
 */
final class SocketProbe implements StoreProbe, AutoCloseable {
    /**
     * The ping: {@code ECHO} of {@link #PAYLOAD} bytes, about the size of a check's script call and
     * its answer, so that a link that carries small packets but not a check's bytes (a bandwidth
     * collapse) is seen as slow too.
     */
    static final int PAYLOAD = 256;

    private static final byte[] PING = ("*2\r\n$4\r\nECHO\r\n$" + PAYLOAD + "\r\n" + "s".repeat(PAYLOAD) + "\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    private final Function<byte[], RedisURI> nodeOfKey;
    private final Supplier<List<RedisURI>> allNodes;
    private final Map<String, RedisURI> uris = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Touched by the probe thread only. */
    private final Map<String, Conn> conns = new HashMap<>();

    private final Selector selector;
    private final Thread thread;
    private volatile boolean closed;

    /** One node's connection: bytes to write, and the answers awaited in order (null: AUTH's). */
    private final class Conn {
        final String id;
        final SocketChannel channel;
        final SelectionKey key;
        final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        final ArrayDeque<Ping> awaited = new ArrayDeque<>();
        final ByteBuffer in = ByteBuffer.allocate(512);
        boolean connected;

        Conn(String id, RedisURI uri) throws IOException {
            this.id = id;
            this.channel = SocketChannel.open();
            channel.configureBlocking(false);
            channel.socket().setTcpNoDelay(true);
            this.connected = channel.connect(new InetSocketAddress(uri.getHost(), uri.getPort()));
            this.key = channel.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
            byte[] auth = auth(uri);
            if (auth != null) {
                out.add(ByteBuffer.wrap(auth));
                awaited.add(new Ping(t -> {})); // AUTH's answer; a refused AUTH shows in PING's (-NOAUTH)
            }
        }

        void send(Ping ping) {
            out.add(ByteBuffer.wrap(PING));
            awaited.add(ping);
            if (connected) {
                flush();
            }
        }

        void flush() {
            try {
                while (!out.isEmpty()) {
                    ByteBuffer b = out.peek();
                    channel.write(b);
                    if (b.hasRemaining()) {
                        key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                        return;
                    }
                    out.poll();
                }
                key.interestOps(SelectionKey.OP_READ);
                long now = System.nanoTime();
                for (Ping p : awaited) {
                    p.written(now);
                }
            } catch (IOException e) {
                fail(e);
            }
        }

        void ready() {
            try {
                if (key.isConnectable()) {
                    channel.finishConnect();
                    connected = true;
                    key.interestOps(SelectionKey.OP_READ);
                    flush();
                }
                if (key.isValid() && key.isWritable()) {
                    flush();
                }
                if (key.isValid() && key.isReadable()) {
                    read();
                }
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
        }

        private void read() throws IOException {
            int n = channel.read(in);
            if (n < 0) {
                throw new IOException("closed by the server");
            }
            in.flip();
            int reply;
            while ((reply = replyLength(in)) > 0) {
                boolean ok = in.get(in.position()) != '-';
                in.position(in.position() + reply);
                Ping p = awaited.poll();
                if (p != null) {
                    p.answered(ok);
                }
            }
            in.compact();
            if (!in.hasRemaining()) {
                throw new IOException("an answer longer than the probe reads");
            }
        }

        void fail(Exception e) {
            conns.remove(id, this);
            key.cancel();
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing after a failure: nothing more to do
            }
            for (Ping p : awaited) {
                p.failed(e);
            }
            awaited.clear();
        }
    }

    /** A ping (or AUTH): tells when its bytes were written, then completes with its answer. */
    private static final class Ping {
        final LongConsumer sent;
        final CompletableFuture<Void> answer = new CompletableFuture<>();
        boolean told;

        Ping(LongConsumer sent) {
            this.sent = sent;
        }

        void written(long now) {
            if (!told) {
                told = true;
                sent.accept(now);
            }
        }

        void answered(boolean ok) {
            if (ok) {
                answer.complete(null);
            } else {
                answer.completeExceptionally(new IOException("the node answered the ping with an error"));
            }
        }

        void failed(Exception e) {
            answer.completeExceptionally(e);
        }
    }

    SocketProbe(Function<byte[], RedisURI> nodeOfKey, Supplier<List<RedisURI>> allNodes) {
        this.nodeOfKey = nodeOfKey;
        this.allNodes = allNodes;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector for the store probe", e);
        }
        this.thread = new Thread(this::run, "sluice-store-probe");
        thread.setDaemon(true);
        thread.start();
    }

    /** Answers the node's "host:port", the key of its connection and of its health in the budget. */
    @Override
    public Object nodeFor(byte[] key) {
        RedisURI uri = nodeOfKey.apply(key);
        if (uri == null) {
            return "unknown";
        }
        String id = id(uri);
        uris.putIfAbsent(id, uri);
        return id;
    }

    private static String id(RedisURI uri) {
        return uri.getHost() + ":" + uri.getPort();
    }

    @Override
    public CompletionStage<?> ping(Object node, LongConsumer sent) {
        RedisURI uri = uris.get(node);
        if (uri == null) {
            return CompletableFuture.failedFuture(new IOException("no node serves the slot"));
        }
        Ping ping = new Ping(sent);
        post(() -> {
            String id = (String) node;
            Conn c = conns.get(id);
            try {
                if (c == null) {
                    c = new Conn(id, uri);
                    conns.put(id, c);
                }
                c.send(ping);
            } catch (IOException | RuntimeException e) {
                ping.failed(e);
            }
        });
        return ping.answer;
    }

    /** Runs {@code verdict} on the probe thread after it has read every answer that has arrived. */
    @Override
    public void afterReads(Object node, Runnable verdict) {
        post(() -> {
            try {
                selector.selectNow();
                handleSelected();
            } catch (IOException e) {
                // the selector failed: the verdict sees what was read before
            }
            verdict.run();
        });
    }

    @Override
    public CompletionStage<Void> warmUp() {
        List<CompletableFuture<?>> pings = new ArrayList<>();
        for (RedisURI uri : allNodes.get()) {
            String id = id(uri);
            uris.putIfAbsent(id, uri);
            pings.add(ping(id, t -> {}).toCompletableFuture().exceptionally(e -> null));
        }
        return CompletableFuture.allOf(pings.toArray(CompletableFuture[]::new));
    }

    private void post(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    private void run() {
        while (!closed) {
            try {
                selector.select();
                handleSelected();
            } catch (IOException | RuntimeException e) {
                // a broken selector: keep the thread; its connections fail their own pings
            }
            Runnable task;
            while ((task = tasks.poll()) != null) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    // a task's own failure is its caller's: keep serving the others
                }
            }
        }
        for (Conn c : new ArrayList<>(conns.values())) {
            c.fail(new IOException("the probe stopped"));
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // stopping
        }
    }

    private void handleSelected() {
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            if (k.isValid() && k.attachment() instanceof Conn c) {
                c.ready();
            }
        }
    }

    /**
     * The length of the whole RESP reply at the buffer's position — a simple string, error or
     * integer line, or a bulk string — or 0 while it has not all arrived.
     */
    static int replyLength(ByteBuffer b) {
        int start = b.position();
        int eol = -1;
        for (int i = start; i + 1 < b.limit(); i++) {
            if (b.get(i) == '\r' && b.get(i + 1) == '\n') {
                eol = i;
                break;
            }
        }
        if (eol < 0) {
            return 0;
        }
        int line = eol + 2 - start;
        if (b.get(start) != '$') {
            return line;
        }
        int length = Integer.parseInt(new String(bytes(b, start + 1, eol), StandardCharsets.US_ASCII));
        int whole = length < 0 ? line : line + length + 2;
        return b.limit() - start >= whole ? whole : 0;
    }

    private static byte[] bytes(ByteBuffer b, int from, int to) {
        byte[] out = new byte[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = b.get(i);
        }
        return out;
    }

    /** {@code AUTH [user] password} as an inline command, or null without credentials. */
    @SuppressWarnings("deprecation") // static credentials of the URI, as Lettuce itself reads them
    private static byte[] auth(RedisURI uri) {
        char[] password = uri.getPassword();
        if (password == null || password.length == 0) {
            return null;
        }
        String user = uri.getUsername();
        String command = "*" + (user == null ? 2 : 3) + "\r\n" + bulk("AUTH") + (user == null ? "" : bulk(user))
                + bulk(new String(password));
        return command.getBytes(StandardCharsets.UTF_8);
    }

    private static String bulk(String s) {
        return "$" + s.getBytes(StandardCharsets.UTF_8).length + "\r\n" + s + "\r\n";
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
    }
}
