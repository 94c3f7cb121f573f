package dev.sluice.config;

import io.micronaut.context.exceptions.ConfigurationException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A policy file: YAML with one top-level key, {@code policies}, holding policies exactly as {@code
 * limiter.policies} does. The whole file is checked at once; every mistake is reported as {@code
 * policies.<name>.<field>: <reason>}, and an unknown field is a mistake (a typo must not silently
 * fall back to a default).
 */
public final class PolicyFile {
    private static final Set<String> FIELDS = Set.of(
            "algorithm",
            "limit",
            "period",
            "burst",
            "on-store-failure",
            "lease-ttl",
            "scope",
            "ipv6-prefix",
            "routes",
            "tiers",
            "reserve",
            "regions");

    private PolicyFile() {}

    /** The mistakes of a file, one message each. */
    public static final class Invalid extends RuntimeException {
        private static final long serialVersionUID = 1L;

        private final List<String> problems;

        Invalid(List<String> problems) {
            super(String.join("\n", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    /** Parses and checks {@code text}; throws {@link Invalid} with every mistake. */
    public static Map<String, Policy> parse(String text, String source) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        Object root;
        try {
            root = new Yaml(new SafeConstructor(options)).load(text);
        } catch (MarkedYAMLException e) {
            String where = e.getProblemMark() == null
                    ? ""
                    : " (line " + (e.getProblemMark().getLine() + 1) + ", column "
                            + (e.getProblemMark().getColumn() + 1) + ")";
            throw new Invalid(List.of("the file is not valid YAML: " + e.getProblem() + where));
        } catch (YAMLException e) {
            throw new Invalid(List.of("the file is not valid YAML: " + e.getMessage()));
        }
        if (!(root instanceof Map<?, ?> top) || !top.containsKey("policies")) {
            throw new Invalid(List.of("the file must be a mapping with a top-level key 'policies'"));
        }
        for (Object k : top.keySet()) {
            if (!"policies".equals(k)) {
                throw new Invalid(List.of(k + ": unknown top-level key (only 'policies')"));
            }
        }
        Object policies = top.get("policies");
        if (policies == null) {
            return Map.of();
        }
        if (!(policies instanceof Map<?, ?> all)) {
            throw new Invalid(List.of("policies: must be a mapping of policy names to policies"));
        }
        List<PolicyProperties> definitions = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<?, ?> e : all.entrySet()) {
            String name = String.valueOf(e.getKey());
            try {
                definitions.add(properties(name, e.getValue()));
            } catch (IllegalArgumentException ex) {
                problems.add(ex.getMessage());
            }
        }
        Map<String, Policy> checked = new LinkedHashMap<>();
        for (PolicyProperties p : definitions) {
            try {
                Policy policy = PolicyRegistry.check(p, "policies.", source);
                checked.put(policy.name(), policy);
            } catch (IllegalArgumentException ex) {
                problems.add(ex.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new Invalid(problems);
        }
        return checked;
    }

    /** Reads one policy's fields with their types; the message names the field. */
    private static PolicyProperties properties(String name, Object value) {
        String at = "policies." + name;
        if (!(value instanceof Map<?, ?> fields)) {
            throw new IllegalArgumentException(at + ": must be a mapping of fields (algorithm, limit, period, ...)");
        }
        PolicyProperties p = new PolicyProperties(name);
        for (Map.Entry<?, ?> f : fields.entrySet()) {
            String field = String.valueOf(f.getKey());
            String path = at + "." + field;
            Object v = f.getValue();
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException(
                        path + ": unknown field (known: " + String.join(", ", new java.util.TreeSet<>(FIELDS)) + ")");
            }
            switch (field) {
                case "algorithm" -> p.setAlgorithm(string(path, v));
                case "scope" -> p.setScope(string(path, v));
                case "on-store-failure" -> p.setOnStoreFailure(string(path, v));
                case "limit" -> p.setLimit(whole(path, v));
                case "burst" -> p.setBurst(whole(path, v));
                case "ipv6-prefix" -> p.setIpv6Prefix(Math.toIntExact(Math.min(Integer.MAX_VALUE, whole(path, v))));
                case "period" -> p.setPeriod(duration(path, v));
                case "lease-ttl" -> p.setLeaseTtl(duration(path, v));
                case "routes" -> p.setRoutes(strings(path, v));
                case "tiers" -> p.setTiers(stringMap(path, v));
                case "reserve" -> p.setReserve(stringMap(path, v));
                case "regions" -> p.setRegions(string(path, v));
                default -> throw new IllegalStateException(field);
            }
        }
        return p;
    }

    private static String string(String path, Object v) {
        if (v instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException(path + ": must be a string (was " + describe(v) + ")");
    }

    private static Long whole(String path, Object v) {
        if (v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        throw new IllegalArgumentException(path + ": must be a whole number (was " + describe(v) + ")");
    }

    private static Duration duration(String path, Object v) {
        Duration d = v instanceof String s ? Durations.parse(s) : null;
        if (d == null) {
            throw new IllegalArgumentException(
                    path + ": must be a duration such as 500ms, 1s, 1m, 1h, 1d (was " + describe(v) + ")");
        }
        return d;
    }

    private static List<String> strings(String path, Object v) {
        if (v instanceof List<?> list) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                out.add(string(path + "[" + i + "]", list.get(i)));
            }
            return out;
        }
        throw new IllegalArgumentException(path + ": must be a list (was " + describe(v) + ")");
    }

    private static Map<String, String> stringMap(String path, Object v) {
        if (v instanceof Map<?, ?> map) {
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.put(String.valueOf(e.getKey()), string(path + "." + e.getKey(), e.getValue()));
            }
            return out;
        }
        throw new IllegalArgumentException(path + ": must be a mapping (was " + describe(v) + ")");
    }

    private static String describe(Object v) {
        if (v == null) {
            return "empty";
        }
        if (v instanceof String s) {
            return "'" + s + "'";
        }
        if (v instanceof Map) {
            return "a mapping";
        }
        if (v instanceof List) {
            return "a list";
        }
        return String.valueOf(v);
    }

    /** For start-up: a file that cannot be used stops the service, as a bad configuration does. */
    static ConfigurationException atStartUp(String file, Invalid e) {
        return new ConfigurationException("Invalid policy file " + file + ":\n  " + String.join("\n  ", e.problems()));
    }
}
