package dev.sluice.api;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The percent-encoding of a request target (RFC 3986 2.1): every {@code %} is followed by two hex
 * digits, and each run of escapes is UTF-8. The framework decodes a run that is not UTF-8 to
 * U+FFFD, so {@code /v1/limits/api/%FF} and {@code /v1/limits/api/%FE} were both the subject
 * {@code "\uFFFD"}: a reset of one reset the other.
 */
public final class RequestTarget {
    private RequestTarget() {}

    /**
     * Where in {@code raw} (a raw path or query) an escape is malformed or not UTF-8, or a byte
     * above 0x7E was sent unescaped, or -1.
     */
    static int badEscapeAt(String raw) {
        if (raw == null) {
            return -1;
        }
        byte[] run = new byte[raw.length() / 3 + 1];
        for (int i = 0; i < raw.length(); ) {
            if (raw.charAt(i) > 0x7e) {
                return i; // a byte the client did not escape: read as Latin-1, 0xFF became 'ÿ'
            }
            if (raw.charAt(i) != '%') {
                i++;
                continue;
            }
            int start = i;
            int n = 0;
            while (i < raw.length() && raw.charAt(i) == '%') {
                int high = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int low = high >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (low < 0) {
                    return i;
                }
                run[n++] = (byte) (high << 4 | low);
                i += 3;
            }
            try {
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(run, 0, n));
            } catch (CharacterCodingException e) {
                return start;
            }
        }
        return -1;
    }

    /**
     * The value of the path variable {@code name} of the request's route, percent-decoded as RFC
     * 3986 says — a {@code +} is a plus — or {@code decoded} (the framework's) when the route has
     * no such variable. The framework decodes a path as a form, a {@code +} as a space: {@code
     * /v1/limits/api/a+b} was the subject {@code "a b"}, the subject of {@code a%20b}.
     */
    public static String pathVariable(io.micronaut.http.HttpRequest<?> request, String name, String decoded) {
        if (request.getUri().getRawPath().indexOf('+') < 0) {
            return decoded; // the framework's decoding differs from RFC 3986 only in '+'
        }
        String template = template(request);
        if (template == null) {
            return decoded;
        }
        String[] parts = template.split("/", -1);
        String[] raw = request.getUri().getRawPath().split("/", -1);
        if (parts.length != raw.length) {
            return decoded;
        }
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].equals("{" + name + "}")) {
                return decode(raw[i]);
            }
        }
        return decoded;
    }

    /** The path template of the request's route, its variables' patterns left out ({@code {key:[^/]+}} as {@code {key}}), or null. */
    static String template(io.micronaut.http.HttpRequest<?> request) {
        return io.micronaut.web.router.RouteAttributes.getRouteInfo(request)
                .filter(r -> r instanceof io.micronaut.web.router.UriRouteInfo<?, ?>)
                .map(r -> ((io.micronaut.web.router.UriRouteInfo<?, ?>) r)
                        .getUriMatchTemplate()
                        .toPathString()
                        .replaceAll("\\{([^}:]+):[^}]*}", "{$1}"))
                .orElse(null);
    }

    /** {@code raw} percent-decoded (its escapes UTF-8, {@link #badEscapeAt}), every other character as it is. */
    static String decode(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length()) {
                bytes.write(Character.digit(raw.charAt(i + 1), 16) << 4 | Character.digit(raw.charAt(i + 2), 16));
                i += 2;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * The name of the variable of {@code template} (such as {@code /v1/limits/{policy}/{key}}) whose
     * path segment holds {@code index} of {@code rawPath}, or {@code "path"}.
     */
    static String pathField(String rawPath, int index, String template) {
        int segment = 0;
        for (int i = 0; i < index; i++) {
            if (rawPath.charAt(i) == '/') {
                segment++;
            }
        }
        if (template != null) {
            String[] parts = template.split("/", -1);
            if (segment < parts.length && parts[segment].startsWith("{") && parts[segment].endsWith("}")) {
                String name = parts[segment].substring(1, parts[segment].length() - 1);
                int colon = name.indexOf(':');
                return colon >= 0 ? name.substring(0, colon) : name;
            }
        }
        return "path";
    }

    /** The name of the query parameter holding {@code index} of {@code rawQuery}, as sent. */
    static String queryField(String rawQuery, int index) {
        int start = rawQuery.lastIndexOf('&', index) + 1;
        int equals = rawQuery.indexOf('=', start);
        if (equals < 0 || equals > index) {
            return "query";
        }
        return rawQuery.substring(start, equals);
    }

    /** The escapes from {@code index} (where one begins), to show in a problem: at most four. */
    static String shown(String raw, int index) {
        if (raw.charAt(index) != '%') {
            return String.format("\\x%02X", (int) raw.charAt(index) & 0xff);
        }
        int end = index;
        while (end < raw.length() && raw.charAt(end) == '%' && end - index < 12) {
            end = Math.min(raw.length(), end + 3);
        }
        return raw.substring(index, end);
    }
}
