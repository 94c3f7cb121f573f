package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ConnectionLogTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final ConnectionLog log = new ConnectionLog(now::get);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(ConnectionLog.class);
    private final SocketAddress a = InetSocketAddress.createUnresolved("127.0.0.1", 7001);
    private final SocketAddress b = InetSocketAddress.createUnresolved("127.0.0.1", 7002);
    private final RuntimeException refused = new RuntimeException("Connection refused");

    @BeforeEach
    void attach() {
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(lines);
    }

    private List<String> messages() {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aNodeDownForTwentySecondsIsThreeLinesNotOnePerAttempt() {
        for (int s = 0; s < 20; s++) { // Lettuce retries every second
            log.reconnectFailed(a, refused);
            now.addAndGet(1_000);
        }
        log.activated(a);
        assertThat(messages())
                .containsExactly(
                        "Redis node 127.0.0.1:7001 cannot be reconnected to (Connection refused); reconnecting with"
                                + " back-off",
                        "Redis node 127.0.0.1:7001 still unreachable after 10 s (Connection refused); 10 attempt(s)"
                                + " failed since the last line",
                        "Redis node 127.0.0.1:7001 reconnected after 20000 ms (not logged in the last 10 s: 9 failed"
                                + " attempt(s), 0 change(s))");
    }

    @Test
    void aFlappingNodeIsLoggedAtMostOnceEachWayPerQuietPeriodWithTheChangesCounted() {
        for (int i = 0; i < 10; i++) { // down and up every 500 ms for 10 s
            log.reconnectFailed(a, refused);
            now.addAndGet(500);
            log.activated(a);
            now.addAndGet(500);
        }
        log.reconnectFailed(a, refused); // 10 s after the first line
        assertThat(messages()).hasSize(3);
        assertThat(messages().get(2)).endsWith("(not logged in the last 10 s: 9 failed attempt(s), 18 change(s))");
    }

    @Test
    void nodesAreLoggedEachOnTheirOwnAndAnActivationOfAHealthyNodeSaysNothing() {
        log.activated(b);
        log.reconnectFailed(a, refused);
        log.reconnectFailed(b, refused);
        assertThat(messages()).hasSize(2);
        assertThat(messages().get(1)).startsWith("Redis node 127.0.0.1:7002 cannot be reconnected to");
    }
}
