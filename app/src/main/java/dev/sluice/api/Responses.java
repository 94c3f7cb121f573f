package dev.sluice.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.sluice.config.Policy;
import dev.sluice.core.Decision;
import dev.sluice.limiter.Verdict;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpHeaders;
import io.micronaut.http.MutableHttpResponse;
import io.netty.util.AsciiString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes decisions and problems as the v1 contract ({@code shared/contract/http-api.md}) defines
 * them: the same body fields and headers on 200 and 429, problem+json (RFC 9457) for every error.
 */
public final class Responses {
    /** RFC 9457 problem documents. */
    public static final MediaType PROBLEM_JSON = MediaType.of("application/problem+json");

    static final String QUOTA_EXCEEDED = "https://iana.org/assignments/http-problem-types#quota-exceeded";
    public static final String REDUCED_CAPACITY =
            "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity";
    static final String INVALID_REQUEST = "urn:sluice:problem:invalid-request";
    public static final String UNKNOWN_POLICY = "urn:sluice:problem:unknown-policy";
    static final String UNKNOWN_LEASE = "urn:sluice:problem:unknown-lease";

    private static final JsonFactory JSON = new JsonFactory();

    private Responses() {}

    /** 200 or 429 (503 when the store failed and the policy fails closed) with every rate limit header. */
    public static MutableHttpResponse<byte[]> decision(Verdict verdict) {
        return write(verdict, false, null);
    }

    /** As {@link #decision(Verdict)}, its {@code Retry-After} spread over the subject's waiters. */
    public static MutableHttpResponse<byte[]> decision(Verdict verdict, RetrySpread spread) {
        return write(verdict, false, spread);
    }

    /**
     * The answer to a look ({@code GET /v1/limits/...}): 200 with the same fields and headers as a
     * decision, {@code allowed} telling whether a cost-1 check would pass now; 503 when the store
     * failed and the policy fails closed.
     */
    public static MutableHttpResponse<byte[]> look(Verdict verdict) {
        return write(verdict, true, null);
    }

    private static MutableHttpResponse<byte[]> write(Verdict verdict, boolean look, RetrySpread spread) {
        Decision d = verdict.decision();
        HttpStatus status = verdict.unavailable()
                ? HttpStatus.SERVICE_UNAVAILABLE
                : d.allowed() || look ? HttpStatus.OK : HttpStatus.TOO_MANY_REQUESTS;
        long retryAfter = d.retryAfterSeconds();
        // Written by hand: the only free text is the key (JSON-escaped here); policy and tier names
        // are [a-z0-9._-] and the rest are numbers and fixed words.
        StringBuilder json = new StringBuilder(status == HttpStatus.OK ? 160 : 420).append('{');
        if (status != HttpStatus.OK) {
            problem(json, status, List.of(verdict), retryAfter);
        }
        fields(json, verdict);
        json.append('}');
        MutableHttpResponse<byte[]> response = respond(status, json);
        headers(response, verdict, status, spread);
        MutableHttpHeaders h = response.getHeaders();
        h.add(RATELIMIT_POLICY, ascii(policyItem(verdict)));
        h.add(RATELIMIT, ascii(item(new StringBuilder(48), verdict).toString()));
        return response;
    }

    /**
     * The answer to several checks in one request: 200 when every check passed, 429 when any was
     * denied (nothing is consumed then: the others were refunded), 503 when the store failed and a
     * policy fails closed. {@code RateLimit-Policy} and {@code RateLimit} list every check; the
     * {@code RateLimit-*} trio, {@code X-RateLimit-*} and {@code Retry-After} are the most restrictive
     * check's: the denied one that must wait longest, or, when all passed, the one with least left.
     */
    public static MutableHttpResponse<byte[]> multi(List<Verdict> verdicts) {
        return multi(verdicts, null);
    }

    /** As {@link #multi(List)}, the strictest check's {@code Retry-After} spread over its subject's waiters. */
    public static MutableHttpResponse<byte[]> multi(List<Verdict> verdicts, RetrySpread spread) {
        boolean unavailable = false;
        boolean allowed = true;
        for (Verdict v : verdicts) {
            unavailable |= v.unavailable();
            allowed &= v.decision().allowed() && !v.unavailable();
        }
        HttpStatus status =
                unavailable ? HttpStatus.SERVICE_UNAVAILABLE : allowed ? HttpStatus.OK : HttpStatus.TOO_MANY_REQUESTS;
        Verdict strictest = strictest(verdicts);
        StringBuilder json = new StringBuilder(256 + verdicts.size() * 256).append('{');
        if (status != HttpStatus.OK) {
            List<Verdict> culprits = verdicts.stream()
                    .filter(v -> v.unavailable() || !v.decision().allowed())
                    .toList();
            problem(json, status, culprits, strictest.decision().retryAfterSeconds());
        }
        json.append("\"allowed\":").append(allowed).append(",\"checks\":[");
        boolean degraded = false;
        for (int i = 0; i < verdicts.size(); i++) {
            Verdict v = verdicts.get(i);
            degraded |= v.degraded();
            json.append(i == 0 ? "{" : ",{");
            fields(json, v);
            json.append(",\"refunded\":").append(v.refunded()).append('}');
        }
        json.append("],\"degraded\":").append(degraded).append('}');
        MutableHttpResponse<byte[]> response = respond(status, json);
        headers(response, strictest, status, spread);
        // sized for a plan's three policies, so that neither grows while it is written
        StringBuilder policies = new StringBuilder(64 * verdicts.size());
        StringBuilder items = new StringBuilder(48 * verdicts.size());
        for (Verdict v : verdicts) {
            policies.append(policies.isEmpty() ? "" : ", ").append(policyItem(v));
            if (!items.isEmpty()) {
                items.append(", ");
            }
            item(items, v);
        }
        MutableHttpHeaders h = response.getHeaders();
        h.add(RATELIMIT_POLICY, ascii(policies.toString()));
        h.add(RATELIMIT, ascii(items.toString()));
        return response;
    }

    /** The check that restricts most: denied with the longest wait, else the least remaining. */
    static Verdict strictest(List<Verdict> verdicts) {
        Verdict worst = null;
        for (Verdict v : verdicts) {
            if (worst == null || restricts(v, worst)) {
                worst = v;
            }
        }
        return worst;
    }

    private static boolean restricts(Verdict a, Verdict b) {
        boolean aDenied = a.unavailable() || !a.decision().allowed();
        boolean bDenied = b.unavailable() || !b.decision().allowed();
        if (aDenied != bDenied) {
            return aDenied;
        }
        if (aDenied) {
            return a.decision().retryAfterMs() > b.decision().retryAfterMs();
        }
        if (remaining(a) != remaining(b)) {
            return remaining(a) < remaining(b);
        }
        return a.decision().resetMs() > b.decision().resetMs();
    }

    /**
     * What is left after the decision; for a refunded check whose units were taken (and then given
     * back), with its units back. A check that took nothing (a denied plan check's other limits,
     * fail-open) reports its decision's remaining as it is.
     */
    private static long remaining(Verdict v) {
        Decision d = v.decision();
        return v.refunded() && v.source() != Verdict.Source.NONE
                ? Math.min(d.limit(), d.remaining() + v.cost())
                : d.remaining();
    }

    private static void problem(StringBuilder json, HttpStatus status, List<Verdict> culprits, long retryAfter) {
        boolean closed = status == HttpStatus.SERVICE_UNAVAILABLE;
        json.append("\"type\":\"")
                .append(closed ? REDUCED_CAPACITY : QUOTA_EXCEEDED)
                .append("\",\"title\":\"");
        json.append(closed ? "Rate limit store unavailable" : "Too Many Requests");
        json.append("\",\"status\":").append(status.getCode()).append(",\"detail\":\"");
        StringBuilder names = new StringBuilder();
        StringBuilder list = new StringBuilder();
        for (Verdict v : culprits) {
            if (closed && !v.unavailable()) {
                continue;
            }
            String name = v.policy().name();
            names.append(names.isEmpty() ? "'" : ", '").append(name).append('\'');
            list.append(list.isEmpty() ? "\"" : ",\"").append(name).append('"');
        }
        boolean several = culprits.size() > 1;
        if (closed) {
            json.append("The shared rate limit store cannot be reached and ")
                    .append(several ? "policies " : "policy ")
                    .append(names)
                    .append(several ? " fail" : " fails")
                    .append(" closed; retry after ")
                    .append(retryAfter)
                    .append(" s.\",");
        } else {
            json.append(several ? "Policies " : "Policy ")
                    .append(names)
                    .append(several ? " allow" : " allows")
                    .append(" no more for this key now; retry after ")
                    .append(retryAfter)
                    .append(" s.\",\"violated-policies\":[")
                    .append(list)
                    .append("],");
        }
    }

    private static void fields(StringBuilder json, Verdict verdict) {
        Decision d = verdict.decision();
        json.append("\"allowed\":").append(d.allowed());
        json.append(",\"policy\":\"").append(verdict.policy().name());
        json.append("\",\"key\":\"").append(JsonStringEncoder.getInstance().quoteAsString(verdict.key()));
        json.append('"');
        if (verdict.tier() != null) {
            json.append(",\"tier\":\"").append(verdict.tier()).append('"');
        }
        json.append(",\"limit\":").append(d.limit());
        json.append(",\"remaining\":").append(remaining(verdict));
        json.append(",\"resetSeconds\":").append(d.resetSeconds());
        json.append(",\"retryAfterSeconds\":").append(d.retryAfterSeconds());
        json.append(",\"degraded\":").append(verdict.degraded());
        if (d.lease() != null && !verdict.refunded()) {
            json.append(",\"lease\":{\"id\":\"")
                    .append(LeaseIds.encode(verdict.subject(), d.lease()))
                    .append("\",\"expiresInSeconds\":")
                    .append(Math.ceilDiv(verdict.limit().periodMs(), 1000L))
                    .append('}');
        }
    }

    private static MutableHttpResponse<byte[]> respond(HttpStatus status, StringBuilder json) {
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        return HttpResponse.<byte[]>status(status)
                .contentType(status == HttpStatus.OK ? MediaType.APPLICATION_JSON_TYPE : PROBLEM_JSON)
                .body(body);
    }

    /*
     * Header names and values as Netty AsciiStrings (bytes already): the HTTP encoder copies those
     * into the response buffer whole, where it writes any other CharSequence one byte at a time
     * into the direct buffer (measured ~4 % of a check's CPU for the rate limit headers).
     */
    private static final AsciiString RATELIMIT_POLICY = AsciiString.cached("RateLimit-Policy");
    private static final AsciiString RATELIMIT = AsciiString.cached("RateLimit");
    private static final AsciiString RATELIMIT_LIMIT = AsciiString.cached("RateLimit-Limit");
    private static final AsciiString RATELIMIT_REMAINING = AsciiString.cached("RateLimit-Remaining");
    private static final AsciiString RATELIMIT_RESET = AsciiString.cached("RateLimit-Reset");
    private static final AsciiString X_RATELIMIT_LIMIT = AsciiString.cached("X-RateLimit-Limit");
    private static final AsciiString X_RATELIMIT_REMAINING = AsciiString.cached("X-RateLimit-Remaining");
    private static final AsciiString X_RATELIMIT_RESET = AsciiString.cached("X-RateLimit-Reset");
    private static final AsciiString RETRY_AFTER = AsciiString.cached("Retry-After");

    /** A header value of ASCII text (policy names are [a-z0-9._-], the rest numbers and fixed words). */
    private static AsciiString ascii(String value) {
        return new AsciiString(value.getBytes(StandardCharsets.ISO_8859_1), false);
    }

    private static AsciiString ascii(long value) {
        return ascii(Long.toString(value));
    }

    private static void headers(
            MutableHttpResponse<byte[]> response, Verdict verdict, HttpStatus status, RetrySpread spread) {
        Decision d = verdict.decision();
        MutableHttpHeaders h = response.getHeaders();
        AsciiString limit = ascii(d.limit());
        AsciiString remaining = ascii(remaining(verdict));
        h.add(RATELIMIT_LIMIT, limit);
        h.add(RATELIMIT_REMAINING, remaining);
        h.add(RATELIMIT_RESET, ascii(d.resetSeconds()));
        h.add(X_RATELIMIT_LIMIT, limit);
        h.add(X_RATELIMIT_REMAINING, remaining);
        h.add(X_RATELIMIT_RESET, ascii(Math.ceilDiv(d.nowMs() + d.resetMs(), 1000L)));
        if (status != HttpStatus.OK) {
            long retryAfter = d.retryAfterSeconds();
            h.add(
                    RETRY_AFTER,
                    ascii(
                            spread != null && !verdict.unavailable()
                                    ? spread.seconds(verdict)
                                    : retryAfter + RetrySpread.jitter(retryAfter)));
        }
    }

    /**
     * The IETF {@code RateLimit-Policy} item of one check: the quota that decided it (a tier's, or
     * for a reserving policy the reserve's or the pool's), precomputed for the usual cases.
     */
    private static String policyItem(Verdict v) {
        if (v.limit() == null || v.limit().equals(v.policy().limitFor(v.tier()))) {
            return v.policy().headerFor(v.tier());
        }
        return Policy.header(v.policy().name(), v.limit());
    }

    /** The IETF {@code RateLimit} item of one check: its name, what remains, when it is whole again. */
    private static StringBuilder item(StringBuilder out, Verdict v) {
        return out.append('"')
                .append(v.policy().name())
                .append("\";r=")
                .append(remaining(v))
                .append(";t=")
                .append(v.decision().resetSeconds());
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

    /** 503 {@code temporary-reduced-capacity}: the store did not answer; nothing was done. */
    public static MutableHttpResponse<byte[]> storeUnavailable(String title, String detail) {
        return problem(HttpStatus.SERVICE_UNAVAILABLE, REDUCED_CAPACITY, title, detail, List.of());
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
