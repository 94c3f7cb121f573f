package dev.sluice.admin;

import dev.sluice.config.AdminProperties;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * When service tokens are configured ({@code limiter.admin.service-tokens}, {@code
 * LIMITER_ADMIN_SERVICE_TOKENS}), {@code /v1/**} answers only the callers that present one — or an
 * admin token ({@code limiter.admin.tokens}), which may do whatever a service may, and is what a
 * reset needs ({@link ResetGuard}) — as {@code Authorization: Bearer <token>}; else 401. No service
 * tokens configured: {@code /v1/**} is open, as for a limiter reachable only from inside the
 * deployment (a reset still needs an admin token once admin tokens are configured).
 */
@ServerFilter("/v1/**")
public class ServiceAuthFilter {
    private final BearerTokens tokens;
    private final BearerTokens adminTokens;

    public ServiceAuthFilter(AdminProperties properties) {
        this.tokens = BearerTokens.service(properties);
        this.adminTokens = BearerTokens.admin(properties);
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> authenticate(HttpRequest<?> request) {
        if (tokens.isEmpty()) {
            return null;
        }
        String authorization = request.getHeaders().get(HttpHeaders.AUTHORIZATION);
        return adminTokens.admits(authorization) ? null : tokens.check(authorization);
    }

    /**
     * Whether a request with this {@code Authorization} header passes the filter: the same test as
     * {@link #authenticate}, for the server's direct check path, which hands a request that does not
     * pass to the framework (and so to this filter's 401).
     */
    public boolean admits(@Nullable String authorization) {
        return tokens.isEmpty() || tokens.admits(authorization) || adminTokens.admits(authorization);
    }
}
