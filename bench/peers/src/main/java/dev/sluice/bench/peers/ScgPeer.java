package dev.sluice.bench.peers;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Spring Cloud Gateway's limiter as a team would run it outside the gateway: its own {@code
 * request_rate_limiter.lua}, read from the {@code spring-cloud-gateway-server-webflux} jar on the
 * class path (not copied), by EVALSHA with the keys and arguments {@code RedisRateLimiter} passes
 * (replenish rate per second, burst capacity, no time — the script reads Redis's — and the tokens
 * requested), EVAL on NOSCRIPT; fails open on a Redis error, as RedisRateLimiter does.
 */
@Singleton
@Requires(property = "peer", value = "scg")
final class ScgPeer implements Peer {
    private static final String SCRIPT = "META-INF/scripts/request_rate_limiter.lua";

    private final RedisAdvancedClusterAsyncCommands<String, String> redis;
    private final String source;
    private final String sha;
    private final String rate;
    private final String capacity;

    ScgPeer(
            StatefulRedisClusterConnection<String, String> connection,
            @Value("${peer-limit}") long limit,
            @Value("${peer-period}") Duration period) {
        this.redis = connection.async();
        this.source = read();
        this.sha = sha1(source);
        this.rate = Double.toString(limit * 1000.0 / period.toMillis());
        this.capacity = Long.toString(limit);
    }

    private static String read() {
        try (InputStream in = ScgPeer.class.getClassLoader().getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IllegalStateException(SCRIPT + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha1(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public CompletionStage<Result> check(String key) {
        String[] keys = {"request_rate_limiter.{" + key + "}.tokens", "request_rate_limiter.{" + key + "}.timestamp"};
        String[] args = {rate, capacity, "", "1"};
        CompletionStage<List<Long>> answer = redis.<List<Long>>evalsha(sha, ScriptOutputType.MULTI, keys, args)
                .exceptionallyCompose(e -> noScript(e)
                        ? redis.<List<Long>>eval(source, ScriptOutputType.MULTI, keys, args)
                        : CompletableFuture.failedFuture(e));
        return answer.thenApply(r -> new Result(r.get(0) == 1L, r.get(1), 1))
                .exceptionally(e -> new Result(true, -1, 0));
    }

    private static boolean noScript(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof RedisNoScriptException
                || (c.getMessage() != null && c.getMessage().startsWith("NOSCRIPT"));
    }

    @Override
    public String remainingHeader() {
        return "X-RateLimit-Remaining";
    }
}
