package dev.sluice.admin;

import dev.sluice.config.AdminProperties;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * When service tokens are configured ({@code limiter.admin.service-tokens}, {@code
 * LIMITER_ADMIN_SERVICE_TOKENS}), {@code /v1/**} answers only the services that present one
 * ({@code Authorization: Bearer <token>}); else 401. None configured: {@code /v1/**} is open, as
 * for a limiter reachable only from inside the deployment.
 */
@ServerFilter("/v1/**")
public class ServiceAuthFilter {
    private final BearerTokens tokens;

    public ServiceAuthFilter(AdminProperties properties) {
        this.tokens = new BearerTokens(properties.getServiceTokens(), "sluice", "limiter.admin.service-tokens");
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> authenticate(HttpRequest<?> request) {
        return tokens.isEmpty() ? null : tokens.check(request);
    }

    /**
     * Whether a request with this {@code Authorization} header passes the filter: the same test as
     * {@link #authenticate}, for the server's direct check path, which hands a request that does not
     * pass to the framework (and so to this filter's 401).
     */
    public boolean admits(@Nullable String authorization) {
        return tokens.isEmpty() || tokens.admits(authorization);
    }
}
