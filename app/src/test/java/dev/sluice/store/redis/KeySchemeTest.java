package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.store.Subject;
import io.lettuce.core.cluster.SlotHash;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class KeySchemeTest {
    private final KeyScheme keys = new KeyScheme("sl:");

    @Test
    void documentedExamples() {
        assertThat(keys.key(new Subject("api", "alice"), "tb")).isEqualTo("sl:{api:alice}:tb");
        assertThat(keys.key(new Subject("api", "a}b"), "tb")).isEqualTo("sl:{api:a%7Db}:tb");
        assertThat(keys.key(new Subject("api", "a:b"), "tb")).isEqualTo("sl:{api:a%3Ab}:tb");
        assertThat(keys.key(new Subject("api", "{x}"), "tb")).isEqualTo("sl:{api:%7Bx%7D}:tb");
        assertThat(keys.key(new Subject("api", "100%"), "tb")).isEqualTo("sl:{api:100%25}:tb");
    }

    @Test
    void bracesInThePrefixAreRefused() {
        assertThatThrownBy(() -> new KeyScheme("{x}")).isInstanceOf(IllegalArgumentException.class);
    }

    /** Whatever the key, its slot is the slot of its own hash tag: braces can not move it. */
    @Property(tries = 2_000, seed = "7")
    void theSlotIsAlwaysTheSubjectsOwnHashTag(@ForAll @StringLength(min = 1, max = 40) String key) {
        Subject s = new Subject("api", key);
        String redisKey = keys.key(s, "tb");
        assertThat(SlotHash.getSlot(redisKey)).isEqualTo(SlotHash.getSlot(keys.hashTag(s)));
        String tag = redisKey.substring(redisKey.indexOf('{') + 1, redisKey.indexOf('}'));
        assertThat(tag).isEqualTo(keys.hashTag(s));
    }

    /** The escape is injective: different keys never share a Redis key. */
    @Property(tries = 2_000, seed = "11")
    void differentKeysNeverCollide(
            @ForAll @StringLength(min = 1, max = 6) String a, @ForAll @StringLength(min = 1, max = 6) String b) {
        if (!a.equals(b)) {
            assertThat(keys.key(new Subject("p", a), "tb")).isNotEqualTo(keys.key(new Subject("p", b), "tb"));
        }
    }

    @Test
    void trickyKeysStayDistinct() {
        List<String> tricky = List.of("a:b", "a%3Ab", "a%253Ab", "{a}", "%7Ba%7D", "}", "{", "{}", "a}:{b", ":");
        Set<String> redisKeys = new HashSet<>();
        tricky.forEach(k -> redisKeys.add(keys.key(new Subject("p", k), "tb")));
        assertThat(redisKeys).hasSize(tricky.size());
        // a policy/key split can not be forged either: ("p", "x:y") vs a policy named "p:x" (not a legal name)
        assertThat(keys.key(new Subject("p", "x:y"), "tb")).isEqualTo("sl:{p:x%3Ay}:tb");
    }
}
