package dev.sluice.region;

import dev.sluice.admin.BearerTokens;
import dev.sluice.api.BadRequestException;
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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where peer regions deliver their demand ({@link RegionSync}): {@code POST /regions/v1/demand}
 * with {@code Authorization: Bearer <limiter.region.token>}. Outside {@code /v1}, so callers'
 * service tokens neither grant nor are needed for it; 404 while multi-region mode is off.
 */
@Controller("/regions/v1")
public class RegionController {
    private static final int MAX_ENTRIES = 10 * RegionSync.BATCH;

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
            @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization, @Nullable @Body byte[] body) {
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
        RegionSync.Batch batch;
        try {
            batch = parse(body);
        } catch (BadRequestException e) {
            return done(Responses.badRequest(e));
        }
        return sync.apply(batch.origin(), batch.entries())
                .<HttpResponse<?>>thenApply(n -> HttpResponse.ok(("{\"applied\":" + n + ",\"received\":"
                                        + batch.entries().size() + "}")
                                .getBytes(StandardCharsets.UTF_8))
                        .contentType(MediaType.APPLICATION_JSON_TYPE))
                .exceptionally(e -> Responses.problem(
                        HttpStatus.SERVICE_UNAVAILABLE,
                        Responses.REDUCED_CAPACITY,
                        "Store unavailable",
                        "the region's store did not take the batch; send it again",
                        List.of()));
    }

    private RegionSync.Batch parse(@Nullable byte[] body) {
        if (body == null || body.length == 0) {
            throw BadRequestException.of("body", "is required: {\"origin\": ..., \"entries\": [...]}");
        }
        RegionSync.Batch batch;
        try {
            batch = json.readValue(body, RegionSync.Batch.class);
        } catch (IOException | RuntimeException e) {
            throw BadRequestException.of("body", "is not a demand batch: " + e.getMessage());
        }
        if (batch == null || batch.origin() == null || !sync.knows(batch.origin())) {
            throw BadRequestException.of("origin", "must name one of this region's peers");
        }
        if (batch.entries() == null) {
            throw BadRequestException.of("entries", "is required");
        }
        if (batch.entries().size() > MAX_ENTRIES) {
            throw BadRequestException.of("entries", "at most " + MAX_ENTRIES + " a batch");
        }
        for (int i = 0; i < batch.entries().size(); i++) {
            RegionSync.Entry e = batch.entries().get(i);
            String at = "entries[" + i + "]";
            if (e == null || e.policy() == null || e.policy().isEmpty()) {
                throw BadRequestException.of(at + ".policy", "is required");
            }
            if (e.key() == null || e.key().isEmpty()) {
                throw BadRequestException.of(at + ".key", "is required");
            }
            if (e.period() < 0) {
                throw BadRequestException.of(at + ".period", "must be at least 0");
            }
            if (e.demand() < 0 || e.demand() > 1L << 50) {
                throw BadRequestException.of(at + ".demand", "must be between 0 and 2^50");
            }
        }
        return batch;
    }

    private static CompletionStage<HttpResponse<?>> done(HttpResponse<?> r) {
        return CompletableFuture.completedFuture(r);
    }
}
