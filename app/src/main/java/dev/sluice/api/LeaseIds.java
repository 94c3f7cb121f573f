package dev.sluice.api;

import dev.sluice.store.Subject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Lease ids as clients see them: {@code <base64url(policy "\n" key)>.<token>}, so that {@code
 * DELETE /v1/leases/{id}} finds the subject (and its shard) from the id alone, with no lookup table.
 */
public final class LeaseIds {
    private LeaseIds() {}

    /** The id of {@code subject}'s lease {@code token}. */
    public static String encode(Subject subject, String token) {
        byte[] raw = (subject.policy() + "\n" + subject.key()).getBytes(StandardCharsets.UTF_8);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw) + "." + token;
    }

    /** The subject and token of {@code id}, or {@code null} when it is not a lease id. */
    public static Decoded decode(String id) {
        int dot = id.lastIndexOf('.');
        if (dot <= 0 || dot == id.length() - 1 || id.length() > 1024) {
            return null;
        }
        String token = id.substring(dot + 1);
        if (!token.matches("[A-Za-z0-9_-]{16}")) {
            return null;
        }
        String text;
        try {
            text = new String(Base64.getUrlDecoder().decode(id.substring(0, dot)), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int nl = text.indexOf('\n');
        if (nl <= 0) {
            return null;
        }
        return new Decoded(new Subject(text.substring(0, nl), text.substring(nl + 1)), token);
    }

    /** A decoded lease id. */
    public record Decoded(Subject subject, String token) {
        /** The policy the lease belongs to (a reserve or pool subject names it before the first {@code /}). */
        public String policy() {
            int slash = subject.policy().indexOf('/');
            return slash < 0 ? subject.policy() : subject.policy().substring(0, slash);
        }
    }
}
