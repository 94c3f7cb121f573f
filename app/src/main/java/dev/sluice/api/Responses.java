package dev.sluice.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.sluice.core.Decision;
import dev.sluice.limiter.Verdict;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpHeaders;
import io.micronaut.http.MutableHttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes decisions and problems as the v1 contract ({@code shared/contract/http-api.md}) defines
 * them: the same body fields and headers on 200 and 429, problem+json (RFC 9457) for every error.
 */
public final class Responses {
    /** RFC 9457 problem documents. */
    public static final MediaType PROBLEM_JSON = MediaType.of("application/problem+json");

    static final String QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded";
    static final String REDUCED_CAPACITY = "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity";
    static final String INVALID_REQUEST = "urn:sluice:problem:invalid-request";
    static final String UNKNOWN_POLICY = "urn:sluice:problem:unknown-policy";

    private static final JsonFactory JSON = new JsonFactory();

    private Responses() {}

    /** 200 or 429 (503 when the store failed and the policy fails closed) with every rate limit header. */
    public static MutableHttpResponse<byte[]> decision(Verdict verdict) {
        return write(verdict, false);
    }

    /**
     * The answer to a look ({@code GET /v1/limits/...}): 200 with the same fields and headers as a
     * decision, {@code allowed} telling whether a cost-1 check would pass now; 503 when the store
     * failed and the policy fails closed.
     */
    public static MutableHttpResponse<byte[]> look(Verdict verdict) {
        return write(verdict, true);
    }

    private static MutableHttpResponse<byte[]> write(Verdict verdict, boolean look) {
        Decision d = verdict.decision();
        HttpStatus status = verdict.unavailable()
                ? HttpStatus.SERVICE_UNAVAILABLE
                : d.allowed() || look ? HttpStatus.OK : HttpStatus.TOO_MANY_REQUESTS;
        long resetSeconds = d.resetSeconds();
        long retryAfter = d.retryAfterSeconds();
        // Written by hand: the only free text is the key (JSON-escaped here); policy names are
        // [a-z0-9._-] and the rest are numbers and fixed words.
        StringBuilder json = new StringBuilder(status == HttpStatus.OK ? 160 : 420).append('{');
        if (status != HttpStatus.OK) {
            boolean closed = verdict.unavailable();
            String name = verdict.policy().name();
            json.append("\"type\":\"")
                    .append(closed ? REDUCED_CAPACITY : QUOTA_EXCEEDED)
                    .append("\",\"title\":\"");
            json.append(closed ? "Rate limit store unavailable" : "Too Many Requests");
            json.append("\",\"status\":").append(status.getCode()).append(",\"detail\":\"");
            if (closed) {
                json.append("The shared rate limit store cannot be reached and policy '")
                        .append(name)
                        .append("' fails closed; retry after ")
                        .append(retryAfter)
                        .append(" s.\",");
            } else {
                json.append("Policy '")
                        .append(name)
                        .append("' allows no more for this key now; retry after ")
                        .append(retryAfter)
                        .append(" s.\",\"violated-policies\":[\"")
                        .append(name)
                        .append("\"],");
            }
        }
        json.append("\"allowed\":").append(d.allowed());
        json.append(",\"policy\":\"").append(verdict.policy().name());
        json.append("\",\"key\":\"").append(JsonStringEncoder.getInstance().quoteAsString(verdict.key()));
        json.append("\",\"limit\":").append(d.limit());
        json.append(",\"remaining\":").append(d.remaining());
        json.append(",\"resetSeconds\":").append(resetSeconds);
        json.append(",\"retryAfterSeconds\":").append(retryAfter);
        json.append(",\"degraded\":").append(verdict.degraded()).append('}');
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        MutableHttpResponse<byte[]> response = HttpResponse.<byte[]>status(status)
                .contentType(status == HttpStatus.OK ? MediaType.APPLICATION_JSON_TYPE : PROBLEM_JSON)
                .body(body);
        MutableHttpHeaders h = response.getHeaders();
        String limit = Long.toString(d.limit());
        String remaining = Long.toString(d.remaining());
        h.add("RateLimit-Limit", limit);
        h.add("RateLimit-Remaining", remaining);
        h.add("RateLimit-Reset", Long.toString(resetSeconds));
        h.add("X-RateLimit-Limit", limit);
        h.add("X-RateLimit-Remaining", remaining);
        h.add("X-RateLimit-Reset", Long.toString(Math.ceilDiv(d.nowMs() + d.resetMs(), 1000L)));
        h.add("RateLimit-Policy", verdict.policy().policyHeader());
        h.add("RateLimit", "\"" + verdict.policy().name() + "\";r=" + remaining + ";t=" + resetSeconds);
        if (status != HttpStatus.OK) {
            h.add("Retry-After", Long.toString(retryAfter + jitter(retryAfter)));
        }
        return response;
    }

    /** Up to 10% of {@code seconds}, whole seconds, uniformly: spreads denied clients' retries. */
    static long jitter(long seconds) {
        return ThreadLocalRandom.current().nextLong(seconds / 10 + 1);
    }

    /** 400 or 404 naming the invalid fields. */
    public static MutableHttpResponse<byte[]> badRequest(BadRequestException e) {
        boolean unknownPolicy = e.status() == 404;
        List<InvalidParam> params = e.params();
        return problem(
                HttpStatus.valueOf(e.status()),
                unknownPolicy ? UNKNOWN_POLICY : INVALID_REQUEST,
                unknownPolicy ? "Unknown policy" : "Invalid request",
                e.getMessage(),
                params);
    }

    /** A problem+json response. */
    public static MutableHttpResponse<byte[]> problem(
            HttpStatus status, String type, String title, String detail, List<InvalidParam> params) {
        byte[] body = json(g -> {
            g.writeStringField("type", type);
            g.writeStringField("title", title);
            g.writeNumberField("status", status.getCode());
            if (detail != null) {
                g.writeStringField("detail", detail);
            }
            if (!params.isEmpty()) {
                g.writeArrayFieldStart("invalid-params");
                for (InvalidParam p : params) {
                    g.writeStartObject();
                    g.writeStringField("name", p.name());
                    g.writeStringField("reason", p.reason());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
        });
        return HttpResponse.<byte[]>status(status).contentType(PROBLEM_JSON).body(body);
    }

    @FunctionalInterface
    interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    static byte[] json(Fields fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
