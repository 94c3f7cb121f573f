package dev.sluice.admin;

import dev.sluice.api.Responses;
import dev.sluice.config.AdminProperties;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import jakarta.inject.Singleton;
import java.util.List;

/**
 * Who may reset a subject through {@code DELETE /v1/limits/{policy}/{key}}: a reset is an
 * administrative call (the contract), so once admin tokens are configured ({@code
 * limiter.admin.tokens}) it needs one. A service's token is refused with 403 — a service asks, an
 * operator resets (as {@code DELETE /admin/limits/...}); no token or an unknown one with 401.
 * Without admin tokens a reset is let through here, and only the service tokens, if any, are asked
 * for ({@link ServiceAuthFilter}). Checked by the handler itself, so that no spelling of the path
 * that reaches the handler can pass by it.
 */
@Singleton
public class ResetGuard {
    private final BearerTokens adminTokens;
    private final BearerTokens serviceTokens;

    public ResetGuard(AdminProperties properties) {
        this.adminTokens = BearerTokens.admin(properties);
        this.serviceTokens = BearerTokens.service(properties);
    }

    /** {@code null} when a request with this {@code Authorization} header may reset; else the problem to answer. */
    @Nullable
    public MutableHttpResponse<byte[]> refusal(@Nullable String authorization) {
        if (adminTokens.isEmpty() || adminTokens.admits(authorization)) {
            return null;
        }
        if (!serviceTokens.isEmpty() && serviceTokens.admits(authorization)) {
            return Responses.problem(
                    HttpStatus.FORBIDDEN,
                    "urn:sluice:problem:forbidden",
                    "Forbidden",
                    "a reset is an administrative call: it needs an admin token (limiter.admin.tokens), not a"
                            + " service token",
                    List.of());
        }
        return adminTokens.check(authorization);
    }
}
