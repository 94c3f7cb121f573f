package dev.sluice.store.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * {@link ScriptArgs} against Lettuce's own {@link CommandArgs}: for any keys (ASCII, Unicode, hash
 * tags) and arguments (text and numbers, negative and extreme), the command on the wire is byte for
 * byte the same, and the cluster client hashes the same first key to the same slot.
 */
class ScriptArgsTest {
    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    /** An argument: text or a number. */
    record Arg(String text, Long number) {}

    @Property(tries = 2000)
    void encodesAsLettuceDoes(
            @ForAll @Size(min = 1, max = 4) List<@net.jqwik.api.From("keys") String> keys,
            @ForAll @Size(max = 16) List<@net.jqwik.api.From("args") Arg> args) {
        ScriptArgs.Tail tail = new ScriptArgs.Tail(keys.size());
        for (String k : keys) {
            tail.key(k);
        }
        for (Arg a : args) {
            if (a.number() != null) {
                tail.arg(a.number());
            } else {
                tail.arg(a.text());
            }
        }
        ScriptArgs ours = ScriptArgs.evalsha(SHA, tail);
        CommandArgs<byte[], byte[]> lettuce = lettuce(SHA, keys, args);
        assertThat(wire(CommandType.EVALSHA, ours)).isEqualTo(wire(CommandType.EVALSHA, lettuce));
        assertThat(ours.count()).isEqualTo(lettuce.count());
        assertThat(SlotHash.getSlot(ours.getFirstEncodedKey()))
                .isEqualTo(SlotHash.getSlot(keys.get(0).getBytes(StandardCharsets.UTF_8)));
        // the EVAL fallback: the same keys and arguments after the source
        String source = "return 'é' -- " + keys.get(0);
        assertThat(wire(CommandType.EVAL, ScriptArgs.eval(source, tail)))
                .isEqualTo(wire(CommandType.EVAL, lettuce(source, keys, args)));
    }

    private static CommandArgs<byte[], byte[]> lettuce(String script, List<String> keys, List<Arg> args) {
        CommandArgs<byte[], byte[]> lettuce =
                new CommandArgs<>(ByteArrayCodec.INSTANCE).add(script.getBytes(StandardCharsets.UTF_8));
        lettuce.add(keys.size());
        for (String k : keys) {
            lettuce.addKey(k.getBytes(StandardCharsets.UTF_8));
        }
        for (Arg a : args) {
            lettuce.addValue(
                    (a.number() != null ? Long.toString(a.number()) : a.text()).getBytes(StandardCharsets.UTF_8));
        }
        return lettuce;
    }

    private static String wire(CommandType type, CommandArgs<byte[], byte[]> args) {
        ByteBuf buf = Unpooled.buffer(64); // small: encoding must grow it as needed
        new Command<>(type, null, args).encode(buf);
        return buf.toString(StandardCharsets.ISO_8859_1);
    }

    @Provide
    Arbitrary<String> keys() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMinLength(1).ofMaxLength(40),
                Arbitraries.strings().ascii().ofMinLength(1).ofMaxLength(300),
                Arbitraries.strings().alpha().ofMaxLength(12).map(s -> "sl:{rate:" + s + "}:tb"),
                Arbitraries.strings().withChars("{}:%é€😀").ofMinLength(1).ofMaxLength(10));
    }

    @Provide
    Arbitrary<Arg> args() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(30).map(s -> new Arg(s, null)),
                Arbitraries.longs().map(n -> new Arg(null, n)),
                Arbitraries.of(0L, -1L, 9L, 10L, Long.MAX_VALUE, Long.MIN_VALUE).map(n -> new Arg(null, n)));
    }
}
