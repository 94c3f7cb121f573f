package dev.sluice.store.redis;

import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The arguments of one EVALSHA or EVAL, written in RESP once, into a heap array, as the call is
 * built: Lettuce's own {@link CommandArgs} keeps each argument as an object and encodes it into the
 * connection's direct buffer a few bytes at a time, with a bounds check per byte (measured ~8 % of
 * a check's CPU for the plan script's 15 arguments); this one is copied into that buffer whole.
 *
 * <p>It stays a {@link CommandArgs}, so Lettuce still routes the command (the cluster client hashes
 * {@link #getFirstEncodedKey()}, the first key, as before), retries it on MOVED/ASK and reconnects
 * as for any command; only the encoding is done here. The script (digest or source) is separate
 * from the rest, so the EVAL fallback on NOSCRIPT reuses the encoded keys and arguments.
 */
final class ScriptArgs extends CommandArgs<byte[], byte[]> {
    private static final ConcurrentHashMap<String, byte[]> BULKS = new ConcurrentHashMap<>();

    private final byte[] script;
    private final Tail tail;

    private ScriptArgs(byte[] script, Tail tail) {
        super(ByteArrayCodec.INSTANCE);
        this.script = script;
        this.tail = tail;
    }

    /** EVALSHA's arguments: the digest, then {@code tail}. */
    static ScriptArgs evalsha(String sha1, Tail tail) {
        return new ScriptArgs(BULKS.computeIfAbsent(sha1, s -> bulk(s.getBytes(StandardCharsets.US_ASCII))), tail);
    }

    /** EVAL's arguments: the source, then {@code tail} (NOSCRIPT's fallback; the source is not cached here). */
    static ScriptArgs eval(String source, Tail tail) {
        return new ScriptArgs(bulk(source.getBytes(StandardCharsets.UTF_8)), tail);
    }

    private static byte[] bulk(byte[] value) {
        Tail t = new Tail();
        t.bulk(value);
        return java.util.Arrays.copyOf(t.buf, t.len);
    }

    @Override
    public int count() {
        return 1 + tail.count;
    }

    /**
     * The first key, as the cluster client hashes it to a slot: its own array, since Lettuce's
     * {@code SlotHash} reads a heap buffer's array from index 0 (a view into the encoded command
     * would hash the wrong bytes).
     */
    @Override
    public ByteBuffer getFirstEncodedKey() {
        return tail.firstKey == null ? null : ByteBuffer.wrap(tail.firstKey);
    }

    @Override
    public void encode(ByteBuf buf) {
        buf.ensureWritable(script.length + tail.len);
        buf.writeBytes(script);
        buf.writeBytes(tail.buf, 0, tail.len);
    }

    @Override
    public String toCommandString() {
        return "<script> "
                + new String(tail.buf, 0, tail.len, StandardCharsets.ISO_8859_1)
                        .replace("\r\n", " ")
                        .trim();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " [" + toCommandString() + "]";
    }

    /**
     * What follows the script: the number of keys, the keys, the arguments, each a RESP bulk
     * string. Numbers are written as their decimal digits without a String in between.
     */
    static final class Tail {
        private byte[] buf;
        private int len;
        private int count;
        private byte[] firstKey;

        Tail(int numKeys) {
            buf = new byte[256];
            arg(numKeys);
        }

        private Tail() {
            buf = new byte[64];
        }

        /** A key (the first decides the shard, and is kept as its own bytes for that). */
        Tail key(String key) {
            if (firstKey == null) {
                firstKey = key.getBytes(StandardCharsets.UTF_8);
                return bulk(firstKey);
            }
            return arg(key);
        }

        /** An argument of text (ASCII copied a char to a byte, anything else encoded as UTF-8). */
        Tail arg(String value) {
            int n = value.length();
            room(n + 16);
            int start = len;
            header(n);
            for (int i = 0; i < n; i++) {
                char c = value.charAt(i);
                if (c >= 0x80) {
                    len = start;
                    return bulk(value.getBytes(StandardCharsets.UTF_8));
                }
                buf[len++] = (byte) c;
            }
            crlf();
            count++;
            return this;
        }

        /** An argument that is a number, in decimal. */
        Tail arg(long value) {
            room(40);
            int digits = digits(value);
            header(digits);
            writeDigits(value, digits);
            crlf();
            count++;
            return this;
        }

        Tail bulk(byte[] value) {
            room(value.length + 16);
            header(value.length);
            System.arraycopy(value, 0, buf, len, value.length);
            len += value.length;
            crlf();
            count++;
            return this;
        }

        private void header(int length) {
            buf[len++] = '$';
            writeDigits(length, digits(length));
            crlf();
        }

        private void crlf() {
            buf[len++] = '\r';
            buf[len++] = '\n';
        }

        private void writeDigits(long value, int digits) {
            if (value < 0) {
                byte[] text = Long.toString(value).getBytes(StandardCharsets.US_ASCII); // rare
                System.arraycopy(text, 0, buf, len, text.length);
                len += text.length;
                return;
            }
            int i = len + digits;
            len = i;
            long v = value;
            while (v >= 100) { // two digits a step, from a table: half the divisions
                long q = v / 100;
                int r = (int) (v - q * 100);
                buf[--i] = ONES[r];
                buf[--i] = TENS[r];
                v = q;
            }
            int r = (int) v;
            buf[--i] = ONES[r];
            if (r >= 10) {
                buf[--i] = TENS[r];
            }
        }

        /** The characters of {@code value} in decimal (multiplications, no division). */
        private static int digits(long value) {
            if (value < 0) {
                return Long.toString(value).length(); // rare
            }
            long p = 10;
            for (int d = 1; d < 19; d++) {
                if (value < p) {
                    return d;
                }
                p *= 10;
            }
            return 19;
        }

        private static final byte[] TENS = new byte[100];
        private static final byte[] ONES = new byte[100];

        static {
            for (int i = 0; i < 100; i++) {
                TENS[i] = (byte) ('0' + i / 10);
                ONES[i] = (byte) ('0' + i % 10);
            }
        }

        private void room(int more) {
            if (len + more > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
            }
        }
    }
}
