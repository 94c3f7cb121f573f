package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.store.Subject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How announcements leave a node: several subjects per message while a PUBLISH is under way, a
 * failed PUBLISH sent again until its subjects' time is up, and keys of any text read back intact.
 * (Hearing them, and the gap after a lost subscription, on a real Redis: OverLimitCacheIT.)
 */
class RedisResetBroadcastTest {
    /** Every PUBLISH made: the message and the future the test completes. */
    private record Publish(String message, CompletableFuture<Long> answer) {}

    private final List<Publish> published = new CopyOnWriteArrayList<>();
    private final List<RedisResetBroadcast> opened = new ArrayList<>();

    private RedisResetBroadcast broadcast(Duration retryFor) {
        RedisResetBroadcast b = new RedisResetBroadcast(
                "sl:resets",
                m -> {
                    CompletableFuture<Long> answer = new CompletableFuture<>();
                    published.add(new Publish(m[1], answer));
                    return answer;
                },
                () -> new CompletableFuture<>(), // never subscribes: only the sending side is tried here
                retryFor);
        opened.add(b);
        return b;
    }

    @AfterEach
    void close() {
        opened.forEach(RedisResetBroadcast::close);
    }

    private Set<Subject> subjectsOf(List<Publish> ps) {
        Set<Subject> all = new HashSet<>();
        ps.forEach(p -> all.addAll(RedisResetBroadcast.decode(p.message())));
        return all;
    }

    @Test
    void keysOfAnyTextArriveIntact() {
        List<Subject> subjects = List.of(
                new Subject("api", "alice"),
                new Subject("api/pool", "line\nbreak"),
                new Subject("api/reserve/gold", "*\n3\nabc"),
                new Subject("x", "ключ 🔑"),
                new Subject("y", ""));
        assertThat(RedisResetBroadcast.decode(RedisResetBroadcast.encode(subjects)))
                .containsExactlyElementsOf(subjects);
        // an older node's message: one policy, a newline, the key
        assertThat(RedisResetBroadcast.decode("api\nalice\nsmith")).containsExactly(new Subject("api", "alice\nsmith"));
        assertThat(RedisResetBroadcast.decode("*\napi\n99\nshort")).isEmpty();
        assertThat(RedisResetBroadcast.decode("*\napi\nx\nshort")).isEmpty();
        assertThat(RedisResetBroadcast.decode("nonewline")).isEmpty();
    }

    @Test
    void subjectsAnnouncedWhileAPublishIsUnderWayLeaveTogetherInTheNext() {
        RedisResetBroadcast b = broadcast(Duration.ofSeconds(10));
        b.announce(new Subject("api", "k0"));
        assertThat(published).hasSize(1);
        for (int i = 1; i <= 100; i++) {
            b.announce(new Subject("api", "k" + (i % 50))); // 50 distinct subjects, each twice
        }
        assertThat(published)
                .as("nothing more is sent while the first PUBLISH is under way")
                .hasSize(1);
        published.get(0).answer().complete(1L);
        assertThat(published).hasSize(2);
        assertThat(RedisResetBroadcast.decode(published.get(1).message())).hasSize(50);
        published.get(1).answer().complete(1L);
        assertThat(published).hasSize(2);
    }

    @Test
    void moreThanOneMessageHoldsLeavesInSeveral() {
        RedisResetBroadcast b = broadcast(Duration.ofSeconds(10));
        b.announce(new Subject("api", "first"));
        Set<Subject> announced = new HashSet<>();
        for (int i = 0; i < 150; i++) {
            Subject s = new Subject("api", "k" + i);
            announced.add(s);
            b.announce(s);
        }
        for (int i = 0; i < published.size(); i++) {
            assertThat(RedisResetBroadcast.decode(published.get(i).message()))
                    .hasSizeLessThanOrEqualTo(RedisResetBroadcast.MAX_BATCH);
            published.get(i).answer().complete(1L);
        }
        assertThat(published).hasSize(1 + 3); // 150 subjects: 64 + 64 + 22
        assertThat(subjectsOf(published.subList(1, published.size()))).isEqualTo(announced);
    }

    @Test
    void aFailedPublishIsSentAgainUntilItsTimeIsUp() {
        RedisResetBroadcast b = broadcast(Duration.ofMillis(400));
        long t0 = System.nanoTime();
        Subject alice = new Subject("api", "alice");
        b.announce(alice);
        // every attempt fails: sent again every RETRY_DELAY, then given up
        await().atMost(Duration.ofSeconds(3)).until(() -> {
            for (Publish p : published) {
                p.answer().completeExceptionally(new RuntimeException("store down"));
            }
            return System.nanoTime() - t0 > 1_000_000_000L;
        });
        int attempts = published.size();
        assertThat(attempts).as("tried again while its time lasted").isBetween(3, 400 / 50 + 2);
        assertThat(subjectsOf(published)).containsExactly(alice);

        // given up: a later announcement is sent by itself, once
        published.clear();
        Subject bob = new Subject("api", "bob");
        b.announce(bob);
        assertThat(published).hasSize(1);
        assertThat(RedisResetBroadcast.decode(published.get(0).message())).containsExactly(bob);
    }

    @Test
    void aPublishThatSucceedsAfterFailuresIsNotSentAgain() {
        RedisResetBroadcast b = broadcast(Duration.ofSeconds(10));
        b.announce(new Subject("api", "alice"));
        published.get(0).answer().completeExceptionally(new RuntimeException("failing over"));
        await().atMost(Duration.ofSeconds(2)).until(() -> published.size() == 2);
        published.get(1).answer().complete(1L);
        CompletionStage<?> quiet = CompletableFuture.runAsync(
                () -> {}, CompletableFuture.delayedExecutor(300, java.util.concurrent.TimeUnit.MILLISECONDS));
        quiet.toCompletableFuture().join();
        assertThat(published).hasSize(2);
    }
}
