package dev.sluice.bench.peers;

import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.cluster.RedisClusterClient;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Bucket4j as its documentation sets it up for a Redis Cluster with Lettuce: the compare-and-swap
 * proxy manager ({@code Bucket4jLettuce.casBasedBuilder}), asynchronous, one bucket per key with a
 * greedy refill of the limit per period, state expiring once the bucket would be full again.
 */
@Singleton
@Requires(property = "peer", value = "bucket4j")
final class Bucket4jPeer implements Peer {
    private final AsyncProxyManager<byte[]> buckets;
    private final Supplier<CompletableFuture<BucketConfiguration>> configuration;

    Bucket4jPeer(
            RedisClusterClient client, @Value("${peer-limit}") long limit, @Value("${peer-period}") Duration period) {
        this.buckets = Bucket4jLettuce.casBasedBuilder(client)
                .expirationAfterWrite(
                        ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                .build()
                .asAsync();
        BucketConfiguration config = BucketConfiguration.builder()
                .addLimit(l -> l.capacity(limit).refillGreedy(limit, period))
                .build();
        CompletableFuture<BucketConfiguration> ready = CompletableFuture.completedFuture(config);
        this.configuration = () -> ready;
    }

    @Override
    public CompletionStage<Result> check(String key) {
        return buckets.builder()
                .build(("bucket4j:" + key).getBytes(StandardCharsets.UTF_8), configuration)
                .tryConsumeAndReturnRemaining(1)
                .thenApply(p -> new Result(
                        p.isConsumed(),
                        p.getRemainingTokens(),
                        Math.ceilDiv(p.getNanosToWaitForRefill(), 1_000_000_000L)));
    }

    @Override
    public String remainingHeader() {
        return "X-Rate-Limit-Remaining";
    }
}
