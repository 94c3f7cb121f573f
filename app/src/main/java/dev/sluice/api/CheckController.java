package dev.sluice.api;

import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
import dev.sluice.config.Scope;
import dev.sluice.core.Algorithm;
import dev.sluice.core.Limit;
import dev.sluice.limiter.Check;
import dev.sluice.limiter.Limiter;
import dev.sluice.scope.ScopeException;
import dev.sluice.scope.SubjectResolver;
import io.micronaut.core.annotation.Nullable;
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
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

    private final SubjectResolver subjects;

    private final io.micronaut.context.BeanProvider<dev.sluice.plans.KeyDirectory> directory;
    private final dev.sluice.core.NodeClock clock;
    private final io.micronaut.context.BeanProvider<dev.sluice.plans.PlanChecks> planChecks;

    public CheckController(
            PolicyRegistry policies,
            Limiter limiter,
            SubjectResolver subjects,
            io.micronaut.context.BeanProvider<dev.sluice.plans.KeyDirectory> directory,
            io.micronaut.context.BeanProvider<dev.sluice.plans.PlanChecks> planChecks,
            dev.sluice.core.NodeClock clock) {
        this.clock = clock;
        this.directory = directory;
        this.planChecks = planChecks;
        this.policies = policies;
        this.limiter = limiter;
        this.subjects = subjects;
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
        try {
            // the header read as it is: no conversion service on the request path
            CheckRequestParser.Parsed parsed =
                    CheckRequestParser.parse(body, request.getHeaders().get("X-Api-Key"));
            if (!parsed.multi() && parsed.checks().get(0).apiKey() != null) {
                return checkByApiKey(parsed.checks().get(0));
            }
            List<Check> checks = resolve(parsed.checks());
            if (!parsed.multi()) {
                return limiter.check(checks.get(0)).thenApply(Responses::decision);
            }
            return limiter.checkAll(checks).thenApply(Responses::multi);
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(Responses.badRequest(e));
        }
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

    /**
     * A check by API key: the key is resolved in memory (never the database); unknown, revoked and
     * expired keys get the same 401 by the same path; the plan's rate and quotas decide together.
     */
    private CompletionStage<MutableHttpResponse<byte[]>> checkByApiKey(CheckRequest r) {
        dev.sluice.plans.KeyDirectory keys = keyDirectory();
        if (keys == null) {
            throw BadRequestException.of(
                    "apiKey", "this service has no plans database (DATASOURCES_DEFAULT_URL): check by policy and key");
        }
        java.time.Instant now = clock.now();
        dev.sluice.plans.KeyDirectory.Resolution resolved = keys.resolve(r.apiKey(), now);
        if (!resolved.valid()) {
            return CompletableFuture.completedFuture(Responses.problem(
                    io.micronaut.http.HttpStatus.UNAUTHORIZED,
                    "urn:sluice:problem:invalid-api-key",
                    "Invalid API key",
                    "the API key is not valid: unknown, revoked or expired",
                    List.of()));
        }
        if (resolved.override() != null && resolved.override().blocked()) {
            return CompletableFuture.completedFuture(Responses.problem(
                    io.micronaut.http.HttpStatus.FORBIDDEN,
                    "urn:sluice:problem:key-blocked",
                    "API key blocked",
                    "the API key is blocked until " + resolved.override().until(),
                    List.of()));
        }
        dev.sluice.plans.PlanChecks plans = planChecks();
        dev.sluice.plans.PlanChecks.Planned planned = plans.of(resolved, r.cost(), now);
        dev.sluice.limiter.PlanCheck check = planned.check();
        long burst = check.rate().limit().burst(); // the effective plan's, as the check will use it
        if (r.cost() > burst) {
            throw BadRequestException.of(
                    "cost", "must be at most the burst of the key's plan (" + burst + "), was " + r.cost());
        }
        String client = r.facts().remoteAddress() != null
                ? r.facts().remoteAddress()
                : r.facts().xForwardedFor();
        return limiter.checkPlan(check).thenApply(verdicts -> {
            dev.sluice.limiter.Verdict culprit = null;
            for (dev.sluice.limiter.Verdict v : verdicts) {
                if (!v.decision().allowed() || v.unavailable()) {
                    culprit = v;
                    break;
                }
            }
            plans.settled(
                    planned,
                    resolved,
                    culprit == null
                            ? null
                            : culprit.unavailable()
                                    ? "unavailable"
                                    : culprit.policy().name(),
                    client,
                    now);
            return Responses.multi(verdicts);
        });
    }

    /**
     * The key directory, looked up in the context once (not per check: a bean lookup costs more
     * than the rest of the key's resolution); null when the service has no plans database.
     */
    private dev.sluice.plans.KeyDirectory keyDirectory() {
        dev.sluice.plans.KeyDirectory d = resolvedDirectory;
        if (d == null && directory.isPresent()) {
            d = directory.get();
            resolvedDirectory = d;
        }
        return d;
    }

    private dev.sluice.plans.PlanChecks planChecks() {
        dev.sluice.plans.PlanChecks p = resolvedPlanChecks;
        if (p == null) {
            p = planChecks.get();
            resolvedPlanChecks = p;
        }
        return p;
    }

    private volatile dev.sluice.plans.KeyDirectory resolvedDirectory;
    private volatile dev.sluice.plans.PlanChecks resolvedPlanChecks;

    /** Turns parsed checks into checks of configured policies; every mistake of every check is reported. */
    private List<Check> resolve(List<CheckRequest> requests) {
        List<Check> checks = new ArrayList<>(requests.size());
        List<InvalidParam> invalid = new ArrayList<>();
        List<InvalidParam> unknown = new ArrayList<>();
        for (CheckRequest r : requests) {
            String f = r.field();
            Policy policy = policies.find(r.policy());
            if (policy == null) {
                unknown.add(new InvalidParam(f + "policy", "no policy named '" + r.policy() + "' is configured"));
                continue;
            }
            String key = r.key();
            if (policy.scope() == Scope.KEY) {
                if (key == null) {
                    invalid.add(new InvalidParam(f + "key", "is required"));
                    continue;
                }
            } else {
                if (key != null) {
                    invalid.add(new InvalidParam(
                            f + "key",
                            "must not be sent: policy '" + policy.name() + "' derives its key from the request (scope "
                                    + policy.scope().value() + "); send the request facts under \"request\""));
                    continue;
                }
                try {
                    key = subjects.key(policy, r.facts());
                } catch (ScopeException e) {
                    invalid.add(new InvalidParam(f + e.field(), e.getMessage()));
                    continue;
                }
            }
            if (r.tier() != null && !policy.tiers().isEmpty() && !policy.tiers().containsKey(r.tier())) {
                invalid.add(new InvalidParam(
                        f + "tier",
                        "policy '" + policy.name() + "' has no tier '" + r.tier() + "' (tiers: "
                                + String.join(", ", policy.tiers().keySet()) + ")"));
                continue;
            }
            Limit limit = policy.limitFor(r.tier());
            if (limit.algorithm() == Algorithm.CONCURRENCY && r.cost() != 1) {
                invalid.add(new InvalidParam(
                        f + "cost",
                        "must be 1 for policy '" + policy.name() + "': a concurrency check takes one lease" + " (was "
                                + r.cost() + ")"));
                continue;
            }
            long most = policy.reserving() ? Math.max(policy.pool().burst(), maxReserve(policy)) : limit.burst();
            if (r.cost() > most) {
                invalid.add(new InvalidParam(
                        f + "cost",
                        "must be at most the burst of policy '" + policy.name() + "' (" + most + "), was " + r.cost()));
                continue;
            }
            checks.add(new Check(policy, key, r.cost(), r.tier()));
        }
        if (!invalid.isEmpty()) {
            invalid.addAll(unknown);
            throw new BadRequestException(400, invalid);
        }
        if (!unknown.isEmpty()) {
            throw new BadRequestException(404, unknown);
        }
        return checks;
    }

    private static long maxReserve(Policy policy) {
        long most = 0;
        for (Limit l : policy.reserves().values()) {
            most = Math.max(most, l.burst());
        }
        return most;
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
