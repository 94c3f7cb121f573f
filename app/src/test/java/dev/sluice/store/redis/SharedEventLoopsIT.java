package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import io.lettuce.core.cluster.RedisClusterClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code limiter.redis.share-event-loops=true} (off by default): Lettuce's connections run on the
 * HTTP server's event loops, decisions stay exact, and closing the node leaves those loops to the
 * server (Lettuce does not shut them down under it).
 */
@ExtendWith(RedisServersExtension.class)
class SharedEventLoopsIT {

    @Test
    void checksOnTheServersOwnEventLoopsStayExact() throws Exception {
        Map<String, Object> p = Map.of(
                "redis.uris",
                RedisServers.cluster().uris(),
                "limiter.redis.share-event-loops",
                true,
                "limiter.policies.shared.limit",
                10,
                "limiter.policies.shared.period",
                "1h");
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try (ServiceNode node = ServiceNode.start(p)) {
            RedisClusterClient client = node.context().getBean(RedisClusterClient.class);
            assertThat(client.getResources().eventLoopGroupProvider())
                    .isInstanceOf(RedisClientTuning.SharedEventLoops.class);
            HttpRequest check = HttpRequest.newBuilder(URI.create(node.url() + "/v1/check"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"policy\":\"shared\",\"key\":\"k-" + System.nanoTime() + "\"}"))
                    .build();
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                sent.add(http.sendAsync(check, HttpResponse.BodyHandlers.ofString()));
            }
            int admitted = 0, denied = 0, other = 0;
            for (CompletableFuture<HttpResponse<String>> f : sent) {
                HttpResponse<String> r = f.get();
                if (r.body().contains("\"degraded\":true")) {
                    other++;
                }
                switch (r.statusCode()) {
                    case 200 -> admitted++;
                    case 429 -> denied++;
                    default -> other++;
                }
            }
            assertThat(admitted).isEqualTo(10);
            assertThat(denied).isEqualTo(90);
            assertThat(other).isZero();
        }
        // a node started after the first closed still gets answers from its own loops
        try (ServiceNode again = ServiceNode.start(p)) {
            assertThat(ServiceNode.get(again.url(), "/health").statusCode()).isEqualTo(200);
        }
    }
}
