package dev.sluice.plans;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;
import java.time.Instant;

/**
 * An API key: its public {@code id}, its {@code account} (the first key of its rotation chain:
 * rate state and quotas are counted per account), its plan, and SHA-256 of its secret (the secret itself is
 * shown once, when the key is created, and never stored). Revoked when {@code revokedAt} is set;
 * after a rotation valid until {@code expiresAt}, then replaced by {@code replacedBy}.
 */
@MappedEntity("api_keys")
public record ApiKey(
        @Id String id,
        String account,
        String plan,
        byte[] secretHash,
        @Nullable String label,
        Instant createdAt,
        @Nullable Instant revokedAt,
        @Nullable Instant expiresAt,
        @Nullable String replacedBy) {

    /** This key, revoked at {@code when}. */
    public ApiKey revoked(Instant when) {
        return new ApiKey(id, account, plan, secretHash, label, createdAt, when, expiresAt, replacedBy);
    }

    /** This key, replaced by {@code successor} and valid until {@code until}. */
    public ApiKey replaced(String successor, Instant until) {
        return new ApiKey(id, account, plan, secretHash, label, createdAt, revokedAt, until, successor);
    }

    /** Whether the key authenticates at {@code now}: not revoked and not past its overlap. */
    public boolean validAt(Instant now) {
        return revokedAt == null && (expiresAt == null || now.isBefore(expiresAt));
    }
}
