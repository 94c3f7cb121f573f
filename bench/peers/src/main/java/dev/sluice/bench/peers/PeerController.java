package dev.sluice.bench.peers;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import java.util.concurrent.CompletionStage;

/** {@code POST /v1/check} decided by the configured peer; {@code /v1/ping} answers at once. */
@Controller("/v1")
@Requires(property = "peer", notEquals = "noop")
class PeerController {
    private final Peer peer;

    PeerController(Peer peer) {
        this.peer = peer;
    }

    @Post(uri = "/check", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    CompletionStage<HttpResponse<String>> check(@Body CheckRequest request) {
        return peer.check(request.key()).thenApply(r -> {
            String body = "{\"allowed\":" + r.allowed() + ",\"remaining\":" + r.remaining() + "}";
            if (r.allowed()) {
                return HttpResponse.ok(body).header(peer.remainingHeader(), Long.toString(r.remaining()));
            }
            return HttpResponse.<String>status(HttpStatus.TOO_MANY_REQUESTS)
                    .header(peer.remainingHeader(), Long.toString(r.remaining()))
                    .header("Retry-After", Long.toString(Math.max(1, r.retryAfterSeconds())))
                    .body(body);
        });
    }

    @Post(uri = "/ping", produces = MediaType.APPLICATION_JSON)
    String ping() {
        return "{}";
    }

    @Get(uri = "/ping", produces = MediaType.APPLICATION_JSON)
    String pingGet() {
        return "{}";
    }
}
