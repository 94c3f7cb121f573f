package dev.sluice.region;

import dev.sluice.api.Responses;
import dev.sluice.config.Policy;
import dev.sluice.config.PolicyRegistry;
import dev.sluice.store.Subject;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /v1/regions/{policy}/{key}}: a subject of a global policy as this region holds it —
 * its share, its demand, the demand every peer took, what the peers said of theirs
 * (docs/multi-region.md). Under {@code /v1}, so service tokens apply as to any read.
 */
@Controller("/v1/regions")
public class RegionShareController {
    private final RegionSync sync;
    private final RegionMode mode;
    private final PolicyRegistry policies;
    private final io.micronaut.json.JsonMapper json;

    public RegionShareController(
            RegionSync sync, RegionMode mode, PolicyRegistry policies, io.micronaut.json.JsonMapper json) {
        this.sync = sync;
        this.mode = mode;
        this.policies = policies;
        this.json = json;
    }

    @Get(value = "/{policy}/{key:[^/]+}", produces = MediaType.APPLICATION_JSON)
    public CompletionStage<HttpResponse<?>> share(
            @PathVariable String policy, @PathVariable String key, io.micronaut.http.HttpRequest<?> request) {
        String checked = dev.sluice.api.RequestTarget.pathVariable(request, "key", key);
        String bad = dev.sluice.api.CheckRequestParser.checkKey(checked);
        if (bad != null) {
            return CompletableFuture.completedFuture(
                    Responses.badRequest(dev.sluice.api.BadRequestException.of("key", bad)));
        }
        Policy p = policies.find(policy);
        if (p == null || !p.global() || !sync.active()) {
            String why = p == null
                    ? "no policy " + policy
                    : !p.global() ? "policy " + policy + " is regional" : "multi-region mode is off on this node";
            return CompletableFuture.completedFuture(Responses.problem(
                    HttpStatus.NOT_FOUND,
                    p == null ? Responses.UNKNOWN_POLICY : "urn:sluice:problem:not-a-global-policy",
                    p == null ? "Unknown policy" : "Not a global policy",
                    why,
                    List.of(new dev.sluice.api.InvalidParam("policy", why))));
        }
        return sync.read(new Subject(policy, checked))
                .<HttpResponse<?>>thenApply(r -> {
                    long sn = r.get(0) < 0
                            ? RegionShares.initial(mode.properties().regions())
                            : r.get(0);
                    java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
                    body.put("policy", policy);
                    body.put("key", checked);
                    body.put("region", mode.properties().getName());
                    body.put("share", sn / (double) RegionShares.SCALE);
                    body.put("burst", RegionShares.burst(p.limit().burst(), sn));
                    body.put("demand", r.get(1));
                    body.put("acked", r.get(2));
                    body.put("peersDemand", r.get(3));
                    java.util.Map<String, Object> byPeer = new java.util.LinkedHashMap<>();
                    int i = 4;
                    for (String peer : mode.properties().getPeers().keySet()) {
                        if (i + 2 >= r.size()) {
                            break;
                        }
                        java.util.Map<String, Object> one = new java.util.LinkedHashMap<>();
                        one.put("mayHoldOfUs", r.get(i));
                        one.put("demand", r.get(i + 1) < 0 ? null : r.get(i + 1));
                        one.put("lastPeriodSent", r.get(i + 2) < 0 ? null : r.get(i + 2));
                        byPeer.put(peer, one);
                        i += 3;
                    }
                    body.put("peers", byPeer);
                    try {
                        return HttpResponse.ok(json.writeValueAsBytes(body))
                                .contentType(MediaType.APPLICATION_JSON_TYPE);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .exceptionally(
                        e -> Responses.storeUnavailable("Store unavailable", "the region's store did not answer"));
    }
}
