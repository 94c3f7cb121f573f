package dev.sluice.admin;

import dev.sluice.api.Responses;
import dev.sluice.config.AdminProperties;
import dev.sluice.plans.ApiKeys;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import java.util.List;

/**
 * A set of bearer tokens, kept as SHA-256 hashes: a presented token is hashed and compared with
 * every known hash in constant time, all of them every time. Tokens are never logged.
 */
public final class BearerTokens {
    private final List<byte[]> hashes;
    private final String realm;
    private final String setting;

    public BearerTokens(List<String> tokens, String realm, String setting) {
        this.hashes = tokens.stream()
                .filter(t -> t != null && !t.isBlank())
                .map(ApiKeys::hash)
                .toList();
        this.realm = realm;
        this.setting = setting;
    }

    /** The administrators' tokens ({@code limiter.admin.tokens}), realm {@code sluice-admin}. */
    static BearerTokens admin(AdminProperties properties) {
        return new BearerTokens(properties.getTokens(), "sluice-admin", "limiter.admin.tokens");
    }

    /** The calling services' tokens ({@code limiter.admin.service-tokens}), realm {@code sluice}. */
    static BearerTokens service(AdminProperties properties) {
        return new BearerTokens(properties.getServiceTokens(), "sluice", "limiter.admin.service-tokens");
    }

    boolean isEmpty() {
        return hashes.isEmpty();
    }

    /** {@code null} when the request carries one of the tokens; else the 401 problem to answer. */
    @Nullable
    HttpResponse<?> check(HttpRequest<?> request) {
        return check(request.getHeaders().get(HttpHeaders.AUTHORIZATION));
    }

    /** {@code null} when this {@code Authorization} header carries one of the tokens; else the 401 problem. */
    @Nullable
    public MutableHttpResponse<byte[]> check(@Nullable String authorization) {
        String token = token(authorization);
        if (token == null) {
            return unauthorized(
                    hashes.isEmpty()
                            ? "closed: no token is configured (" + setting + ")"
                            : "a token is required: Authorization: Bearer <token>");
        }
        return known(token) ? null : unauthorized("the token is not valid");
    }

    /** Whether this {@code Authorization} header carries one of the tokens. */
    boolean admits(@Nullable String authorization) {
        String token = token(authorization);
        return token != null && known(token);
    }

    @Nullable
    private static String token(@Nullable String header) {
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim()
                : null;
        return token == null || token.isEmpty() ? null : token;
    }

    private boolean known(String token) {
        byte[] presented = ApiKeys.hash(token);
        boolean ok = false;
        for (byte[] known : hashes) {
            ok |= ApiKeys.same(presented, known);
        }
        return ok;
    }

    private MutableHttpResponse<byte[]> unauthorized(String detail) {
        return Responses.problem(
                        HttpStatus.UNAUTHORIZED, "urn:sluice:problem:unauthorized", "Unauthorized", detail, List.of())
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"" + realm + "\"");
    }
}
