package dev.sluice.region;

import dev.sluice.admin.AdminController;
import dev.sluice.admin.BearerTokens;
import dev.sluice.api.BadRequestException;
import dev.sluice.api.CheckRequestParser;
import dev.sluice.api.Responses;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Post;
import io.micronaut.json.JsonMapper;
import io.micronaut.json.tree.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where peer regions deliver their demand ({@link RegionSync}): {@code POST /regions/v1/demand}
 * with {@code Authorization: Bearer <limiter.region.token>}. Outside {@code /v1}, so callers'
 * service tokens neither grant nor are needed for it; 404 while multi-region mode is off.
 */
@Controller("/regions/v1")
public class RegionController {
    /**
     * A batch's entries at most: what a sender ships in one (found black-box: 600 were taken, each
     * creating a subject's region state, ten times what any Sluice node sends).
     */
    private static final int MAX_ENTRIES = RegionSync.BATCH;

    private final RegionSync sync;
    private final BearerTokens tokens;
    private final JsonMapper json;

    public RegionController(RegionSync sync, RegionProperties properties, JsonMapper json) {
        this.sync = sync;
        this.tokens = new BearerTokens(
                properties.getToken() == null ? List.of() : List.of(properties.getToken()),
                "sluice-region",
                "limiter.region.token");
        this.json = json;
    }

    @Post(value = "/demand", consumes = MediaType.ALL, produces = MediaType.APPLICATION_JSON)
    public CompletionStage<HttpResponse<?>> demand(
            @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization,
            @Nullable @Header(HttpHeaders.CONTENT_TYPE) String contentType,
            @Nullable @Body byte[] body) {
        if (!sync.active()) {
            return done(Responses.problem(
                    HttpStatus.NOT_FOUND,
                    "about:blank",
                    "Not Found",
                    "multi-region mode is off on this node (limiter.region)",
                    List.of()));
        }
        HttpResponse<?> refused = tokens.check(authorization);
        if (refused != null) {
            return done(refused);
        }
        if (contentType == null
                || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            return done(Responses.problem(
                    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                    "urn:sluice:problem:invalid-request",
                    "Unsupported Media Type",
                    "a demand batch is application/json",
                    List.of(new dev.sluice.api.InvalidParam("content-type", "must be application/json"))));
        }
        RegionSync.Batch batch;
        try {
            batch = parse(body);
        } catch (BadRequestException e) {
            return done(Responses.badRequest(e));
        }
        return sync.apply(batch.origin(), batch.entries(), batch.policies())
                .<HttpResponse<?>>thenApply(t -> HttpResponse.ok(("{\"applied\":" + t.applied() + ",\"received\":"
                                        + batch.entries().size() + ",\"skipped\":" + t.skipped() + "}")
                                .getBytes(StandardCharsets.UTF_8))
                        .contentType(MediaType.APPLICATION_JSON_TYPE))
                .exceptionally(e -> Responses.storeUnavailable(
                        "Store unavailable", "the region's store did not take the batch; send it again"));
    }

    /**
     * The batch, every field checked: strings where strings belong, whole numbers where numbers do,
     * keys as a check's keys, and periods that this region's clock can have seen — one far ahead
     * would otherwise be "newer" than every real shipment of its origin for good.
     */
    private RegionSync.Batch parse(@Nullable byte[] body) {
        JsonNode o = AdminController.object(json, body);
        JsonNode origin = o.get("origin");
        if (origin == null || !origin.isString() || !sync.knows(origin.getStringValue())) {
            throw BadRequestException.of("origin", "must name one of this region's peers");
        }
        JsonNode entries = o.get("entries");
        if (entries == null || !entries.isArray()) {
            throw BadRequestException.of("entries", "is required: an array of {policy, key, period, demand}");
        }
        if (entries.size() > MAX_ENTRIES) {
            throw BadRequestException.of("entries", "at most " + MAX_ENTRIES + " a batch");
        }
        long now = sync.currentPeriod();
        long earliest = now - sync.expiryPeriods() - 1;
        long latest = now + sync.aheadPeriods();
        List<RegionSync.Entry> out = new java.util.ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            JsonNode e = entries.get(i);
            String at = "entries[" + i + "]";
            if (e == null || !e.isObject()) {
                throw BadRequestException.of(at, "must be an object {policy, key, period, demand}");
            }
            String policy = string(e, at + ".policy");
            String key = string(e, at + ".key");
            String bad = CheckRequestParser.checkKey(key);
            if (bad != null) {
                throw BadRequestException.of(at + ".key", bad);
            }
            long period = whole(e, at + ".period");
            if (period < earliest || period > latest) {
                throw BadRequestException.of(
                        at + ".period",
                        "must be a sync period this region's clock allows: between " + earliest
                                + " (peer-expiry ago) and " + latest + " (" + RegionSync.AHEAD_SECONDS
                                + " s ahead), was " + period);
            }
            long demand = whole(e, at + ".demand");
            if (demand < 0 || demand > 1L << 50) {
                throw BadRequestException.of(at + ".demand", "must be between 0 and 2^50");
            }
            out.add(new RegionSync.Entry(policy, key, period, demand));
        }
        return new RegionSync.Batch(origin.getStringValue(), out, shapes(o.get("policies")));
    }

    /**
     * The optional {@code policies}: an object of at most {@link #MAX_ENTRIES} policy names, each to
     * the shape its sender runs it with ("limit/period ms/burst").
     */
    private static @Nullable Map<String, String> shapes(@Nullable JsonNode policies) {
        if (policies == null) {
            return null;
        }
        if (!policies.isObject()) {
            throw BadRequestException.of("policies", "must be an object of policy names to limit/period ms/burst");
        }
        if (policies.size() > MAX_ENTRIES) {
            throw BadRequestException.of("policies", "at most " + MAX_ENTRIES + " policies");
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : policies.entries()) {
            if (!dev.sluice.config.PolicyRegistry.NAME.matcher(e.getKey()).matches()) {
                throw BadRequestException.of("policies", "policy names are as a policy's: [a-z0-9][a-z0-9._-]{0,63}");
            }
            JsonNode v = e.getValue();
            if (v == null
                    || !v.isString()
                    || !(SHAPE.matcher(v.getStringValue()).matches()
                            || RegionSync.NOT_GLOBAL.equals(v.getStringValue()))) {
                throw BadRequestException.of(
                        "policies." + e.getKey(),
                        "must be a policy's limit/period ms/burst (each at least 1), then each tier's after its name,"
                                + " e.g. 100/1000/100 paid=1000/1000/1000");
            }
            out.put(e.getKey(), v.getStringValue());
        }
        return out;
    }

    private static final String ONE_SHAPE = "[1-9]\\d{0,18}/[1-9]\\d{0,18}/[1-9]\\d{0,18}";
    private static final java.util.regex.Pattern SHAPE = java.util.regex.Pattern.compile(
            ONE_SHAPE + "( (reserve:)?[a-z0-9][a-z0-9._-]{0,63}=" + ONE_SHAPE + "){0,64}");

    private static String string(JsonNode entry, String field) {
        JsonNode v = entry.get(field.substring(field.lastIndexOf('.') + 1));
        if (v == null || !v.isString() || v.getStringValue().isEmpty()) {
            throw BadRequestException.of(field, "is required: a non-empty string");
        }
        return v.getStringValue();
    }

    private static long whole(JsonNode entry, String field) {
        JsonNode v = entry.get(field.substring(field.lastIndexOf('.') + 1));
        if (v == null || v.isNull()) {
            throw BadRequestException.of(field, "is required: a whole number");
        }
        if (!v.isNumber()) {
            throw BadRequestException.of(field, "must be a whole number, written as a JSON number");
        }
        Number n = v.getNumberValue();
        // written as a whole number (found black-box: 1e2, 1.0 and 1.796552e9 were taken), as a
        // check's cost must be; the senders are Sluice nodes, which write them so
        if (!(n instanceof Integer || n instanceof Long || n instanceof java.math.BigInteger)) {
            throw BadRequestException.of(field, "must be a whole number, written without a fraction or exponent");
        }
        if (n instanceof java.math.BigInteger b && b.bitLength() > 62 || Math.abs(n.longValue()) > 1L << 62) {
            throw BadRequestException.of(field, "is out of range: at most 2^62 either way, was " + n);
        }
        return n.longValue();
    }

    private static CompletionStage<HttpResponse<?>> done(HttpResponse<?> r) {
        return CompletableFuture.completedFuture(r);
    }
}
