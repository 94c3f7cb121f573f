package dev.sluice.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ServiceNode;
import dev.sluice.testkit.RedisServers;
import dev.sluice.testkit.RedisServersExtension;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 16, part 4: clients that honour {@code Retry-After} do not come back as one herd. Twenty
 * clients on one key of 10 per 10 s, each retrying exactly when told (whole seconds, as a client
 * library reads the header), for 20 s, on the Redis Cluster: at most 3 refusals per admission
 * (with a 10 % jitter of one second, which rounds to nothing, 13.4 were measured), the limit held,
 * and a caller alone told exactly what it needs.
 */
@ExtendWith(RedisServersExtension.class)
class RetryHerdIT {
    private static final int CLIENTS = 20;
    private static final long RUN_MS = 20_000;

    @Test
    void twentyClientsHonouringRetryAfterAreSpreadOverTheRefill() throws Exception {
        try (ServiceNode node = ServiceNode.start(Map.of(
                "redis.uris",
                RedisServers.cluster().uris(),
                "limiter.policies.herd.limit",
                10,
                "limiter.policies.herd.period",
                "10s"))) {
            String key = "herd-" + UUID.randomUUID();
            String body = "{\"policy\":\"herd\",\"key\":\"" + key + "\"}";
            AtomicInteger admitted = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger other = new AtomicInteger();
            long start = System.nanoTime();
            long end = start + RUN_MS * 1_000_000;
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(Thread.ofPlatform().start(() -> {
                    while (System.nanoTime() < end) {
                        HttpResponse<String> r = ServiceNode.post(node.url(), "/v1/check", body);
                        if (r.statusCode() == 200) {
                            admitted.incrementAndGet();
                        } else if (r.statusCode() == 429) {
                            refused.incrementAndGet();
                            long wait = Long.parseLong(
                                    r.headers().firstValue("Retry-After").orElseThrow());
                            long wake = System.nanoTime() + wait * 1_000_000_000L;
                            if (wake >= end) {
                                return;
                            }
                            try {
                                Thread.sleep(wait * 1_000);
                            } catch (InterruptedException e) {
                                return;
                            }
                        } else {
                            other.incrementAndGet();
                            return;
                        }
                    }
                }));
            }
            for (Thread t : clients) {
                t.join();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double perAdmission = refused.get() / (double) Math.max(1, admitted.get());
            System.out.printf(
                    "RetryHerdIT: %d clients, %.1f s: admitted %d, refused %d (%.2f per admission), other %d%n",
                    CLIENTS, seconds, admitted.get(), refused.get(), perAdmission, other.get());
            assertThat(other.get()).isZero();
            assertThat(admitted.get())
                    .as("the limit held: a burst of 10 and one a second")
                    .isLessThanOrEqualTo(10 + (int) Math.ceil(seconds) + 1);
            assertThat(admitted.get())
                    .as("the waiters were served: the bucket was not left idle")
                    .isGreaterThanOrEqualTo(10 + (int) (RUN_MS / 1_000) - 4);
            assertThat(perAdmission).as("refusals per admission").isLessThanOrEqualTo(3.0);

            // a caller alone on a subject is told exactly what it needs (the body's retryAfterSeconds)
            String alone = "{\"policy\":\"herd\",\"key\":\"alone-" + UUID.randomUUID() + "\",\"cost\":10}";
            assertThat(ServiceNode.post(node.url(), "/v1/check", alone).statusCode())
                    .isEqualTo(200);
            HttpResponse<String> r = ServiceNode.post(node.url(), "/v1/check", alone.replace(",\"cost\":10", ""));
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow()))
                    .isEqualTo(ServiceNode.num(r.body(), "retryAfterSeconds"));
        }
    }
}
