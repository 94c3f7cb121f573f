package dev.sluice.function;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.sluice.store.Subject;
import dev.sluice.store.redis.KeyScheme;
import dev.sluice.testkit.FreePorts;
import dev.sluice.testkit.RedisNode;
import io.micronaut.context.ApplicationContext;
import io.micronaut.function.aws.proxy.MockLambdaContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Multi-region mode behind a function runtime (issue 18): a Lambda is frozen between invocations, so
 * nothing ships in the background; the handler ships its region's demand after a request once a
 * sync period has ended. Region a is the function on its own Redis, region b a server on another.
 */
class FunctionRegionIT {
    private static final String TOKEN = "region-secret-for-the-function-test";
    private static final long S_MS = 1000;

    private static Map<String, Object> region(String name, RedisNode redis, String peer, String peerUrl) {
        Map<String, Object> p = new HashMap<>();
        p.put("redis.uri", redis.uri());
        p.put("limiter.region.name", name);
        p.put("limiter.region.token", TOKEN);
        p.put("limiter.region.sync-period", S_MS + "ms");
        p.put("limiter.region.peers." + peer, peerUrl);
        p.put("limiter.policies.global.limit", 100);
        p.put("limiter.policies.global.period", "1s");
        p.put("limiter.policies.global.regions", "global");
        return p;
    }

    private static APIGatewayV2HTTPEvent event(String method, String path, String body) {
        return HttpApiHandlerTest.event(method, path, "application/json", body, false);
    }

    /** Waits (bounded) until the next sync period has begun, and {@code extraMs} more. */
    private static void sleepPastTheNextPeriodStart(long extraMs) {
        long target = (System.currentTimeMillis() / S_MS + 1) * S_MS + extraMs;
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofMillis(S_MS + extraMs + 1000))
                .pollInterval(java.time.Duration.ofMillis(10))
                .until(() -> System.currentTimeMillis() >= target);
    }

    @Test
    void theHandlerShipsTheRegionsDemandAfterARequestOnceItsPeriodIsOver() throws Exception {
        RedisNode redisA = RedisNode.start(FreePorts.any(), Files.createTempDirectory("sluice-fn-a"), List.of());
        RedisNode redisB = RedisNode.start(FreePorts.any(), Files.createTempDirectory("sluice-fn-b"), List.of());
        EmbeddedServer b = null;
        try {
            Map<String, Object> bProps = region("b", redisB, "a", "http://127.0.0.1:" + FreePorts.any());
            bProps.put("micronaut.server.port", -1);
            b = ApplicationContext.run(EmbeddedServer.class, bProps);
            Map<String, Object> aProps = region("a", redisA, "b", "http://127.0.0.1:" + b.getPort());
            aProps.putAll(AfterEachRequest.FUNCTION_PROPERTIES);
            String state = new KeyScheme("sl:").key(new Subject("global", "k"), "gr");
            try (HttpApiHandler handler = new HttpApiHandler(ApplicationContext.run(aProps))) {
                sleepPastTheNextPeriodStart(50);
                for (int i = 0; i < 7; i++) {
                    APIGatewayV2HTTPResponse r = handler.handleRequest(
                            event("POST", "/v1/check", "{\"policy\":\"global\",\"key\":\"k\"}"),
                            new MockLambdaContext());
                    assertThat(r.getStatusCode()).as(r.getBody()).isEqualTo(200);
                }
                // the first check found the period before over, with nothing asked in it: nothing to ship
                assertThat(redisB.call("HGET", state, "d:a")).isNull();
                sleepPastTheNextPeriodStart(200);
                // frozen between invocations: nothing shipped in the background since
                assertThat(redisB.call("HGET", state, "d:a")).isNull();
                APIGatewayV2HTTPResponse next =
                        handler.handleRequest(event("GET", "/health/liveness", null), new MockLambdaContext());
                assertThat(next.getStatusCode()).isEqualTo(200);
                // shipped before that answer left: region b holds a's 7, and a counts itself at 7 for b
                assertThat(redisB.call("HGET", state, "d:a")).isEqualTo("7");
                assertThat(redisA.call("HGET", state, "l:b")).isEqualTo("7");
            }
        } finally {
            if (b != null) {
                b.getApplicationContext().close();
            }
            redisA.close();
            redisB.close();
        }
    }
}
