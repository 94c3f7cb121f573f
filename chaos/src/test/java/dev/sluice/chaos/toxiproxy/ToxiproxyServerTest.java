package dev.sluice.chaos.toxiproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The in-JVM Toxiproxy-compatible server, driven through the real client library
 * (toxiproxy-java) against a real TCP echo server: every toxic the scenarios use, with Toxiproxy's
 * semantics. Times are checked as lower bounds (a delay that must have happened) with generous
 * upper bounds, never as speed targets.
 */
class ToxiproxyServerTest {
    private ToxiproxyServer server;
    private ToxiproxyClient client;
    private ServerSocket echo;
    private Proxy proxy;

    @BeforeEach
    void start() throws IOException {
        server = ToxiproxyServer.start(0);
        client = new ToxiproxyClient("127.0.0.1", server.port());
        echo = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        proxy = client.createProxy("echo", "127.0.0.1:0", "127.0.0.1:" + echo.getLocalPort());
    }

    /** Echoes every byte; on the line "bye" answers "bye" and closes. */
    private static void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                s.getOutputStream().write(buffer, 0, n);
                s.getOutputStream().flush();
                if (new String(buffer, 0, n, StandardCharsets.UTF_8).contains("bye")) {
                    return;
                }
            }
        } catch (IOException e) {
            // client gone
        }
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        echo.close();
    }

    private Socket connect() throws IOException {
        String[] hostPort = proxy.getListen().split(":");
        Socket s = new Socket();
        s.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 1000);
        s.setSoTimeout(3000);
        return s;
    }

    /** Sends {@code text} and reads back as many bytes; the milliseconds it took. */
    private static long roundTrip(Socket s, String text) throws IOException {
        long t0 = System.nanoTime();
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        byte[] back = s.getInputStream().readNBytes(text.length());
        assertThat(new String(back, StandardCharsets.UTF_8)).isEqualTo(text);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void theApiAnswersAsToxiproxyDoes() throws IOException {
        assertThat(client.version()).isNotBlank();
        assertThat(client.getProxies()).extracting(Proxy::getName).containsExactly("echo");
        assertThat(proxy.isEnabled()).isTrue();
        assertThat(proxy.getListen()).matches("127\\.0\\.0\\.1:[1-9][0-9]*");
        assertThatThrownBy(() -> client.createProxy("echo", "127.0.0.1:0", "127.0.0.1:1"))
                .hasMessageContaining("409")
                .hasMessageContaining("proxy already exists");
        assertThatThrownBy(() -> client.getProxy("nope")).hasMessageContaining("proxy not found");
        proxy.toxics().latency("slow", ToxicDirection.DOWNSTREAM, 10).setJitter(2);
        assertThat(proxy.toxics().getAll()).hasSize(1);
        assertThat(proxy.toxics()
                        .get("slow", eu.rekawek.toxiproxy.model.toxic.Latency.class)
                        .getJitter())
                .isEqualTo(2);
        assertThatThrownBy(() -> proxy.toxics().latency("slow", ToxicDirection.DOWNSTREAM, 10))
                .hasMessageContaining("toxic already exists");
        proxy.toxics().get("slow").remove();
        assertThat(proxy.toxics().getAll()).isEmpty();
    }

    @Test
    void bytesPassBothWaysUntouchedWithoutToxics() throws IOException {
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "hello")).isLessThan(1000);
            assertThat(roundTrip(s, "x".repeat(100_000))).isLessThan(3000);
        }
    }

    @Test
    void latencyDelaysEveryChunkAndActsOnOpenConnections() throws IOException {
        try (Socket s = connect()) {
            roundTrip(s, "warm");
            proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 120);
            assertThat(roundTrip(s, "a")).isGreaterThanOrEqualTo(119);
            proxy.toxics().latency("up", ToxicDirection.UPSTREAM, 80);
            assertThat(roundTrip(s, "b")).isGreaterThanOrEqualTo(199);
        }
    }

    @Test
    void jitterSpreadsTheDelayAroundTheLatency() throws IOException {
        proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 60).setJitter(50);
        List<Long> times = new ArrayList<>();
        try (Socket s = connect()) {
            for (int i = 0; i < 12; i++) {
                times.add(roundTrip(s, "j" + i));
            }
        }
        assertThat(times).allMatch(t -> t >= 9);
        assertThat(times.stream().mapToLong(Long::longValue).max().orElseThrow()
                        - times.stream().mapToLong(Long::longValue).min().orElseThrow())
                .as("spread of %s", times)
                .isGreaterThanOrEqualTo(15);
    }

    @Test
    void aTimeoutOfZeroPassesNothingAndItsRemovalClosesTheConnection() throws IOException {
        try (Socket s = connect()) {
            roundTrip(s, "warm");
            proxy.toxics().timeout("hole", ToxicDirection.UPSTREAM, 0);
            s.setSoTimeout(400);
            s.getOutputStream().write("lost".getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            s.setSoTimeout(3000);
            proxy.toxics().get("hole").remove();
            assertThat(readEnd(s)).isTrue();
        }
    }

    @Test
    void aTimeoutClosesTheConnectionAfterItsTime() throws IOException {
        try (Socket s = connect()) {
            roundTrip(s, "warm");
            long t0 = System.nanoTime();
            proxy.toxics().timeout("hole", ToxicDirection.DOWNSTREAM, 200);
            s.getOutputStream().write("lost".getBytes(StandardCharsets.UTF_8));
            assertThat(readEnd(s)).isTrue();
            assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(190);
        }
    }

    @Test
    void resetPeerResetsTheConnection() throws IOException {
        try (Socket s = connect()) {
            roundTrip(s, "warm");
            proxy.toxics().resetPeer("rst", ToxicDirection.UPSTREAM, 0);
            assertThatThrownBy(() -> {
                        for (int i = 0; i < 50; i++) {
                            s.getOutputStream().write("x".getBytes(StandardCharsets.UTF_8));
                            if (s.getInputStream().read() < 0) {
                                return;
                            }
                            Thread.sleep(20);
                        }
                    })
                    .isInstanceOf(SocketException.class)
                    .hasMessageContaining("reset");
        }
    }

    @Test
    void aDisabledProxyClosesItsConnectionsAndRefusesNewOnes() throws IOException {
        Socket open = connect();
        roundTrip(open, "warm");
        proxy.disable();
        assertThat(readEnd(open)).isTrue();
        open.close();
        // refused; or, should the kernel complete a handshake as the listener closes, closed at once
        try (Socket late = connect()) {
            assertThat(readEnd(late))
                    .as("a connection to a disabled proxy passes nothing")
                    .isTrue();
        } catch (ConnectException refused) {
            // what is expected nearly always
        }
        proxy.enable();
        try (Socket s = connect()) {
            roundTrip(s, "back");
        }
    }

    @Test
    void bandwidthLimitsTheRate() throws IOException {
        proxy.toxics().bandwidth("thin", ToxicDirection.DOWNSTREAM, 20); // 20 KB/s
        try (Socket s = connect()) {
            s.setSoTimeout(10_000);
            assertThat(roundTrip(s, "y".repeat(10_000))).as("10 kB at 20 KB/s").isGreaterThanOrEqualTo(450);
        }
    }

    @Test
    void limitDataClosesAfterTheBytes() throws IOException {
        proxy.toxics().limitData("cap", ToxicDirection.DOWNSTREAM, 10);
        try (Socket s = connect()) {
            s.getOutputStream().write("0123456789abcdef".getBytes(StandardCharsets.UTF_8));
            byte[] got = s.getInputStream().readAllBytes();
            assertThat(new String(got, StandardCharsets.UTF_8)).isEqualTo("0123456789");
        }
    }

    @Test
    void slowCloseDelaysTheClose() throws IOException {
        proxy.toxics().slowClose("late", ToxicDirection.DOWNSTREAM, 300);
        try (Socket s = connect()) {
            long t0 = System.nanoTime();
            s.getOutputStream().write("bye".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(s.getInputStream().readNBytes(3), StandardCharsets.UTF_8))
                    .isEqualTo("bye");
            assertThat(readEnd(s)).isTrue();
            assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(290);
        }
    }

    @Test
    void aToxicityOfZeroNeverApplies() throws IOException {
        proxy.toxics().latency("never", ToxicDirection.DOWNSTREAM, 2000).setToxicity(0f);
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "fast")).isLessThan(1500);
        }
    }

    @Test
    void resetRemovesEveryToxicAndEnablesEveryProxy() throws IOException {
        proxy.toxics().latency("slow", ToxicDirection.DOWNSTREAM, 2000);
        proxy.disable();
        client.reset();
        Proxy again = client.getProxy("echo");
        assertThat(again.isEnabled()).isTrue();
        assertThat(again.toxics().getAll()).isEmpty();
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "clean")).isLessThan(1500);
        }
    }

    /** Reads until the end of the stream (true) or a reset; false if data keeps coming. */
    private static boolean readEnd(Socket s) throws IOException {
        try {
            byte[] buffer = new byte[1024];
            for (int i = 0; i < 100; i++) {
                if (s.getInputStream().read(buffer) < 0) {
                    return true;
                }
            }
            return false;
        } catch (SocketException e) {
            return true;
        }
    }
}
