package dev.sluice.api;

import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
import dev.sluice.limiter.Limiter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
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
@Controller("/v1")
public class CheckController {
    private static final byte[] PONG = "{\"pong\":true}".getBytes(StandardCharsets.US_ASCII);

    private final PolicyRegistry policies;
    private final Limiter limiter;

    public CheckController(PolicyRegistry policies, Limiter limiter) {
        this.policies = policies;
        this.limiter = limiter;
    }

    /** Consumes and decides. */
    @Post("/check")
    @Consumes(MediaType.ALL)
    public CompletionStage<MutableHttpResponse<byte[]>> check(@Nullable @Body byte[] body) {
        try {
            CheckRequest request = CheckRequestParser.parse(body);
            Policy policy = policy(request.policy());
            if (request.cost() > policy.limit().burst()) {
                throw BadRequestException.of(
                        "cost",
                        "must be at most the burst of policy '" + policy.name() + "' ("
                                + policy.limit().burst() + "), was " + request.cost());
            }
            return limiter.check(policy, request.key(), request.cost()).thenApply(Responses::decision);
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(Responses.badRequest(e));
        }
    }

    /** Looks without consuming: a check of cost 0; {@code allowed} tells whether a cost-1 check would pass. */
    @Get("/limits/{policy}/{key}")
    public CompletionStage<MutableHttpResponse<byte[]>> look(@PathVariable String policy, @PathVariable String key) {
        try {
            Policy p = policy(policy);
            return limiter.check(p, checkedKey(key), 0).thenApply(Responses::look);
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(Responses.badRequest(e));
        }
    }

    /** Restores the subject's full allowance. */
    @Delete("/limits/{policy}/{key}")
    public CompletionStage<MutableHttpResponse<byte[]>> reset(@PathVariable String policy, @PathVariable String key) {
        try {
            Policy p = policy(policy);
            return limiter.reset(p, checkedKey(key))
                    .<MutableHttpResponse<byte[]>>thenApply(done -> HttpResponse.noContent())
                    .exceptionally(error -> Responses.problem(
                            HttpStatus.SERVICE_UNAVAILABLE,
                            Responses.REDUCED_CAPACITY,
                            "Rate limit store unavailable",
                            "The shared rate limit store cannot be reached; nothing was reset. Retry later.",
                            List.of()));
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
