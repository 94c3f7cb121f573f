package dev.sluice.admin;

import dev.sluice.api.Responses;
import dev.sluice.config.AdminProperties;
import dev.sluice.plans.ApiKeys;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.util.List;

/**
 * Lets a request into {@code /admin/**} only with {@code Authorization: Bearer <an admin token>}
 * ({@code limiter.admin.tokens}); else 401 problem+json with {@code WWW-Authenticate: Bearer}. The
 * presented token is hashed and compared with every configured token's hash in constant time, all
 * of them every time; no token is ever logged.
 */
@ServerFilter("/admin/**")
public class AdminAuthFilter {
    private final List<byte[]> tokenHashes;

    public AdminAuthFilter(AdminProperties properties) {
        this.tokenHashes = properties.getTokens().stream()
                .filter(t -> t != null && !t.isBlank())
                .map(ApiKeys::hash)
                .toList();
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> authenticate(HttpRequest<?> request) {
        String header = request.getHeaders().get(HttpHeaders.AUTHORIZATION);
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim()
                : null;
        if (token == null || token.isEmpty()) {
            return unauthorized(
                    tokenHashes.isEmpty()
                            ? "the admin API is closed: no admin token is configured (limiter.admin.tokens)"
                            : "an admin token is required: Authorization: Bearer <token>");
        }
        byte[] presented = ApiKeys.hash(token);
        boolean ok = false;
        for (byte[] known : tokenHashes) {
            ok |= ApiKeys.same(presented, known);
        }
        return ok ? null : unauthorized("the admin token is not valid");
    }

    private static HttpResponse<?> unauthorized(String detail) {
        return Responses.problem(
                        HttpStatus.UNAUTHORIZED, "urn:sluice:problem:unauthorized", "Unauthorized", detail, List.of())
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"sluice-admin\"");
    }
}
