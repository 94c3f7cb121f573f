package dev.sluice.api;

import io.micronaut.context.annotation.Primary;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import io.micronaut.http.server.netty.NettyHttpRequest;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import jakarta.inject.Singleton;
import java.util.List;

/**
 * Turns the framework's own errors (no such route, method not allowed, a body that cannot be read)
 * into problem+json too, so that every error a client sees has one shape. A request line or header
 * block too long for the server is told so as 414 or 431 (the contract), not as Micronaut's 413.
 */
@Singleton
@Primary
public class ProblemErrorResponseProcessor implements ErrorResponseProcessor<byte[]> {

    @Override
    public MutableHttpResponse<byte[]> processResponse(ErrorContext context, MutableHttpResponse<?> base) {
        HttpStatus status = base.getStatus();
        String detail =
                context.getErrors().stream().map(Error::getMessage).findFirst().orElse(status.getReason());
        List<InvalidParam> params = List.of();
        if (status.getCode() >= 500) {
            detail = "Internal error";
        } else if (status == HttpStatus.REQUEST_ENTITY_TOO_LARGE) {
            // Netty's decoder refuses a request line or header block past its limit before any
            // route runs; Micronaut answers both 413. They are 414 and 431 (RFC 9110 15.5.15, RFC 6585 5).
            Throwable refused = context.getRequest() instanceof NettyHttpRequest<?> netty
                    ? netty.getNativeRequest().decoderResult().cause()
                    : null;
            if (refused instanceof TooLongHttpLineException) {
                status = HttpStatus.REQUEST_URI_TOO_LONG;
                detail = "The request line is longer than the server accepts";
                params = List.of(new InvalidParam("uri", "is too long"));
            } else if (refused instanceof TooLongHttpHeaderException) {
                status = HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
                detail = "The request's headers are larger than the server accepts";
                params = List.of(new InvalidParam("headers", "are too large"));
            } else {
                params = List.of(new InvalidParam("body", "is too large"));
            }
        } else if (status == HttpStatus.BAD_REQUEST
                && detail != null
                && detail.startsWith("Error decoding request body")) {
            // behind a function runtime: an empty body, or one marked base64 that is not; answered
            // as the server answers a bad body (the same problem type and title)
            return Responses.badRequest(BadRequestException.of(
                    "body",
                    detail.endsWith("Empty body")
                            ? CheckRequestParser.BODY_REQUIRED
                            : "cannot be decoded ("
                                    + detail.substring("Error decoding request body".length())
                                            .replaceFirst("^:\\s*", "")
                                    + ")"));
        }
        MutableHttpResponse<byte[]> problem =
                Responses.problem(status, "about:blank", status.getReason(), detail, params);
        base.getHeaders().forEach((name, values) -> {
            if (!name.equalsIgnoreCase("Content-Type") && !name.equalsIgnoreCase("Content-Length")) {
                values.forEach(v -> problem.getHeaders().add(name, v));
            }
        });
        return problem;
    }
}
