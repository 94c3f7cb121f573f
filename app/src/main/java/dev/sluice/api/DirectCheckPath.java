package dev.sluice.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.body.AvailableByteBody;
import io.micronaut.http.body.CloseableByteBody;
import io.micronaut.http.netty.NettyMutableHttpResponse;
import io.micronaut.http.netty.body.NettyByteBodyFactory;
import io.micronaut.http.server.netty.handler.OutboundAccess;
import io.micronaut.http.server.netty.handler.RequestHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * {@code POST /v1/check} answered straight from the server's request handler, under Micronaut's own
 * HTTP/1.1 handling (keep-alive, pipelining order, body limits, compression) but past its routing,
 * filter chain and response encoding, which cost a check about as much CPU as the decision itself
 * (docs/benchmarks.md). Everything else, and every check this path does not claim, goes to the
 * framework's handler unchanged ({@code next}).
 *
 * <p>What the framework does for a check, this path does the same way, so that the two cannot be told
 * apart from outside: the same {@link Checks} parses, decides and writes the answer; a service token
 * ({@code Authorization}) is checked by the same {@link dev.sluice.admin.ServiceAuthFilter}, and a
 * request without a valid one is handed to the framework, which answers 401; the same {@code
 * http.server.requests} timer is recorded; the {@code date} header is written. {@link
 * DirectPathInstaller} installs it only when no other filter applies to the route.
 */
final class DirectCheckPath implements RequestHandler {
    /** Set on a connection once a request on it asked to close it ({@code Connection: close}). */
    private static final AttributeKey<Boolean> CLOSING = AttributeKey.valueOf(DirectCheckPath.class, "closing");

    /** Marks this path's own responses, so that their completion is not reported to {@code next}. */
    private static final Object DIRECT = new Object();

    private static final AsciiString X_API_KEY = AsciiString.cached("X-Api-Key");
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final RequestHandler next;
    private final Checks checks;
    private final Predicate<String> authorized;

    @Nullable
    private final Timers timers;

    private final LongAdder served;
    private final long maxBody;

    DirectCheckPath(
            RequestHandler next,
            Checks checks,
            Predicate<String> authorized,
            @Nullable Timers timers,
            LongAdder served,
            long maxBody) {
        this.maxBody = maxBody;
        this.next = next;
        this.checks = checks;
        this.authorized = authorized;
        this.timers = timers;
        this.served = served;
    }

    @Override
    public void accept(ChannelHandlerContext ctx, HttpRequest request, CloseableByteBody body, OutboundAccess out) {
        Attribute<Boolean> closing = ctx.channel().attr(CLOSING);
        if (closing.get() != null) {
            // RFC 9112 9.6: after a request that closes the connection, the server "MUST NOT process
            // any further requests received on that connection" — the framework decided them
            // (consumed) and then closed without an answer. The connection closes after the answer
            // to the closing request; these are dropped unread.
            body.close();
            return;
        }
        if (!HttpUtil.isKeepAlive(request)) {
            closing.set(Boolean.TRUE);
        }
        if (!claims(request, body)) {
            next.accept(ctx, request, body, out);
            return;
        }
        long start = System.nanoTime();
        out.attachment(DIRECT);
        served.increment();
        if (body instanceof AvailableByteBody whole) {
            byte[] bytes = whole.toByteArray(); // releases the body
            decide(ctx, request, bytes, out, start);
            return;
        }
        // the head came in one read, the body follows (as some clients write them): wait for it,
        // at most the declared length (checked in claims), on this connection's event loop
        body.buffer().whenComplete((whole, error) -> {
            if (error != null) {
                write(ctx, out, Responses.badRequest(BadRequestException.of("body", "could not be read whole")), start);
                return;
            }
            decide(ctx, request, whole.toByteArray(), out, start);
        });
    }

    private void decide(ChannelHandlerContext ctx, HttpRequest request, byte[] bytes, OutboundAccess out, long start) {
        checks.check(bytes.length == 0 ? null : bytes, request.headers().get(X_API_KEY))
                .whenComplete((response, error) -> {
                    MutableHttpResponse<byte[]> answer = error == null ? response : Checks.internalError();
                    write(ctx, out, answer, start);
                });
    }

    /**
     * A check this path answers: a POST to exactly {@code /v1/check} (a query string is ignored, as
     * the controller ignores it) whose body has arrived whole or has a declared length within the
     * server's {@code max-request-size}, with a valid service token when tokens are configured.
     * Anything else goes to the framework: a chunked or oversized body, an expectation of {@code 100
     * Continue}, a context path, an absolute URI, an {@code Accept} without JSON, a coded body
     * ({@code Content-Encoding}) or an HTTP major version other than 1 ({@link RequestHeadFilter}), an {@code Origin}
     * (the framework's CORS filter judges cross-origin requests, even with CORS off: 403), a
     * request the decoder refused (a header block or request line too long), a request the filter
     * would refuse.
     */
    private boolean claims(HttpRequest request, CloseableByteBody body) {
        if (request.method() != HttpMethod.POST || !request.decoderResult().isSuccess()) {
            return false;
        }
        if (!(body instanceof AvailableByteBody)) {
            // still arriving: only a declared length within the server's limit, no 100 Continue
            OptionalLong length = body.expectedLength();
            if (length.isEmpty()
                    || length.getAsLong() > maxBody
                    || request.headers().contains(HttpHeaderNames.EXPECT)) {
                return false;
            }
        }
        String uri = request.uri();
        if (!uri.startsWith("/v1/check") || (uri.length() > 9 && uri.charAt(9) != '?')) {
            return false;
        }
        HttpHeaders headers = request.headers();
        String accept = headers.get(HttpHeaderNames.ACCEPT);
        return !headers.contains(HttpHeaderNames.ORIGIN)
                && !headers.contains(HttpHeaderNames.CONTENT_ENCODING)
                && RequestHeadFilter.spoken(request.protocolVersion())
                && (accept == null || headers.getAll(HttpHeaderNames.ACCEPT).size() == 1)
                && acceptsJson(accept)
                && authorized.test(headers.get(HttpHeaderNames.AUTHORIZATION));
    }

    /**
     * Whether the framework would find JSON acceptable: no {@code Accept}, or one naming exactly
     * {@code application/json} or {@code * / *} (parameters ignored). The framework refuses others it
     * might be expected to take ({@code application/*}: 406), so any other is left to it, and it
     * answers 406 without consuming.
     */
    static boolean acceptsJson(@Nullable String accept) {
        if (accept == null || accept.isBlank()) {
            return true;
        }
        for (String range : accept.split(",")) {
            int semicolon = range.indexOf(';');
            String type = (semicolon < 0 ? range : range.substring(0, semicolon)).trim();
            if (type.equals("application/json") || type.equals("*/*")) {
                return true;
            }
        }
        return false;
    }

    private void write(ChannelHandlerContext ctx, OutboundAccess out, MutableHttpResponse<byte[]> answer, long start) {
        byte[] content = answer.body();
        HttpResponseStatus status = HttpResponseStatus.valueOf(answer.code());
        HttpHeaders headers;
        if (answer instanceof NettyMutableHttpResponse<?> netty) {
            headers = netty.getNettyHeaders();
        } else {
            headers = new DefaultHttpHeaders();
            answer.getHeaders().forEach((name, values) -> headers.add(name, values));
        }
        headers.set(HttpHeaderNames.DATE, date());
        headers.set(HttpHeaderNames.CONTENT_LENGTH, content == null ? 0 : content.length);
        out.write(
                new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, headers),
                new NettyByteBodyFactory(ctx.channel())
                        .adapt(content == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(content)));
        if (timers != null) {
            timers.of(status.code()).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void handleUnboundError(Throwable cause) {
        next.handleUnboundError(cause);
    }

    @Override
    public void responseWritten(Object attachment) {
        if (attachment != DIRECT) {
            next.responseWritten(attachment);
        }
    }

    @Override
    public void removed() {
        next.removed();
    }

    private static volatile CachedDate cachedDate = new CachedDate(0, "");

    private record CachedDate(long second, String text) {}

    /** The {@code date} header as the framework writes it (RFC 1123, GMT), formatted once a second. */
    static String date() {
        long second = System.currentTimeMillis() / 1000;
        CachedDate d = cachedDate;
        if (d.second() != second) {
            d = new CachedDate(second, HTTP_DATE.format(Instant.ofEpochSecond(second)));
            cachedDate = d;
        }
        return d.text();
    }

    /**
     * The framework's request timer ({@code http.server.requests}) for this route, with its tags, one
     * per status, made when the first answer with that status is timed (as the filter makes them): the
     * same meters the metrics filter records for checks it sees.
     */
    static final class Timers {
        private final MeterRegistry registry;
        private final boolean clientErrorUris;
        private final java.util.concurrent.ConcurrentHashMap<Integer, Timer> byStatus =
                new java.util.concurrent.ConcurrentHashMap<>();

        /**
         * @param clientErrorUris {@code micronaut.metrics.binders.web.client-errors-uris.enabled}: a
         *     4xx answer keeps the route as its {@code uri} (else BAD_REQUEST or UNAUTHORIZED)
         */
        Timers(MeterRegistry registry, boolean clientErrorUris) {
            this.registry = registry;
            this.clientErrorUris = clientErrorUris;
        }

        /** The {@code uri} tag as the filter gives it for this status. */
        String uri(int status) {
            if (status >= 300 && status < 400) {
                return "REDIRECTION";
            }
            if (!clientErrorUris && status >= 400 && status < 500) {
                return status == 401 ? "UNAUTHORIZED" : "BAD_REQUEST";
            }
            return status == 404 ? "NOT_FOUND" : "/v1/check";
        }

        Timer of(int status) {
            Timer t = byStatus.get(status);
            return t != null ? t : byStatus.computeIfAbsent(status, this::timer);
        }

        private Timer timer(int status) {
            return Timer.builder("http.server.requests")
                    .tags(List.of(
                            io.micrometer.core.instrument.Tag.of("exception", "none"),
                            io.micrometer.core.instrument.Tag.of("method", "POST"),
                            io.micrometer.core.instrument.Tag.of("status", Integer.toString(status)),
                            io.micrometer.core.instrument.Tag.of("uri", uri(status))))
                    .register(registry);
        }
    }
}
