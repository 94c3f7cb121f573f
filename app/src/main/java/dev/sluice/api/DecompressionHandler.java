package dev.sluice.api;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.netty.handler.codec.compression.DecompressionException;
import jakarta.inject.Singleton;

/**
 * A body whose bytes are not what its {@code Content-Encoding} says (not gzip, a broken deflate
 * stream) is the client's mistake: 400 problem+json naming the body, never the 500 the framework
 * answers for an exception it does not know. Nothing was decided: the body is read before any
 * check.
 */
@Singleton
@Produces
@Requires(classes = DecompressionException.class)
public class DecompressionHandler implements ExceptionHandler<DecompressionException, HttpResponse<?>> {
    @Override
    public HttpResponse<?> handle(HttpRequest request, DecompressionException exception) {
        // the decompressor has taken Content-Encoding off the request by now: name the codings instead
        return Responses.badRequest(BadRequestException.of(
                "body", "is not what its Content-Encoding (gzip or deflate) says: it could not be decompressed"));
    }
}
