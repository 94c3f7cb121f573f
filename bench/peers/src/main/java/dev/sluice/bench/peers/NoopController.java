package dev.sluice.bench.peers;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;

/** The no-op service: parses the check's body as the peers do and admits without deciding. */
@Controller("/v1")
@Requires(property = "peer", value = "noop")
class NoopController {
    @Post(uri = "/check", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    String check(@Body CheckRequest request) {
        return "{\"allowed\":true}";
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
