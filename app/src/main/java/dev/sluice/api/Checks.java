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
import io.micronaut.http.MutableHttpResponse;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /v1/check}, whichever way it arrives: through the controller ({@link CheckController})
 * or the server's direct path ({@link DirectCheckPath}). One parse, one resolution, one decision and
 * one answer for both, so that the two cannot differ. Input is checked completely before the store
 * is asked, so a bad request consumes nothing and never reaches Redis. Never blocks.
 */
@Singleton
public class Checks {
    private final PolicyRegistry policies;
    private final Limiter limiter;
    private final SubjectResolver subjects;
    private final io.micronaut.context.BeanProvider<dev.sluice.plans.KeyDirectory> directory;
    private final dev.sluice.core.NodeClock clock;
    private final io.micronaut.context.BeanProvider<dev.sluice.plans.PlanChecks> planChecks;
    private final RetrySpread spread;

    public Checks(
            PolicyRegistry policies,
            Limiter limiter,
            SubjectResolver subjects,
            io.micronaut.context.BeanProvider<dev.sluice.plans.KeyDirectory> directory,
            io.micronaut.context.BeanProvider<dev.sluice.plans.PlanChecks> planChecks,
            dev.sluice.core.NodeClock clock,
            RetrySpread spread) {
        this.spread = spread;
        this.policies = policies;
        this.limiter = limiter;
        this.subjects = subjects;
        this.directory = directory;
        this.planChecks = planChecks;
        this.clock = clock;
    }

    /**
     * Consumes and decides: one check, or several ({@code {"checks": [...]}}) admitted only
     * together; a check by API key (in the body or {@code apiKeyHeader}) checks the key's plan. Bad
     * input is answered 4xx problem+json here, never thrown.
     */
    public CompletionStage<MutableHttpResponse<byte[]>> check(@Nullable byte[] body, @Nullable String apiKeyHeader) {
        try {
            CheckRequestParser.Parsed parsed = CheckRequestParser.parse(body, apiKeyHeader);
            if (!parsed.multi() && parsed.checks().get(0).apiKey() != null) {
                return checkByApiKey(parsed.checks().get(0));
            }
            List<Check> checks = resolve(parsed.checks());
            if (!parsed.multi()) {
                return limiter.check(checks.get(0)).thenApply(v -> Responses.decision(v, spread));
            }
            return limiter.checkAll(checks).thenApply(vs -> Responses.multi(vs, spread));
        } catch (BadRequestException e) {
            return CompletableFuture.completedFuture(Responses.badRequest(e));
        }
    }

    /**
     * The answer to a check that failed in a way no input explains (a bug): 500 problem+json, as
     * {@link ProblemErrorResponseProcessor} answers the framework's own failures.
     */
    static MutableHttpResponse<byte[]> internalError() {
        return Responses.problem(
                io.micronaut.http.HttpStatus.INTERNAL_SERVER_ERROR,
                "about:blank",
                io.micronaut.http.HttpStatus.INTERNAL_SERVER_ERROR.getReason(),
                "Internal error",
                List.of());
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
        if (!plans.seedsKnown(planned)) {
            // this node's first check of the account's day or month: its quotas start from the ledger
            return plans.learn(planned)
                    .thenCompose(
                            read -> decidePlanned(plans, plans.of(resolved, r.cost(), now), resolved, client, now));
        }
        return decidePlanned(plans, planned, resolved, client, now);
    }

    private CompletionStage<MutableHttpResponse<byte[]>> decidePlanned(
            dev.sluice.plans.PlanChecks plans,
            dev.sluice.plans.PlanChecks.Planned planned,
            dev.sluice.plans.KeyDirectory.Resolution resolved,
            String client,
            java.time.Instant now) {
        dev.sluice.limiter.PlanCheck check = planned.check();
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
            return Responses.multi(verdicts, spread);
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
}
