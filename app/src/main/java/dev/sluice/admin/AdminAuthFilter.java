package dev.sluice.admin;

import dev.sluice.config.AdminProperties;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Lets a request into {@code /admin/**} only with {@code Authorization: Bearer <an admin token>}
 * ({@code limiter.admin.tokens}); else 401 problem+json with {@code WWW-Authenticate: Bearer}.
 * None configured: the admin API is closed.
 */
@ServerFilter("/admin/**")
public class AdminAuthFilter {
    private final BearerTokens tokens;

    public AdminAuthFilter(AdminProperties properties) {
        this.tokens = BearerTokens.admin(properties);
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> authenticate(HttpRequest<?> request) {
        return tokens.check(request);
    }
}
