package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.Limit;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BreakerStoreTest {

    @Test
    void aBreakerNoCallAsksForIsForgottenAndAShardThatServesAgainGetsAFreshOne() {
        AtomicLong now = new AtomicLong();
        List<Object> forgotten = new ArrayList<>();
        // subjects whose key starts with "a" live on shard A, the others on B
        StoreShards shards = subject -> subject.key().startsWith("a") ? "A" : "B";
        BreakerStore store = new BreakerStore(
                new InProcessStore(),
                shards,
                shard -> CircuitBreaker.ofDefaults("store-" + shard),
                (shard, breaker) -> forgotten.add(shard),
                now::get);
        Limit limit = new Limit(10, 10, 60_000);
        store.acquire(new Subject("p", "a1"), limit, 1).toCompletableFuture().join();
        store.acquire(new Subject("p", "b1"), limit, 1).toCompletableFuture().join();
        store.breakers().get("A").transitionToOpenState(); // A failed over: its slots went elsewhere
        assertThat(store.breakers()).containsOnlyKeys("A", "B");

        for (int s = 1; s <= 11; s++) { // calls for B only, one a second
            now.addAndGet(1_000_000_000L);
            store.acquire(new Subject("p", "b1"), limit, 1)
                    .toCompletableFuture()
                    .join();
        }
        assertThat(store.breakers()).as("A, open, asked for by no call in 11 s").containsOnlyKeys("B");
        assertThat(forgotten).containsExactly("A");

        store.acquire(new Subject("p", "a1"), limit, 1).toCompletableFuture().join();
        assertThat(store.breakers().get("A").getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
}
