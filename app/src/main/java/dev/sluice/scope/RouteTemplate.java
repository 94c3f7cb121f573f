package dev.sluice.scope;

import java.util.List;

/**
 * A route template such as {@code /users/{id}/orders}: each {@code {name}} segment matches exactly
 * one non-empty path segment; other segments match literally.
 */
public record RouteTemplate(String template, List<String> segments) {

    /** Parses {@code template}; throws {@link IllegalArgumentException} with a reason. */
    public static RouteTemplate parse(String template) {
        if (template == null || !template.startsWith("/")) {
            throw new IllegalArgumentException("must start with / (was '" + template + "')");
        }
        List<String> segments = split(template);
        for (String s : segments) {
            if ((s.startsWith("{") != s.endsWith("}")) || (s.startsWith("{") && s.length() < 3)) {
                throw new IllegalArgumentException("segment '" + s + "' must be literal or {name}");
            }
        }
        return new RouteTemplate(template, segments);
    }

    /** Whether {@code path} (no query) matches. */
    public boolean matches(List<String> pathSegments) {
        if (pathSegments.size() != segments.size()) {
            return false;
        }
        for (int i = 0; i < segments.size(); i++) {
            String t = segments.get(i);
            String p = pathSegments.get(i);
            if (t.startsWith("{") ? p.isEmpty() : !t.equals(p)) {
                return false;
            }
        }
        return true;
    }

    /** The segments of {@code path} (without query or fragment; a trailing slash is ignored). */
    public static List<String> split(String path) {
        int end = path.length();
        int q = path.indexOf('?');
        if (q >= 0) {
            end = q;
        }
        int h = path.indexOf('#');
        if (h >= 0 && h < end) {
            end = h;
        }
        String p = path.substring(0, end);
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.equals("/") || p.isEmpty()) {
            return List.of();
        }
        return List.of(p.substring(1).split("/", -1));
    }
}
