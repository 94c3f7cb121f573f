package dev.sluice.admin;

import dev.sluice.api.BadRequestException;
import dev.sluice.api.CheckController;
import dev.sluice.api.Responses;
import dev.sluice.limiter.Limiter;
import dev.sluice.plans.ApiKey;
import dev.sluice.plans.ApiKeyRepository;
import dev.sluice.plans.Plan;
import dev.sluice.plans.PlanRepository;
import dev.sluice.plans.UsageLedger;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resets in the admin API: an API key's account (its rate bucket, and its quota used today and
 * this month, in Redis and in the durable ledger), and a configured policy's subject.
 */
@Controller("/admin")
@Tag(name = "admin")
@SecurityRequirement(name = "admin-token")
@Requires(beans = DataSource.class)
@ExecuteOn(TaskExecutors.BLOCKING)
public class ResetController {
    private static final Logger LOG = LoggerFactory.getLogger(ResetController.class);

    private final ApiKeyRepository keys;
    private final PlanRepository plans;
    private final Limiter limiter;
    private final UsageLedger ledger;
    private final CheckController checks;
    private final JsonMapper json;
    private final dev.sluice.core.NodeClock clock;

    public ResetController(
            ApiKeyRepository keys,
            PlanRepository plans,
            Limiter limiter,
            UsageLedger ledger,
            CheckController checks,
            JsonMapper json,
            dev.sluice.core.NodeClock clock) {
        this.clock = clock;
        this.keys = keys;
        this.plans = plans;
        this.limiter = limiter;
        this.ledger = ledger;
        this.checks = checks;
        this.json = json;
    }

    /**
     * Resets the account of key {@code id} (every key of its rotation chain): {@code rate} refills
     * its bucket, {@code daily} / {@code monthly} give back the quota used today / this month (in
     * the plan's time zone). All three unless the body says otherwise ({@code {"daily": false}}).
     * Answers what was used before. The quota's reset is written to the durable ledger too, so a
     * later Redis flush does not bring the old usage back.
     */
    @Post("/keys/{id}/reset")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<?> resetKey(@PathVariable String id, @Nullable @Body byte[] body) {
        return AdminController.handle(() -> {
            boolean rate = true;
            boolean daily = true;
            boolean monthly = true;
            if (body != null && body.length > 0) {
                JsonNode o = AdminController.object(json, body);
                AdminController.unknownFields(o, Set.of("rate", "daily", "monthly"));
                rate = flag(o, "rate");
                daily = flag(o, "daily");
                monthly = flag(o, "monthly");
                if (!rate && !daily && !monthly) {
                    throw BadRequestException.of("body", "resets nothing: leave at least one of rate, daily, monthly");
                }
            }
            ApiKey key = keys.findById(id).orElse(null);
            if (key == null) {
                return AdminController.notFound("key", id);
            }
            Plan plan = plans.findById(key.plan()).orElse(null);
            if (plan == null) {
                return AdminController.notFound("plan", key.plan());
            }
            LocalDate day = clock.now().atZone(ZoneId.of(plan.quotaZone())).toLocalDate();
            String dayId = day.toString();
            String monthId = YearMonth.from(day).toString();
            String account = key.account();
            // the database first: a reset it cannot record is not made (503, nothing changed)
            long dayLedger = daily ? ledgerTotal(account, "d:" + dayId) : 0;
            long monthLedger = monthly ? ledgerTotal(account, "m:" + monthId) : 0;
            long[] before;
            try {
                before = await(limiter.resetPlan(account, dayId, monthId, rate, daily, monthly));
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("Reset of key {}: the rate limit store failed ({})", id, e.toString());
                return Responses.problem(
                                HttpStatus.SERVICE_UNAVAILABLE,
                                Responses.REDUCED_CAPACITY,
                                "Rate limit store unavailable",
                                "the shared rate limit store cannot be reached; nothing was reset. Retry later.",
                                List.of())
                        .header("Retry-After", "1");
            }
            // what Redis counted is what the ledger will hold once every node has written; a counter
            // Redis did not have is taken as the ledger has it now
            long dayUsed = before[0] >= 0 ? before[0] : dayLedger;
            long monthUsed = before[1] >= 0 ? before[1] : monthLedger;
            Map<String, Long> takeOff = new LinkedHashMap<>();
            if (daily) {
                takeOff.put("d:" + dayId, dayUsed);
            }
            if (monthly) {
                takeOff.put("m:" + monthId, monthUsed);
            }
            try {
                ledger.takeOff(account, takeOff);
            } catch (SQLException e) {
                LOG.warn(
                        "Reset of key {}: Redis was reset but the ledger could not be adjusted ({} units today,"
                                + " {} this month); a later Redis flush would count them again ({})",
                        id,
                        dayUsed,
                        monthUsed,
                        e.toString());
                throw new IllegalStateException(e);
            }
            LOG.info(
                    "Key {} (account {}) reset:{}{}{}",
                    id,
                    account,
                    rate ? " rate" : "",
                    daily ? " daily (" + dayUsed + " used)" : "",
                    monthly ? " monthly (" + monthUsed + " used)" : "");
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", id);
            m.put("account", account);
            m.put("rate", rate);
            m.put("daily", daily ? Map.of("day", dayId, "usedBefore", dayUsed) : null);
            m.put("monthly", monthly ? Map.of("month", monthId, "usedBefore", monthUsed) : null);
            return HttpResponse.ok(m);
        });
    }

    /** Restores a configured policy's subject's full allowance: the admin twin of {@code DELETE /v1/limits/…}. */
    @Delete("/limits/{policy}/{key:[^/]+}")
    public CompletionStage<MutableHttpResponse<byte[]>> resetSubject(
            @PathVariable String policy, @PathVariable String key, io.micronaut.http.HttpRequest<?> request) {
        return checks.restore(policy, dev.sluice.api.RequestTarget.pathVariable(request, "key", key));
    }

    private long ledgerTotal(String account, String period) {
        try {
            return ledger.total(account, period);
        } catch (SQLException e) {
            throw new IllegalStateException(e); // AdminController.handle: 503
        }
    }

    private static boolean flag(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return true;
        }
        if (!v.isBoolean()) {
            throw BadRequestException.of(field, "must be true or false");
        }
        return v.getBooleanValue();
    }

    private static <T> T await(CompletionStage<T> stage) throws ExecutionException, TimeoutException {
        try {
            return stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException("interrupted");
        }
    }
}
