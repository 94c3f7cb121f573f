package dev.sluice.store.redis;

import io.lettuce.core.event.Event;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ReconnectFailedEvent;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis nodes' connections, logged once per change per node from Lettuce's events: a node that
 * cannot be reconnected to (its first failed attempt), still not after {@link #QUIET_MS} (the
 * attempts counted), and reconnected. Lettuce's own lines — one per failed attempt and connection,
 * every second while a node is down, and one per topology refresh — are off in logback.xml; a
 * node that flaps is logged at most once per {@link #QUIET_MS} each way.
 */
final class ConnectionLog {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLog.class);

    /** A node's change is logged at most once per this many ms each way. */
    static final long QUIET_MS = 10_000;

    private final LongSupplier millis;
    private final Map<SocketAddress, Node> nodes = new ConcurrentHashMap<>();

    private static final class Node {
        boolean down;
        long downSince;
        long downLogged = Long.MIN_VALUE / 2;
        long upLogged = Long.MIN_VALUE / 2;
        int failed; // attempts failed since the last line
        int changes; // changes not logged since the last line
    }

    ConnectionLog() {
        this(System::currentTimeMillis);
    }

    ConnectionLog(LongSupplier millis) {
        this.millis = millis;
    }

    /** Takes one of Lettuce's events. */
    void on(Event event) {
        if (event instanceof ReconnectFailedEvent failed) {
            reconnectFailed(failed.remoteAddress(), failed.getCause());
        } else if (event instanceof ConnectionActivatedEvent activated) {
            activated(activated.remoteAddress());
        }
    }

    void reconnectFailed(SocketAddress address, Throwable cause) {
        Node node = nodes.computeIfAbsent(address, a -> new Node());
        synchronized (node) {
            long now = millis.getAsLong();
            node.failed++;
            boolean change = !node.down;
            if (change) {
                node.down = true;
                node.downSince = now;
            }
            if (now - node.downLogged < QUIET_MS) {
                node.changes += change ? 1 : 0;
                return;
            }
            if (change) {
                LOG.warn(
                        "Redis node {} cannot be reconnected to ({}); reconnecting with back-off{}",
                        name(address),
                        reason(cause),
                        unlogged(node, 1));
            } else {
                LOG.warn(
                        "Redis node {} still unreachable after {} s ({}); {} attempt(s) failed since the last line",
                        name(address),
                        (now - node.downSince) / 1000,
                        reason(cause),
                        node.failed);
            }
            node.downLogged = now;
            node.failed = 0;
            node.changes = 0;
        }
    }

    void activated(SocketAddress address) {
        Node node = nodes.get(address);
        if (node == null) {
            return;
        }
        synchronized (node) {
            if (!node.down) {
                return;
            }
            node.down = false;
            long now = millis.getAsLong();
            if (now - node.upLogged < QUIET_MS) {
                node.changes++;
                return;
            }
            LOG.info("Redis node {} reconnected after {} ms{}", name(address), now - node.downSince, unlogged(node, 0));
            node.upLogged = now;
            node.failed = 0;
            node.changes = 0;
        }
    }

    /** What happened since the last line beyond the {@code expected} failed attempt(s), or "". */
    private static String unlogged(Node node, int expected) {
        int failed = node.failed - expected;
        return failed <= 0 && node.changes == 0
                ? ""
                : " (not logged in the last " + QUIET_MS / 1000 + " s: " + failed + " failed attempt(s), "
                        + node.changes + " change(s))";
    }

    /** {@code host:port}, not {@code 127.0.0.1/<unresolved>:7001}. */
    private static String name(SocketAddress address) {
        return address instanceof java.net.InetSocketAddress inet
                ? inet.getHostString() + ":" + inet.getPort()
                : String.valueOf(address);
    }

    private static String reason(Throwable cause) {
        if (cause == null) {
            return "unknown";
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return String.valueOf(root.getMessage() != null ? root.getMessage() : root.toString());
    }
}
