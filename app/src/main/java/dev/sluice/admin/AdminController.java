package dev.sluice.admin;

import dev.sluice.api.BadRequestException;
import dev.sluice.api.InvalidParam;
import dev.sluice.api.Responses;
import dev.sluice.config.Durations;
import dev.sluice.core.Limit;
import dev.sluice.plans.ApiKey;
import dev.sluice.plans.ApiKeyRepository;
import dev.sluice.plans.ApiKeys;
import dev.sluice.plans.KeyOverride;
import dev.sluice.plans.KeyOverrideRepository;
import dev.sluice.plans.Plan;
import dev.sluice.plans.PlanRepository;
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
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.sql.SQLException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API (authenticated by {@link AdminAuthFilter}): plans and API keys in PostgreSQL.
 * Every bad field is a 400 problem naming it; a database that cannot be reached is a 503 problem.
 * Runs on the blocking executor (JDBC), never on the event loop. Present only when a database is
 * configured ({@code datasources.default.*}).
 */
@Controller("/admin")
@io.swagger.v3.oas.annotations.tags.Tag(name = "admin", description = "Plans, API keys, overrides, usage, violations")
@io.swagger.v3.oas.annotations.security.SecurityRequirement(name = "admin-token")
@Requires(beans = DataSource.class)
@ExecuteOn(TaskExecutors.BLOCKING)
public class AdminController {
    private static final Logger LOG = LoggerFactory.getLogger(AdminController.class);
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Set<String> PLAN_FIELDS =
            Set.of("name", "limit", "period", "burst", "dailyQuota", "monthlyQuota", "tier", "quotaTimeZone");

    private final PlanRepository plans;
    private final ApiKeyRepository keys;
    private final KeyOverrideRepository overrides;
    private final dev.sluice.plans.UsageQueries usage;
    private final JsonMapper json;
    private final dev.sluice.core.NodeClock clock;

    public AdminController(
            PlanRepository plans,
            ApiKeyRepository keys,
            KeyOverrideRepository overrides,
            dev.sluice.plans.UsageQueries usage,
            JsonMapper json,
            dev.sluice.core.NodeClock clock) {
        this.clock = clock;
        this.plans = plans;
        this.keys = keys;
        this.overrides = overrides;
        this.usage = usage;
        this.json = json;
    }

    // --- usage and violations ------------------------------------------------------------------

    /**
     * Admitted and denied checks per minute of a key ({@code ?key=}) or a plan ({@code ?plan=}),
     * from {@code from} to {@code to} (ISO instants; default the last hour; at most 31 days).
     */
    @Get("/usage{?key,plan,from,to}")
    public MutableHttpResponse<?> usage(
            @Nullable String key, @Nullable String plan, @Nullable String from, @Nullable String to) {
        return handle(() -> {
            Instant[] range = range(from, to);
            boolean byPlan = subject(key, plan);
            List<Map<String, Object>> rows = usage.minutes(byPlan, byPlan ? plan : key, range[0], range[1]);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(byPlan ? "plan" : "key", byPlan ? plan : key);
            m.put("from", range[0].toString());
            m.put("to", range[1].toString());
            m.put(
                    "admitted",
                    rows.stream().mapToLong(r -> (Long) r.get("admitted")).sum());
            m.put("denied", rows.stream().mapToLong(r -> (Long) r.get("denied")).sum());
            m.put("minutes", rows);
            return HttpResponse.ok(m);
        });
    }

    /** The violation log of a key or a plan, newest first ({@code limit} 1–1000, default 100). */
    @Get("/violations{?key,plan,from,to,limit}")
    public MutableHttpResponse<?> violations(
            @Nullable String key,
            @Nullable String plan,
            @Nullable String from,
            @Nullable String to,
            @Nullable String limit) {
        return handle(() -> {
            Instant[] range = range(from, to);
            boolean byPlan = subject(key, plan);
            int n = 100;
            if (limit != null) {
                try {
                    n = Integer.parseInt(limit);
                } catch (NumberFormatException e) {
                    n = -1;
                }
                if (n < 1 || n > 1000) {
                    throw BadRequestException.of(
                            "limit", "must be a whole number from 1 to 1000 (was \"" + limit + "\")");
                }
            }
            return HttpResponse.ok(
                    Map.of("violations", usage.violations(byPlan, byPlan ? plan : key, range[0], range[1], n)));
        });
    }

    private static boolean subject(@Nullable String key, @Nullable String plan) {
        if ((key == null) == (plan == null)) {
            throw BadRequestException.of("key", "give either key (a key id) or plan, one of them");
        }
        return plan != null;
    }

    private Instant[] range(@Nullable String from, @Nullable String to) {
        Instant end = to == null ? clock.now() : instant("to", to);
        Instant start = from == null ? end.minus(Duration.ofHours(1)) : instant("from", from);
        if (!start.isBefore(end)) {
            throw BadRequestException.of("from", "must be before to");
        }
        if (Duration.between(start, end).compareTo(Duration.ofDays(31)) > 0) {
            throw BadRequestException.of("from", "the range is at most 31 days");
        }
        return new Instant[] {start, end};
    }

    private static Instant instant(String field, String text) {
        try {
            return Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            throw BadRequestException.of(field, "must be a time like 2026-11-22T10:00:00Z (was \"" + text + "\")");
        }
    }

    // --- overrides -----------------------------------------------------------------------------

    /**
     * Changes one key's limits, or blocks it, until a time: {@code {"for": "2h"}} or {@code
     * {"until": "2026-12-01T00:00:00Z"}} (at most a year ahead), with any of {@code limit}, {@code
     * burst}, {@code dailyQuota}, {@code monthlyQuota}, {@code blocked}, and a {@code reason}. The
     * newest override in force wins; every node applies it within about a second.
     */
    @Post("/keys/{id}/overrides")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<?> createOverride(@PathVariable String id, @Nullable @Body byte[] body) {
        return handle(() -> {
            JsonNode o = object(json, body);
            unknownFields(
                    o, Set.of("for", "until", "limit", "burst", "dailyQuota", "monthlyQuota", "blocked", "reason"));
            Instant now = now();
            String forText = optionalString(o, "for");
            String untilText = optionalString(o, "until");
            if ((forText == null) == (untilText == null)) {
                throw BadRequestException.of("until", "give either until (a time) or for (a duration), one of them");
            }
            Instant until;
            if (forText != null) {
                Duration d = Durations.parse(forText);
                if (d == null || d.isNegative() || d.isZero()) {
                    throw BadRequestException.of(
                            "for", "must be a duration like 30m, 2h or 7d (was \"" + forText + "\")");
                }
                until = now.plus(d);
            } else {
                try {
                    until = Instant.parse(untilText);
                } catch (java.time.format.DateTimeParseException e) {
                    throw BadRequestException.of(
                            "until", "must be a time like 2026-12-01T00:00:00Z (was \"" + untilText + "\")");
                }
                if (!until.isAfter(now)) {
                    throw BadRequestException.of("until", "must be in the future (was " + untilText + ")");
                }
            }
            if (until.isAfter(now.plus(Duration.ofDays(366)))) {
                throw BadRequestException.of("until", "must be at most a year ahead; change the plan instead");
            }
            Long limit = optionalPositive(o, "limit");
            Long burst = optionalPositive(o, "burst");
            Long daily = optionalPositive(o, "dailyQuota");
            Long monthly = optionalPositive(o, "monthlyQuota");
            JsonNode blockedNode = o.get("blocked");
            if (blockedNode != null && !blockedNode.isNull() && !blockedNode.isBoolean()) {
                throw BadRequestException.of("blocked", "must be true or false");
            }
            boolean blocked = blockedNode != null && blockedNode.isBoolean() && blockedNode.getBooleanValue();
            if (!blocked && limit == null && burst == null && daily == null && monthly == null) {
                throw BadRequestException.of(
                        "body", "changes nothing: give limit, burst, dailyQuota, monthlyQuota or blocked");
            }
            ApiKey k = keys.findById(id).orElse(null);
            if (k == null) {
                return notFound("key", id);
            }
            KeyOverride saved = overrides.save(new KeyOverride(
                    null, id, limit, burst, daily, monthly, blocked, until, optionalString(o, "reason"), now));
            LOG.info("Override {} on key {} until {}{}", saved.id(), id, until, blocked ? " (blocked)" : "");
            return HttpResponse.created(overrideJson(saved)).header("Location", "/admin/keys/" + id + "/overrides");
        });
    }

    @Get("/keys/{id}/overrides")
    public MutableHttpResponse<?> listOverrides(@PathVariable String id) {
        return handle(() -> keys.existsById(id)
                ? HttpResponse.ok(Map.of(
                        "overrides",
                        overrides.findByKeyIdOrderByCreatedAtDesc(id).stream()
                                .map(this::overrideJson)
                                .toList()))
                : notFound("key", id));
    }

    /** Ends an override at once (it is deleted). */
    @Delete("/overrides/{oid}")
    public MutableHttpResponse<?> deleteOverride(@PathVariable String oid) {
        return handle(() -> {
            long id;
            try {
                id = Long.parseLong(oid);
            } catch (NumberFormatException e) {
                throw BadRequestException.of("oid", "must be an override id, a whole number (was \"" + oid + "\")");
            }
            if (!overrides.existsById(id)) {
                return notFound("override", oid);
            }
            overrides.deleteById(id);
            LOG.info("Override {} ended", oid);
            return HttpResponse.noContent();
        });
    }

    private Map<String, Object> overrideJson(KeyOverride o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", o.id());
        m.put("key", o.keyId());
        m.put("limit", o.rateLimit());
        m.put("burst", o.rateBurst());
        m.put("dailyQuota", o.dailyQuota());
        m.put("monthlyQuota", o.monthlyQuota());
        m.put("blocked", o.blocked());
        m.put("until", o.until().toString());
        m.put("inForce", o.inForce(clock.now()));
        m.put("reason", o.reason());
        m.put("createdAt", o.createdAt().toString());
        return m;
    }

    // --- plans ---------------------------------------------------------------------------------

    @Post("/plans")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<?> createPlan(@Nullable @Body byte[] body) {
        return handle(() -> {
            Plan plan = plan(object(json, body), null, null);
            if (plans.existsById(plan.name())) {
                return conflict("plan '" + plan.name() + "' exists; PUT /admin/plans/" + plan.name() + " changes it");
            }
            plans.save(plan);
            LOG.info("Plan {} created", plan.name());
            return HttpResponse.created(planJson(plan)).header("Location", "/admin/plans/" + plan.name());
        });
    }

    @Get("/plans")
    public MutableHttpResponse<?> listPlans() {
        return handle(() -> HttpResponse.ok(Map.of(
                "plans",
                plans.findAllOrderByName().stream()
                        .map(AdminController::planJson)
                        .toList())));
    }

    @Get("/plans/{name}")
    public MutableHttpResponse<?> getPlan(@PathVariable String name) {
        return handle(() -> plans.findById(name)
                .<MutableHttpResponse<?>>map(p -> HttpResponse.ok(planJson(p)))
                .orElseGet(() -> notFound("plan", name)));
    }

    @Put("/plans/{name}")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<?> replacePlan(@PathVariable String name, @Nullable @Body byte[] body) {
        return handle(() -> {
            Plan old = plans.findById(name).orElse(null);
            if (old == null) {
                return notFound("plan", name);
            }
            Plan plan = plan(object(json, body), name, old.createdAt());
            plans.update(plan);
            LOG.info("Plan {} changed", name);
            return HttpResponse.ok(planJson(plan));
        });
    }

    @Delete("/plans/{name}")
    public MutableHttpResponse<?> deletePlan(@PathVariable String name) {
        return handle(() -> {
            if (!plans.existsById(name)) {
                return notFound("plan", name);
            }
            long onIt = keys.countByPlan(name);
            if (onIt > 0) {
                return conflict("plan '" + name + "' still has " + onIt + " key(s); move or revoke them first");
            }
            plans.deleteById(name);
            LOG.info("Plan {} deleted", name);
            return HttpResponse.noContent();
        });
    }

    // --- keys ----------------------------------------------------------------------------------

    /** Issues a key on a plan: 201 with the key itself, shown this once. */
    @Post("/keys")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<?> createKey(@Nullable @Body byte[] body) {
        return handle(() -> {
            JsonNode o = object(json, body);
            unknownFields(o, Set.of("plan", "label"));
            String plan = requiredString(o, "plan");
            String label = optionalString(o, "label");
            if (!plans.existsById(plan)) {
                throw new BadRequestException(400, List.of(new InvalidParam("plan", "no plan named '" + plan + "'")));
            }
            return issue(null, plan, label);
        });
    }

    @Get("/keys/{id}")
    public MutableHttpResponse<?> getKey(@PathVariable String id) {
        return handle(() -> keys.findById(id)
                .<MutableHttpResponse<?>>map(k -> HttpResponse.ok(keyJson(k, null)))
                .orElseGet(() -> notFound("key", id)));
    }

    @Get("/plans/{name}/keys")
    public MutableHttpResponse<?> keysOfPlan(@PathVariable String name) {
        return handle(() -> plans.existsById(name)
                ? HttpResponse.ok(Map.of(
                        "keys",
                        keys.findByPlanOrderByCreatedAt(name).stream()
                                .map(k -> keyJson(k, null))
                                .toList()))
                : notFound("plan", name));
    }

    /** Revokes a key at once. */
    @Post("/keys/{id}/revoke")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<?> revokeKey(@PathVariable String id) {
        return handle(() -> {
            ApiKey k = keys.findById(id).orElse(null);
            if (k == null) {
                return notFound("key", id);
            }
            if (k.revokedAt() == null) {
                k = k.revoked(now());
                keys.update(k);
                LOG.info("Key {} revoked", id);
            }
            return HttpResponse.ok(keyJson(k, null));
        });
    }

    /**
     * Rotates a key: a new key on the same plan (201, shown once); the old one stays valid for the
     * {@code overlap} (default 24h, at most 30 days) so clients can switch, then stops.
     */
    @Post("/keys/{id}/rotate")
    @Consumes(MediaType.ALL)
    public MutableHttpResponse<?> rotateKey(@PathVariable String id, @Nullable @Body byte[] body) {
        return handle(() -> {
            JsonNode o = body == null || body.length == 0 ? null : object(json, body);
            Duration overlap = Duration.ofHours(24);
            if (o != null) {
                unknownFields(o, Set.of("overlap"));
                String text = optionalString(o, "overlap");
                if (text != null) {
                    overlap = Durations.parse(text);
                    if (overlap == null || overlap.isNegative() || overlap.compareTo(Duration.ofDays(30)) > 0) {
                        throw BadRequestException.of(
                                "overlap", "must be a duration from 0s to 30d, like 1h or 7d (was \"" + text + "\")");
                    }
                }
            }
            ApiKey old = keys.findById(id).orElse(null);
            if (old == null) {
                return notFound("key", id);
            }
            if (!old.validAt(clock.now())) {
                return conflict("key " + id + " is revoked or expired; issue a new key instead");
            }
            MutableHttpResponse<?> issued = issue(old.account(), old.plan(), old.label());
            @SuppressWarnings("unchecked")
            Map<String, Object> created = (Map<String, Object>) issued.body();
            String newId = (String) created.get("id");
            Instant until = now().plus(overlap);
            Instant expires = old.expiresAt() != null && old.expiresAt().isBefore(until) ? old.expiresAt() : until;
            keys.update(old.replaced(newId, expires));
            LOG.info("Key {} rotated to {}; the old key stays valid until {}", id, newId, expires);
            created.put("replaces", id);
            created.put("replacedKeyExpiresAt", expires.toString());
            return issued;
        });
    }

    /** Issues a key; {@code account} null starts a new account (the key's own id). */
    private MutableHttpResponse<?> issue(@Nullable String account, String plan, @Nullable String label) {
        ApiKeys.Issued issued = ApiKeys.issue();
        ApiKey k = new ApiKey(
                issued.id(),
                account == null ? issued.id() : account,
                plan,
                ApiKeys.hash(issued.secret()),
                label,
                now(),
                null,
                null,
                null);
        keys.save(k);
        LOG.info("Key {} issued on plan {}", k.id(), plan);
        return HttpResponse.created(keyJson(k, issued.key())).header("Location", "/admin/keys/" + k.id());
    }

    // --- JSON in and out -----------------------------------------------------------------------

    public static JsonNode object(JsonMapper json, @Nullable byte[] body) {
        if (body == null || body.length == 0) {
            throw BadRequestException.of("body", "is required: a JSON object");
        }
        dev.sluice.api.CheckRequestParser.requireUtf8(body);
        JsonNode node;
        try {
            node = json.readValue(body, JsonNode.class);
        } catch (IOException | RuntimeException e) {
            throw BadRequestException.of("body", dev.sluice.api.CheckRequestParser.notJson(e));
        }
        if (node == null || !node.isObject()) {
            throw BadRequestException.of("body", "must be a JSON object");
        }
        dev.sluice.api.CheckRequestParser.requireOneValue(body);
        return node;
    }

    static void unknownFields(JsonNode o, Set<String> known) {
        List<InvalidParam> bad = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : o.entries()) {
            if (!known.contains(e.getKey())) {
                bad.add(new InvalidParam(
                        e.getKey(),
                        "unknown field (known: "
                                + String.join(", ", known.stream().sorted().toList()) + ")"));
            }
        }
        if (!bad.isEmpty()) {
            throw new BadRequestException(400, bad);
        }
    }

    private static String requiredString(JsonNode o, String field) {
        String v = optionalString(o, field);
        if (v == null || v.isBlank()) {
            throw BadRequestException.of(field, "is required");
        }
        return v;
    }

    @Nullable
    private static String optionalString(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isString()) {
            throw BadRequestException.of(field, "must be a string");
        }
        String text = v.getStringValue();
        if (text.indexOf('\u0000') >= 0) {
            throw BadRequestException.of(field, "must not contain the NUL character (U+0000)");
        }
        int surrogate = dev.sluice.api.CheckRequestParser.unpairedSurrogateAt(text);
        if (surrogate >= 0) {
            throw BadRequestException.of(
                    field, "must be valid Unicode (unpaired surrogate at index " + surrogate + ")");
        }
        return text;
    }

    @Nullable
    private static Long optionalPositive(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber() || v.getValue() instanceof Double || v.getValue() instanceof Float) {
            throw BadRequestException.of(field, "must be a whole number");
        }
        long n;
        try {
            n = v.getLongValue();
        } catch (RuntimeException e) {
            throw BadRequestException.of(field, "is too large");
        }
        if (n < 1) {
            throw BadRequestException.of(field, "must be at least 1 (was " + n + ")");
        }
        return n;
    }

    /** The plan a body describes; {@code name} from the path for a PUT (then the body must not differ). */
    private Plan plan(JsonNode o, @Nullable String pathName, @Nullable Instant createdAt) {
        unknownFields(o, PLAN_FIELDS);
        String name = optionalString(o, "name");
        if (pathName != null) {
            if (name != null && !name.equals(pathName)) {
                throw BadRequestException.of(
                        "name", "must be the plan's name in the path ('" + pathName + "') or left out");
            }
            name = pathName;
        } else if (name == null) {
            throw BadRequestException.of("name", "is required");
        }
        if (!NAME.matcher(name).matches()) {
            throw BadRequestException.of("name", "must match [a-z0-9][a-z0-9._-]{0,63} (was \"" + name + "\")");
        }
        Long limit = optionalPositive(o, "limit");
        if (limit == null) {
            throw BadRequestException.of("limit", "is required");
        }
        String periodText = requiredString(o, "period");
        Duration period = Durations.parse(periodText);
        if (period == null || period.toMillis() < 1) {
            throw BadRequestException.of(
                    "period", "must be a duration like 1s, 1m, 1h or 1d (was \"" + periodText + "\")");
        }
        Long burst = optionalPositive(o, "burst");
        long b = burst == null ? limit : burst;
        try {
            new Limit(b, limit, period.toMillis());
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            int colon = message.indexOf(": ");
            throw BadRequestException.of(
                    colon > 0 ? message.substring(0, colon) : "limit",
                    colon > 0 ? message.substring(colon + 2) : message);
        }
        Long daily = optionalPositive(o, "dailyQuota");
        Long monthly = optionalPositive(o, "monthlyQuota");
        if (daily != null && monthly != null && monthly < daily) {
            throw BadRequestException.of(
                    "monthlyQuota", "must be at least the dailyQuota (" + daily + "), was " + monthly);
        }
        String tier = optionalString(o, "tier");
        if (tier == null) {
            tier = "standard";
        } else if (!NAME.matcher(tier).matches()) {
            throw BadRequestException.of("tier", "must match [a-z0-9][a-z0-9._-]{0,63} (was \"" + tier + "\")");
        }
        String zone = optionalString(o, "quotaTimeZone");
        if (zone == null) {
            zone = "UTC";
        } else {
            try {
                zone = ZoneId.of(zone).getId();
            } catch (DateTimeException e) {
                throw BadRequestException.of(
                        "quotaTimeZone", "must be a time zone like UTC or Europe/Paris (was \"" + zone + "\")");
            }
        }
        Instant now = now();
        return new Plan(
                name,
                limit,
                period.toMillis(),
                b,
                daily,
                monthly,
                tier,
                zone,
                createdAt == null ? now : createdAt,
                now);
    }

    private static Map<String, Object> planJson(Plan p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name());
        m.put("limit", p.rateLimit());
        m.put("period", period(p.ratePeriodMs()));
        m.put("burst", p.rateBurst());
        m.put("dailyQuota", p.dailyQuota());
        m.put("monthlyQuota", p.monthlyQuota());
        m.put("tier", p.tier());
        m.put("quotaTimeZone", p.quotaZone());
        m.put("createdAt", p.createdAt().toString());
        m.put("updatedAt", p.updatedAt().toString());
        return m;
    }

    /** {@code 86400000} → {@code 1d}; the largest unit that divides it. */
    static String period(long ms) {
        long[] sizes = {86_400_000L, 3_600_000L, 60_000L, 1000L};
        String[] units = {"d", "h", "m", "s"};
        for (int i = 0; i < sizes.length; i++) {
            if (ms % sizes[i] == 0) {
                return ms / sizes[i] + units[i];
            }
        }
        return ms + "ms";
    }

    /** A key as the admin API shows it; {@code secretKey} only when it was just issued. */
    private Map<String, Object> keyJson(ApiKey k, @Nullable String secretKey) {
        Instant now = clock.now();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", k.id());
        if (secretKey != null) {
            m.put("key", secretKey);
            m.put("note", "the key is shown this once; Sluice keeps only its hash");
        }
        m.put("account", k.account());
        m.put("plan", k.plan());
        m.put("label", k.label());
        m.put(
                "state",
                k.revokedAt() != null
                        ? "revoked"
                        : k.expiresAt() == null ? "active" : now.isBefore(k.expiresAt()) ? "expiring" : "expired");
        m.put("createdAt", k.createdAt().toString());
        m.put("revokedAt", k.revokedAt() == null ? null : k.revokedAt().toString());
        m.put("expiresAt", k.expiresAt() == null ? null : k.expiresAt().toString());
        m.put("replacedBy", k.replacedBy());
        return m;
    }

    private Instant now() {
        return clock.now().truncatedTo(ChronoUnit.MICROS); // what timestamptz keeps
    }

    // --- errors --------------------------------------------------------------------------------

    static MutableHttpResponse<?> notFound(String what, String name) {
        return Responses.problem(
                HttpStatus.NOT_FOUND,
                "urn:sluice:problem:not-found",
                "Not found",
                "no " + what + " '" + name + "'",
                List.of());
    }

    private static MutableHttpResponse<?> conflict(String detail) {
        return Responses.problem(HttpStatus.CONFLICT, "urn:sluice:problem:conflict", "Conflict", detail, List.of());
    }

    /** Runs an admin action: bad input → 400, the database unreachable → 503, a race on a constraint → 409. */
    static MutableHttpResponse<?> handle(Supplier<MutableHttpResponse<?>> action) {
        try {
            return action.get();
        } catch (BadRequestException e) {
            return Responses.badRequest(e);
        } catch (RuntimeException e) {
            SQLException sql = sqlCause(e);
            if (sql == null) {
                throw e;
            }
            String state = sql.getSQLState() == null ? "" : sql.getSQLState();
            if (state.startsWith("23")) {
                return conflict("the change conflicts with the current data (" + sql.getMessage() + ")");
            }
            if (state.equals("22021") || state.equals("22P05")) {
                // the database refused a character of the request (NUL in a path or query parameter):
                // the caller's input, not an outage
                return Responses.badRequest(BadRequestException.of(
                        "request", "a path or query parameter holds a character that cannot be stored (such as NUL)"));
            }
            LOG.warn("Admin API: the database cannot be reached ({})", sql.toString());
            return Responses.problem(
                            HttpStatus.SERVICE_UNAVAILABLE,
                            "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
                            "Database unavailable",
                            "the plans database cannot be reached; checks keep working, admin changes must wait",
                            List.of())
                    .header("Retry-After", "5");
        }
    }

    @Nullable
    private static SQLException sqlCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }
}
