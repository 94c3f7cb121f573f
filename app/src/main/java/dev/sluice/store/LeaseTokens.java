package dev.sluice.store;

import java.security.SecureRandom;
import java.util.Base64;

/** Lease tokens: 96 random bits from a {@link SecureRandom}, 16 base64url characters. */
public final class LeaseTokens {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private LeaseTokens() {}

    /** A fresh token. */
    public static String next() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return ENCODER.encodeToString(bytes);
    }
}
