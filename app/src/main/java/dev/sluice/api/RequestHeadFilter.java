package dev.sluice.api;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.server.netty.NettyHttpRequest;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a request's head must say before its body is read, on every route:
 *
 * <ul>
 *   <li>A method in upper case: methods are case-sensitive (RFC 9110 9.1), and {@code post} is no
 *       POST.
 *   <li>HTTP/1.x on an HTTP/1 connection. Netty takes any {@code HTTP/x.y} in a
 *       request line and the framework then answered it as HTTP/1.1 (echoing the version); a
 *       version this server does not speak is refused with 400 naming it (RFC 9112 2.3 allows 505;
 *       a 4xx keeps "bad input never yields a 5xx").
 *   <li>A body in a content coding the server decodes: {@code gzip} or {@code deflate} (one, as
 *       Netty's decompressor takes them), or none. Any other — {@code br}, {@code zstd}, a list of
 *       codings — is answered 415 problem+json with {@code Accept-Encoding: gzip, deflate} (RFC 9110
 *       15.5.16), instead of the framework reading the coded bytes as if they were JSON. A body that
 *       is not what its coding says is a 400 ({@link DecompressionHandler}).
 *   <li>A request target whose percent-encoding is UTF-8: {@code %FF} in a path variable or a
 *       query parameter is a 400 naming it, where the framework decoded it to U+FFFD and acted on
 *       that ({@link RequestTarget}).
 * </ul>
 *
 * The direct check path claims only HTTP/1.x requests without a coded body, so every other one
 * comes here.
 */
@ServerFilter("/**")
public class RequestHeadFilter {
    static final Set<String> DECODED = Set.of("identity", "gzip", "x-gzip", "deflate", "x-deflate");

    @RequestFilter
    @Nullable
    public HttpResponse<?> head(HttpRequest<?> request) {
        if (request instanceof NettyHttpRequest<?> netty) {
            io.netty.handler.codec.http.HttpVersion version =
                    netty.getNativeRequest().protocolVersion();
            if (!spoken(version)) {
                return Responses.badRequest(BadRequestException.of(
                        "HTTP-version", "must be HTTP/1.x (was '" + version.text() + "'); nothing was decided"));
            }
            String method = netty.getNativeRequest().method().name();
            if (!method.equals(method.toUpperCase(Locale.ROOT))) {
                // the framework took "post" for POST; methods are case-sensitive (RFC 9110 9.1)
                return Responses.badRequest(BadRequestException.of(
                        "method",
                        "is case-sensitive: must be upper case, as GET or POST (was '"
                                + CheckRequestParser.printable(method) + "'); nothing was decided"));
            }
        }
        HttpResponse<?> target = target(request);
        if (target != null) {
            return target;
        }
        List<String> values = request.getHeaders().getAll(HttpHeaders.CONTENT_ENCODING);
        if (values.isEmpty()) {
            return null;
        }
        String coding = values.size() == 1 ? values.get(0).trim().toLowerCase(Locale.ROOT) : "";
        if (DECODED.contains(coding)) {
            return null;
        }
        return Responses.problem(
                        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                        "urn:sluice:problem:unsupported-content-encoding",
                        "Unsupported Content-Encoding",
                        "a body is read as it is, or in one of gzip, deflate (was '" + String.join(", ", values)
                                + "'); nothing was decided",
                        List.of(new InvalidParam("Content-Encoding", "must be gzip, deflate or none")))
                .header(HttpHeaders.ACCEPT_ENCODING, "gzip, deflate");
    }

    /**
     * A 400 naming the path variable or query parameter whose percent-encoding is malformed or
     * not UTF-8 ({@link RequestTarget}), or null.
     */
    @Nullable
    private static HttpResponse<?> target(HttpRequest<?> request) {
        java.net.URI uri = request.getUri();
        String path = uri.getRawPath();
        // the admin API's parameters go to PostgreSQL; /admin/limits/{policy}/{key} resets a subject
        // in the store, whose keys follow /v1's rules
        if (path.startsWith("/admin/") && !path.startsWith("/admin/limits/")) {
            HttpResponse<?> parameter = adminParameters(request);
            if (parameter != null) {
                return parameter;
            }
        }
        int bad = RequestTarget.badEscapeAt(path);
        String field;
        String raw;
        if (bad >= 0) {
            raw = path;
            field = RequestTarget.pathField(path, bad, RequestTarget.template(request));
        } else {
            raw = uri.getRawQuery();
            bad = RequestTarget.badEscapeAt(raw);
            if (bad < 0) {
                return null;
            }
            field = RequestTarget.queryField(raw, bad);
        }
        return Responses.badRequest(BadRequestException.of(
                field,
                "must be percent-encoded UTF-8 ('" + RequestTarget.shown(raw, bad) + "' is not); nothing was decided"));
    }

    /** The longest path variable or query parameter the admin API takes (ids, plan names, keys, dates). */
    static final int MAX_ADMIN_PARAMETER = 256;

    /**
     * A 400 naming the admin API's path variable or query parameter that holds a control character
     * (NUL among them) or is longer than {@link #MAX_ADMIN_PARAMETER}, or null: refused here, before
     * any statement reaches PostgreSQL (which refused a NUL only after being asked, and looked up a
     * 3,000-character id).
     */
    @Nullable
    private static HttpResponse<?> adminParameters(HttpRequest<?> request) {
        java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
        io.micronaut.web.router.RouteAttributes.getRouteMatch(request)
                .filter(m -> m instanceof io.micronaut.web.router.UriRouteMatch<?, ?>)
                .ifPresent(m -> ((io.micronaut.web.router.UriRouteMatch<?, ?>) m)
                        .getVariableValues()
                        .forEach((name, value) -> values.put(name, String.valueOf(value))));
        request.getParameters().forEach((name, list) -> list.forEach(v -> values.putIfAbsent(name, v)));
        for (java.util.Map.Entry<String, String> e : values.entrySet()) {
            String v = e.getValue();
            String reason = v.length() > MAX_ADMIN_PARAMETER
                    ? "must be at most " + MAX_ADMIN_PARAMETER + " characters (was " + v.length() + ")"
                    : v.chars().anyMatch(c -> c < 0x20 || c == 0x7f)
                            ? "must hold no control character such as NUL (was '" + CheckRequestParser.printable(v)
                                    + "')"
                            : null;
            if (reason != null) {
                return Responses.badRequest(BadRequestException.of(e.getKey(), reason + "; nothing was done"));
            }
        }
        return null;
    }

    /**
     * Whether this server speaks {@code version}: HTTP/1.x (its HTTP/1 codec; a later 1.x minor
     * version is answered as 1.1, RFC 9112 2.3). Another major version in an HTTP/1 request line
     * is not one.
     */
    static boolean spoken(io.netty.handler.codec.http.HttpVersion version) {
        return version.majorVersion() == 1 && "HTTP".equals(version.protocolName());
    }
}
