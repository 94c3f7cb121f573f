package dev.sluice.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
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
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Jackson's "(start marker at [Source: ...])" notes: noise for a client. */
    private static final Pattern SOURCE_NOTE = Pattern.compile("\\s*\\(start marker at \\[Source:[^\\]]*\\][^)]*\\)");

    private CheckRequestParser() {}

    /** Parses {@code body}; throws {@link BadRequestException} naming every invalid field. */
    public static CheckRequest parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw BadRequestException.of(
                    "body",
                    "is required: a JSON object such as {\"policy\": \"api\", \"key\": \"alice\", \"cost\": 1}");
        }
        String policy = null;
        String key = null;
        long cost = 1;
        List<InvalidParam> invalid = new ArrayList<>(2);
        boolean policySeen = false;
        boolean keySeen = false;
        try (JsonParser parser = JSON.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw BadRequestException.of("body", "must be a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "policy" -> {
                        policySeen = value != JsonToken.VALUE_NULL;
                        if (value == JsonToken.VALUE_STRING) {
                            policy = parser.getText();
                        } else if (policySeen) {
                            invalid.add(new InvalidParam("policy", "must be a string"));
                            parser.skipChildren();
                        }
                    }
                    case "key" -> {
                        keySeen = value != JsonToken.VALUE_NULL;
                        if (value == JsonToken.VALUE_STRING) {
                            key = parser.getText();
                        } else if (keySeen) {
                            invalid.add(new InvalidParam("key", "must be a string"));
                            parser.skipChildren();
                        }
                    }
                    case "cost" -> {
                        if (value == JsonToken.VALUE_NUMBER_INT
                                && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                            cost = parser.getLongValue();
                            if (cost < 1) {
                                invalid.add(new InvalidParam("cost", "must be at least 1 (was " + cost + ")"));
                            }
                        } else if (value == JsonToken.VALUE_NUMBER_INT) {
                            invalid.add(new InvalidParam("cost", "is too large (was " + parser.getText() + ")"));
                        } else if (value != JsonToken.VALUE_NULL) {
                            invalid.add(new InvalidParam(
                                    "cost", "must be a whole number (was " + describe(parser, value) + ")"));
                            parser.skipChildren();
                        }
                    }
                    default -> parser.skipChildren();
                }
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw BadRequestException.of("body", "must be exactly one JSON object");
            }
        } catch (JsonProcessingException e) {
            throw BadRequestException.of(
                    "body",
                    "is not valid JSON: "
                            + SOURCE_NOTE.matcher(e.getOriginalMessage()).replaceAll("") + " (line "
                            + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw BadRequestException.of("body", "cannot be read: " + e.getMessage());
        }
        if (!policySeen) {
            invalid.add(new InvalidParam("policy", "is required"));
        } else if (policy != null && policy.isEmpty()) {
            invalid.add(new InvalidParam("policy", "must not be empty"));
        }
        if (!keySeen) {
            invalid.add(new InvalidParam("key", "is required"));
        } else if (key != null) {
            String reason = checkKey(key);
            if (reason != null) {
                invalid.add(new InvalidParam("key", reason));
            }
        }
        if (!invalid.isEmpty()) {
            throw new BadRequestException(400, invalid);
        }
        return new CheckRequest(policy, key, cost);
    }

    /** Why {@code key} is not acceptable, or {@code null} when it is. */
    public static String checkKey(String key) {
        if (key.isEmpty()) {
            return "must not be empty";
        }
        int bytes = 0;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < key.length()
                    && Character.isLowSurrogate(key.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                return "must be valid Unicode (unpaired surrogate at index " + i + ")";
            } else {
                bytes += 3;
            }
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
