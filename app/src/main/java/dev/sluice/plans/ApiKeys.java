package dev.sluice.plans;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * API key material. A key is {@code sk_<id>.<secret>}: {@code id} (12 characters, 72 random bits)
 * names the key in logs, metrics and the admin API; {@code secret} (43 characters, 256 random bits
 * from {@link SecureRandom}) is shown once and stored only as SHA-256. Comparisons of hashes are
 * constant-time.
 */
public final class ApiKeys {
    public static final String PREFIX = "sk_";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private ApiKeys() {}

    /** A new key's id and secret. */
    public record Issued(String id, String secret) {
        /** The key as the client sends it. */
        public String key() {
            return PREFIX + id + "." + secret;
        }
    }

    public static Issued issue() {
        byte[] id = new byte[9];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(id);
        RANDOM.nextBytes(secret);
        return new Issued(B64.encodeToString(id), B64.encodeToString(secret));
    }

    /** One digest per thread: looked up once, not on every check (digest() resets it). */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    /** SHA-256 of the secret's UTF-8 bytes. */
    public static byte[] hash(String secret) {
        return SHA_256.get().digest(secret.getBytes(StandardCharsets.UTF_8));
    }

    /** Constant-time equality of two hashes. */
    public static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }
}
