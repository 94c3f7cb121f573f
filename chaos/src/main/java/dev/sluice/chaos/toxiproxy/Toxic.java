package dev.sluice.chaos.toxiproxy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One toxic as Toxiproxy describes it: {@code name}, {@code type}, {@code stream} (upstream: client
 * to server; downstream: server to client), {@code toxicity} (the chance, per connection, that it
 * applies) and its {@code attributes}. Immutable: an update makes a new one.
 */
record Toxic(String name, String type, String stream, double toxicity, Map<String, Long> attributes) {
    /** The types this server implements, with their attributes and defaults (as Toxiproxy 2.x). */
    static final Map<String, Map<String, Long>> TYPES = Map.of(
            "latency", Map.of("latency", 0L, "jitter", 0L),
            "bandwidth", Map.of("rate", 0L),
            "slow_close", Map.of("delay", 0L),
            "timeout", Map.of("timeout", 0L),
            "reset_peer", Map.of("timeout", 0L),
            "slicer", Map.of("average_size", 0L, "size_variation", 0L, "delay", 0L),
            "limit_data", Map.of("bytes", 0L));

    static final Set<String> STREAMS = Set.of("upstream", "downstream");

    Toxic {
        if (!TYPES.containsKey(type)) {
            throw new ApiException(400, "bad request: unknown toxic type " + type);
        }
        if (!STREAMS.contains(stream)) {
            throw new ApiException(400, "bad request: stream must be upstream or downstream, was " + stream);
        }
        if (toxicity < 0 || toxicity > 1) {
            throw new ApiException(400, "bad request: toxicity must be between 0 and 1");
        }
        Map<String, Long> all = new LinkedHashMap<>(TYPES.get(type));
        all.putAll(attributes);
        attributes = Map.copyOf(all);
    }

    long attr(String key) {
        return attributes.getOrDefault(key, 0L);
    }

    boolean upstream() {
        return "upstream".equals(stream);
    }

    Toxic withAttributes(Map<String, Long> changed, Double newToxicity) {
        Map<String, Long> all = new LinkedHashMap<>(attributes);
        all.putAll(changed);
        return new Toxic(name, type, stream, newToxicity == null ? toxicity : newToxicity, all);
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("type", type);
        m.put("stream", stream);
        m.put("toxicity", toxicity);
        m.put("attributes", attributes);
        return m;
    }
}
