package dev.sluice.api;

import dev.sluice.admin.ResetGuard;
import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
import dev.sluice.limiter.Limiter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The v1 decision API. Input is checked completely before the store is asked, so a bad request
 * consumes nothing and never reaches Redis. Every handler is non-blocking.
 */
@io.swagger.v3.oas.annotations.tags.Tag(
        name = "checks",
        description = "Rate limit decisions: 200 admitted, 429 denied (Retry-After, RateLimit-Policy/RateLimit,"
                + " X-RateLimit-*), 503 fail-closed, 4xx problem+json naming the field")
@Controller("/v1")
public class CheckController {
    private static final byte[] PONG = "{\"pong\":true}".getBytes(StandardCharsets.US_ASCII);

    private final PolicyRegistry policies;
    private final Limiter limiter;
    private final Checks checks;
    private final ResetGuard resets;
    private final long maxBody;

    public CheckController(
            PolicyRegistry policies,
            Limiter limiter,
            Checks checks,
            ResetGuard resets,
            io.micronaut.http.server.HttpServerConfiguration server) {
        this.policies = policies;
        this.limiter = limiter;
        this.checks = checks;
        this.resets = resets;
        this.maxBody = server.getMaxRequestSize();
    }

    /**
     * Consumes and decides: one check, or several ({@code {"checks": [...]}}) admitted only
     * together. Every check is resolved (policy, subject, tier, cost) before any reaches the store.
     */
    @Post("/check")
    @Consumes(MediaType.ALL)
    @io.swagger.v3.oas.annotations.Parameter(
            name = "X-Api-Key",
            in = io.swagger.v3.oas.annotations.enums.ParameterIn.HEADER,
            schema = @io.swagger.v3.oas.annotations.media.Schema(type = "string"),
            description = "the caller's API key (or apiKey in the body): checks the key's plan, rate and quotas")
    public CompletionStage<MutableHttpResponse<byte[]>> check(@Nullable @Body byte[] body, HttpRequest<?> request) {
        // the header read as it is: no conversion service on the request path
        String apiKey = request.getHeaders().get("X-Api-Key");
        if (body == null
                && request instanceof io.micronaut.http.ServerHttpRequest<?> server
                && request.getContentType()
                        .filter(t -> t.getName().equals(MediaType.APPLICATION_FORM_URLENCODED)
                                || t.getName().equals(MediaType.MULTIPART_FORM_DATA))
                        .isPresent()) {
            // A check sent with a form's content type (curl -d) binds no bytes where the framework
            // reads the body as a form (the function handlers' servlet layer): a check is the raw
            // bytes, whatever the content type says, as on the server's direct path. Only then is
            // the body read again: a check without a body costs nothing more.
            CompletableFuture<? extends io.micronaut.http.body.CloseableAvailableByteBody> raw;
            try {
                raw = server.byteBody().split().buffer();
            } catch (IllegalStateException consumed) {
                return decide(null, apiKey);
            }
            return raw.thenCompose(b -> {
                try (b) {
                    return decide(b.length() == 0 ? null : b.toByteArray(), apiKey);
                }
            });
        }
        return decide(body, apiKey);
    }

    private CompletionStage<MutableHttpResponse<byte[]>> decide(@Nullable byte[] body, @Nullable String apiKey) {
        if (body != null && body.length > maxBody) {
            // the server refuses it before it is read; behind a function runtime it arrives whole
            return CompletableFuture.completedFuture(Responses.problem(
                    HttpStatus.REQUEST_ENTITY_TOO_LARGE,
                    "about:blank",
                    HttpStatus.REQUEST_ENTITY_TOO_LARGE.getReason(),
                    "The content length [" + body.length + "] exceeds the maximum allowed content length [" + maxBody
                            + "]",
                    List.of(new InvalidParam("body", "is too large"))));
        }
        return checks.check(body, apiKey);
    }

    /** Releases a {@code concurrency} lease: 204, or 404 when it is not held (released, or expired). */
    @Delete("/leases/{id}")
    public CompletionStage<MutableHttpResponse<byte[]>> release(@PathVariable String id) {
        LeaseIds.Decoded lease = LeaseIds.decode(id);
        if (lease == null) {
            return CompletableFuture.completedFuture(
                    Responses.badRequest(BadRequestException.of("id", "is not a lease id (as a check returns it)")));
        }
        Policy policy = policies.find(lease.policy());
        if (policy == null) {
            return CompletableFuture.completedFuture(Responses.badRequest(new BadRequestException(
                    404,
                    List.of(new InvalidParam("policy", "no policy named '" + lease.policy() + "' is configured")))));
        }
        return limiter.release(lease.subject(), lease.token())
                .thenApply(held -> held
                        ? HttpResponse.<byte[]>noContent()
                        : Responses.problem(
                                HttpStatus.NOT_FOUND,
                                Responses.UNKNOWN_LEASE,
                                "Lease not held",
                                "The lease was already released or has expired; nothing was released.",
                                List.of()))
                .exceptionally(error -> Responses.problem(
                        HttpStatus.SERVICE_UNAVAILABLE,
                        Responses.REDUCED_CAPACITY,
                        "Rate limit store unavailable",
                        "The shared rate limit store cannot be reached; the lease was not released and will expire"
                                + " by itself. Retry later.",
                        List.of()));
    }

    /** Looks without consuming: a check of cost 0; {@code allowed} tells whether a cost-1 check would pass. */
    @Get("/limits/{policy}/{key:[^/]+}")
    public CompletionStage<MutableHttpResponse<byte[]>> look(
            @PathVariable String policy, @PathVariable String key, HttpRequest<?> request) {
        try {
            Policy p = policy(policy);
            return limiter.check(p, checkedKey(RequestTarget.pathVariable(request, "key", key)), 0)
                    .thenApply(Responses::look);
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(Responses.badRequest(e));
        }
    }

    /**
     * Restores the subject's full allowance. An administrative call: once admin tokens are
     * configured (limiter.admin.tokens) it needs one — 403 for a service token, 401 without a
     * valid token, checked before the policy is looked up; without admin tokens, the service-token
     * rule of every /v1 call.
     */
    @Delete("/limits/{policy}/{key:[^/]+}")
    @io.swagger.v3.oas.annotations.security.SecurityRequirement(name = "admin-token")
    @io.swagger.v3.oas.annotations.responses.ApiResponse(responseCode = "204", description = "reset")
    @io.swagger.v3.oas.annotations.responses.ApiResponse(
            responseCode = "401",
            description = "admin tokens are configured and none was presented (problem+json)")
    @io.swagger.v3.oas.annotations.responses.ApiResponse(
            responseCode = "403",
            description = "a service token was presented: resets need an admin token (problem+json)")
    public CompletionStage<MutableHttpResponse<byte[]>> reset(
            @PathVariable String policy,
            @PathVariable String key,
            @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
            HttpRequest<?> request) {
        MutableHttpResponse<byte[]> refusal = resets.refusal(authorization);
        return refusal != null
                ? CompletableFuture.completedFuture(refusal)
                : restore(policy, RequestTarget.pathVariable(request, "key", key));
    }

    /**
     * Restores the subject's full allowance, for a caller already authenticated as an
     * administrator (the admin API's twin, {@code DELETE /admin/limits/…}).
     */
    public CompletionStage<MutableHttpResponse<byte[]>> restore(String policy, String key) {
        try {
            Policy p = policy(policy);
            return limiter.reset(p, checkedKey(key))
                    .<MutableHttpResponse<byte[]>>thenApply(done -> HttpResponse.noContent())
                    .exceptionally(error -> Responses.storeUnavailable(
                            "Rate limit store unavailable",
                            "The shared rate limit store cannot be reached; nothing was reset. Retry later."));
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(Responses.badRequest(e));
        }
    }

    /** Does nothing, cheaply: the baseline the benchmark compares {@code /v1/check} with. */
    @Get("/ping")
    public MutableHttpResponse<byte[]> ping() {
        return HttpResponse.ok(PONG).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    /**
     * The same no-op for a POST whose body is read and dropped, so a benchmark can drive it with the
     * very requests it sends to {@code /v1/check} and compare like with like.
     */
    @Post("/ping")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<byte[]> pingPost(@Nullable @Body byte[] body) {
        return HttpResponse.ok(PONG).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    private Policy policy(String name) {
        Policy policy = policies.find(name);
        if (policy == null) {
            throw new BadRequestException(
                    404, List.of(new InvalidParam("policy", "no policy named '" + name + "' is configured")));
        }
        return policy;
    }

    private static String checkedKey(String key) {
        String reason = CheckRequestParser.checkKey(key);
        if (reason != null) {
            throw BadRequestException.of("key", reason);
        }
        return key;
    }
}
