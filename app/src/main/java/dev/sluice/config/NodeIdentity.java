package dev.sluice.config;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * This node's one identity, for as long as the process runs: its member in the store's heartbeat
 * set (the local failure mode's node count), the prefix of its charge ids (a retried charge is not
 * counted twice) and the name its usage-ledger batches are written under. Random per start, never
 * configured: each of those needs an id no other process has used — a ledger batch is identified by
 * (node, sequence) and the sequence starts again with the process, so a restarted node that reused
 * its name would have its first batches taken for ones already written.
 *
 * @param id 72 random bits, 12 base64url characters
 */
public record NodeIdentity(String id) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A fresh identity. */
    public static NodeIdentity random() {
        byte[] bytes = new byte[9];
        RANDOM.nextBytes(bytes);
        return new NodeIdentity(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    @Override
    public String toString() {
        return id;
    }
}
