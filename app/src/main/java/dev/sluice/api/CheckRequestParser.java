package dev.sluice.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.sluice.scope.RequestFacts;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads a check body with a streaming parser, so that every mistake is reported against the field
 * it concerns and nothing is bound by reflection. Unknown fields are ignored (for forward
 * compatibility); a field given twice is an error.
 */
public final class CheckRequestParser {
    /**
     * The deepest nesting a body may have: a check is at most three levels deep ({@code
     * {"checks": [{...}]}}); unknown fields get some room, and a body nested past this is refused
     * before it costs more.
     */
    static final int MAX_DEPTH = 32;

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(
                    StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build();

    /** Jackson's "(start marker at [Source: ...])" notes: noise for a client. */
    private static final Pattern SOURCE_NOTE = Pattern.compile("\\s*\\(start marker at \\[Source:[^\\]]*\\][^)]*\\)");

    private CheckRequestParser() {}

    /**
     * Refuses a body that holds more than one JSON value (a value followed by anything but
     * whitespace), as the check endpoints do: for bodies parsed into a tree elsewhere (the admin API,
     * the regions' deliveries), whose parser stops after the first value.
     */
    public static void requireOneValue(byte[] body) {
        try (JsonParser parser = JSON.createParser(body)) {
            parser.nextToken();
            parser.skipChildren();
            if (parser.nextToken() != null) {
                throw BadRequestException.of("body", "must be exactly one JSON object");
            }
        } catch (IOException e) {
            throw BadRequestException.of("body", "must be exactly one JSON object");
        }
    }

    /**
     * Why a body the JSON parser refused is not acceptable, for the problem's {@code body} entry:
     * what the parser said and where ({@code is not valid JSON: Duplicate field 'key' (line 1,
     * column 30)}), or that it is nested too deep. {@code error} may wrap the parser's exception
     * (the admin API's JSON mapper does).
     */
    public static String notJson(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StreamConstraintsException c) {
                String what = c.getOriginalMessage() == null
                        ? ""
                        : SOURCE_NOTE.matcher(c.getOriginalMessage()).replaceAll("");
                return "is nested too deep or too large: " + what;
            }
            if (t instanceof JsonProcessingException e) {
                String what = e.getOriginalMessage() == null
                        ? e.getClass().getSimpleName()
                        : SOURCE_NOTE.matcher(e.getOriginalMessage()).replaceAll("");
                String where;
                try {
                    where = e.getLocation() == null
                            ? ""
                            : " (line " + e.getLocation().getLineNr() + ", column "
                                    + e.getLocation().getColumnNr() + ")";
                } catch (RuntimeException unknown) { // Jackson's location of a very deep document threw
                    where = "";
                }
                return "is not valid JSON: " + what + where;
            }
        }
        return "is not valid JSON";
    }

    /**
     * Refuses a body that is not UTF-8 with a 400 naming {@code body}: the JSON parser decodes an
     * overlong sequence ({@code C0 AF}) to the character it spells ({@code /}), so {@code "a\xC0\xAFb"}
     * was the subject {@code a/b}. An ASCII body — the usual one — is only scanned.
     */
    public static void requireUtf8(byte[] body) {
        int i = 0;
        while (i < body.length && body[i] >= 0) {
            i++;
        }
        if (i == body.length) {
            return;
        }
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(body, i, body.length - i);
        java.nio.charset.CoderResult r = java.nio.charset.StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                .decode(in, java.nio.CharBuffer.allocate(body.length - i), true);
        if (r.isError()) {
            throw BadRequestException.of(
                    "body",
                    "must be UTF-8: the bytes at offset " + in.position()
                            + " are no UTF-8 sequence (overlong, a surrogate's, truncated or stray); nothing was"
                            + " decided");
        }
    }

    /** The checks of a body: one, or the list under {@code checks}. */
    public record Parsed(java.util.List<CheckRequest> checks, boolean multi) {}

    private static final String EXAMPLE = "{\"policy\": \"api\", \"key\": \"alice\", \"cost\": 1}";

    /** Why a check without a body is refused. */
    static final String BODY_REQUIRED =
            "is required: a JSON object such as " + EXAMPLE + ", or {\"checks\": [...]} of several";

    /** Parses {@code body}; throws {@link BadRequestException} naming every invalid field. */
    public static Parsed parse(byte[] body) {
        return parse(body, null);
    }

    /**
     * Parses {@code body}, with the {@code X-Api-Key} header's value ({@code null}: none): a
     * single check may then leave out the body, or send one without {@code policy}.
     */
    public static Parsed parse(byte[] body, String headerApiKey) {
        if ((body == null || body.length == 0) && headerApiKey != null) {
            body = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        if (body == null || body.length == 0) {
            throw BadRequestException.of("body", BODY_REQUIRED);
        }
        requireUtf8(body);
        List<InvalidParam> invalid = new ArrayList<>(2);
        List<CheckRequest> checks = null;
        boolean checksSeen = false;
        Fields top = new Fields("");
        try (JsonParser parser = JSON.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw BadRequestException.of("body", "must be a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("checks")) {
                    checksSeen = true;
                    if (value != JsonToken.START_ARRAY) {
                        invalid.add(new InvalidParam("checks", "must be an array of checks"));
                        parser.skipChildren();
                        continue;
                    }
                    checks = new ArrayList<>();
                    int i = 0;
                    while (parser.nextToken() != JsonToken.END_ARRAY) {
                        String prefix = "checks[" + i + "].";
                        if (parser.currentToken() != JsonToken.START_OBJECT) {
                            invalid.add(new InvalidParam("checks[" + i + "]", "must be an object"));
                            parser.skipChildren();
                        } else {
                            Fields f = new Fields(prefix);
                            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                                String name = parser.currentName();
                                f.read(name, parser.nextToken(), parser, invalid);
                            }
                            checks.add(f.finish(invalid));
                        }
                        i++;
                    }
                    if (i == 0) {
                        invalid.add(new InvalidParam("checks", "must hold at least one check"));
                    } else if (i > CheckRequest.MAX_CHECKS) {
                        invalid.add(new InvalidParam(
                                "checks", "must hold at most " + CheckRequest.MAX_CHECKS + " checks (was " + i + ")"));
                    }
                } else {
                    top.read(field, value, parser, invalid);
                }
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw BadRequestException.of("body", "must be exactly one JSON object");
            }
        } catch (StreamConstraintsException e) {
            throw BadRequestException.of("body", "is nested too deep: at most " + MAX_DEPTH + " levels");
        } catch (JsonProcessingException e) {
            throw BadRequestException.of("body", notJson(e));
        } catch (IOException e) {
            throw BadRequestException.of("body", "cannot be read: " + e.getMessage());
        }
        if (checksSeen && top.any) {
            throw BadRequestException.of(
                    "body", "holds either one check (policy, key, cost, ...) or a list of them (checks), not both");
        }
        if (checksSeen && checks == null) {
            throw new BadRequestException(400, invalid);
        }
        if (checks == null) {
            if (top.apiKey == null && headerApiKey != null) {
                top.apiKey = headerApiKey;
                top.apiKeyField = "X-Api-Key";
            }
            CheckRequest one = top.finish(invalid);
            if (!invalid.isEmpty()) {
                throw new BadRequestException(400, invalid);
            }
            return new Parsed(List.of(one), false);
        }
        if (!invalid.isEmpty()) {
            throw new BadRequestException(400, invalid);
        }
        return new Parsed(List.copyOf(checks), true);
    }

    /** The fields of one check as they are read. */
    private static final class Fields {
        private final String prefix;
        private String policy;
        private String key;
        private long cost = 1;
        private String tier;
        private String apiKey;
        private String apiKeyField = "apiKey";
        private boolean policySeen;
        private boolean keySeen;
        private boolean any;
        private final java.util.Map<String, String> facts = new java.util.HashMap<>();

        Fields(String prefix) {
            this.prefix = prefix;
        }

        void read(String field, JsonToken value, JsonParser parser, List<InvalidParam> invalid) throws IOException {
            switch (field) {
                case "policy" -> {
                    any = true;
                    policySeen = value != JsonToken.VALUE_NULL;
                    policy = string(field, value, parser, invalid);
                }
                case "key" -> {
                    any = true;
                    keySeen = value != JsonToken.VALUE_NULL;
                    key = string(field, value, parser, invalid);
                }
                case "apiKey" -> {
                    any = true;
                    apiKey = string(field, value, parser, invalid);
                    if (apiKey != null && (apiKey.isEmpty() || apiKey.length() > 512)) {
                        invalid.add(new InvalidParam(prefix + "apiKey", "must be 1 to 512 characters"));
                    }
                }
                case "tier" -> {
                    any = true;
                    tier = string(field, value, parser, invalid);
                    if (tier != null
                            && !dev.sluice.config.PolicyRegistry.NAME
                                    .matcher(tier)
                                    .matches()) {
                        invalid.add(new InvalidParam(prefix + "tier", "must match [a-z0-9][a-z0-9._-]{0,63}"));
                    }
                }
                case "cost" -> {
                    any = true;
                    if (value == JsonToken.VALUE_NUMBER_INT
                            && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                        cost = parser.getLongValue();
                        if (cost < 1) {
                            invalid.add(new InvalidParam(prefix + "cost", "must be at least 1 (was " + cost + ")"));
                        }
                    } else if (value == JsonToken.VALUE_NUMBER_INT) {
                        invalid.add(new InvalidParam(prefix + "cost", "is too large (was " + parser.getText() + ")"));
                    } else if (value != JsonToken.VALUE_NULL) {
                        invalid.add(new InvalidParam(
                                prefix + "cost", "must be a whole number (was " + describe(parser, value) + ")"));
                        parser.skipChildren();
                    }
                }
                case "request" -> {
                    any = true;
                    if (value != JsonToken.START_OBJECT) {
                        if (value != JsonToken.VALUE_NULL) {
                            invalid.add(new InvalidParam(prefix + "request", "must be an object of request facts"));
                            parser.skipChildren();
                        }
                        return;
                    }
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String name = parser.currentName().toLowerCase(java.util.Locale.ROOT);
                        JsonToken v = parser.nextToken();
                        if (FACTS.contains(name)) {
                            String text = string("request." + name, v, parser, invalid);
                            if (text != null && text.length() > 4096) {
                                invalid.add(new InvalidParam(
                                        prefix + "request." + name, "must be at most 4096 characters"));
                            } else if (text != null) {
                                String reason = checkFact(name, text);
                                if (reason != null) {
                                    invalid.add(new InvalidParam(prefix + "request." + name, reason));
                                } else {
                                    facts.put(name, text);
                                }
                            }
                        } else {
                            parser.skipChildren();
                        }
                    }
                }
                default -> parser.skipChildren();
            }
        }

        private String string(String field, JsonToken value, JsonParser parser, List<InvalidParam> invalid)
                throws IOException {
            if (value == JsonToken.VALUE_STRING) {
                return parser.getText();
            }
            if (value != JsonToken.VALUE_NULL) {
                invalid.add(new InvalidParam(prefix + field, "must be a string"));
                parser.skipChildren();
            }
            return null;
        }

        CheckRequest finish(List<InvalidParam> invalid) {
            if (apiKey != null) {
                if (!prefix.isEmpty()) {
                    invalid.add(new InvalidParam(
                            prefix + "apiKey", "only a single check carries an API key (its plan is one check)"));
                } else if (policySeen) {
                    invalid.add(new InvalidParam(
                            "policy",
                            "must not be sent with an API key (" + apiKeyField + "): the key's plan decides"));
                } else if (keySeen) {
                    invalid.add(new InvalidParam(
                            "key", "must not be sent with an API key (" + apiKeyField + "): the key names the caller"));
                }
                // the request facts name the caller in the violation log
                RequestFacts seen = facts.isEmpty()
                        ? RequestFacts.NONE
                        : new RequestFacts(
                                facts.get("remote-address"),
                                facts.get("x-forwarded-for"),
                                facts.get("forwarded"),
                                null,
                                facts.get("method"),
                                facts.get("path"));
                return new CheckRequest(prefix, null, null, cost, tier, seen, apiKey);
            }
            if (!policySeen) {
                invalid.add(new InvalidParam(prefix + "policy", "is required (or an API key: apiKey or X-Api-Key)"));
            } else if (policy != null && policy.isEmpty()) {
                invalid.add(new InvalidParam(prefix + "policy", "must not be empty"));
            }
            if (keySeen && key != null) {
                String reason = checkKey(key);
                if (reason != null) {
                    invalid.add(new InvalidParam(prefix + "key", reason));
                }
            }
            RequestFacts requestFacts = facts.isEmpty()
                    ? RequestFacts.NONE
                    : new RequestFacts(
                            facts.get("remote-address"),
                            facts.get("x-forwarded-for"),
                            facts.get("forwarded"),
                            facts.get("api-key"),
                            facts.get("method"),
                            facts.get("path"));
            return new CheckRequest(prefix, policy, keySeen ? key : null, cost, tier, requestFacts, null);
        }
    }

    private static final java.util.Set<String> FACTS =
            java.util.Set.of("remote-address", "x-forwarded-for", "forwarded", "api-key", "method", "path");

    /**
     * Why a request fact the calling service determined itself is not acceptable, whatever the
     * policy's scope (so that a mistake is refused before it can matter), or {@code null}: the
     * connection's address must be an IP address, the method a token, the path absolute. The
     * forwarding headers are passed on as the client sent them and are judged only where a scope
     * reads them, and only the entries a trusted proxy wrote (a client may write anything there).
     */
    static String checkFact(String name, String text) {
        return switch (name) {
            case "remote-address" ->
                dev.sluice.scope.IpAddresses.parse(text) == null || text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)
                        ? "is not an IP address (was '" + printable(text) + "')"
                        : null;
            case "method" ->
                text.isEmpty() || !text.chars().allMatch(CheckRequestParser::tchar)
                        ? "must be an HTTP method, like GET (was '" + printable(text) + "')"
                        : null;
            case "path" ->
                !text.startsWith("/") || text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)
                        ? "must start with / and hold no control characters (was '" + printable(text) + "')"
                        : null;
            default -> null;
        };
    }

    /** RFC 9110's token characters. */
    private static boolean tchar(int c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    /** At most 64 characters of {@code text}, control characters shown as {@code ?}. */
    static String printable(String text) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length() && i < 64; i++) {
            char c = text.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return text.length() > 64 ? b.append("...").toString() : b.toString();
    }

    /**
     * Where {@code text} holds a surrogate without its pair — a JSON {@code "\\ud800"} — or -1: it
     * has no UTF-8 encoding, and stored or hashed it would become {@code ?} or U+FFFD, another text.
     */
    public static int unpairedSurrogateAt(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /** Why {@code key} is not acceptable, or {@code null} when it is. */
    public static String checkKey(String key) {
        if (key.isEmpty()) {
            return "must not be empty";
        }
        int surrogate = unpairedSurrogateAt(key);
        if (surrogate >= 0) {
            return "must be valid Unicode (unpaired surrogate at index " + surrogate + ")";
        }
        int bytes = 0;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            // a pair's high half counts its four bytes, its low half none
            bytes += c < 0x80
                    ? 1
                    : c < 0x800 ? 2 : Character.isHighSurrogate(c) ? 4 : Character.isLowSurrogate(c) ? 0 : 3;
        }
        if (bytes > CheckRequest.MAX_KEY_BYTES) {
            return "must be at most " + CheckRequest.MAX_KEY_BYTES + " UTF-8 bytes (was " + bytes + ")";
        }
        return null;
    }

    private static String describe(JsonParser parser, JsonToken value) throws IOException {
        return switch (value) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_FLOAT -> parser.getText();
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            default -> value.asString();
        };
    }
}
