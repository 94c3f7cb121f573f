package dev.sluice.scope;

import dev.sluice.config.Policy;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Derives a check's subject key from the request facts, by the policy's scope.
 *
 * <ul>
 *   <li>{@code ip}: the client address. The TCP peer ({@code remote-address}) is the client unless
 *       it is a trusted proxy; then {@code Forwarded} (or else {@code X-Forwarded-For}) is read from
 *       the right, skipping trusted proxies, and the first untrusted address is the client (all
 *       trusted: the leftmost). Entries a client wrote itself sit left of that and are never used,
 *       so no client can pick another client's bucket. IPv6 is grouped by the policy's prefix.
 *   <li>{@code api-key}: the SHA-256 of the key (the first 128 bits, hex), so keys never reach Redis.
 *   <li>{@code endpoint}: method and the first matching route template ({@code GET /users/{id}});
 *       a path no template matches counts as {@code GET (other)}; with no templates, the path.
 *   <li>{@code global}: {@code *}.
 * </ul>
 */
public final class SubjectResolver {
    private final List<Cidr> trustedProxies;

    public SubjectResolver(List<Cidr> trustedProxies) {
        this.trustedProxies = List.copyOf(trustedProxies);
    }

    /** The subject key of a check of {@code policy} with {@code facts}. */
    public String key(Policy policy, RequestFacts facts) {
        return switch (policy.scope()) {
            case KEY -> throw new IllegalStateException("a key-scoped policy takes the caller's key");
            case GLOBAL -> "*";
            case IP -> IpAddresses.subject(client(facts), policy.ipv6Prefix());
            case API_KEY -> {
                if (facts.apiKey() == null || facts.apiKey().isEmpty()) {
                    throw new ScopeException(
                            "request.api-key", "is required: policy '" + policy.name() + "' limits per API key");
                }
                yield "k-" + sha256(facts.apiKey());
            }
            case ENDPOINT -> endpoint(policy, facts);
        };
    }

    /** The client's address by the rules above. */
    public InetAddress client(RequestFacts facts) {
        if (facts.remoteAddress() == null) {
            throw new ScopeException("request.remote-address", "is required: the address of the client's connection");
        }
        InetAddress peer = IpAddresses.parse(facts.remoteAddress());
        if (peer == null) {
            throw new ScopeException(
                    "request.remote-address", "is not an IP address (was '" + facts.remoteAddress() + "')");
        }
        if (!trusted(peer)) {
            return peer;
        }
        String field = facts.forwarded() != null ? "request.forwarded" : "request.x-forwarded-for";
        List<String> hops = facts.forwarded() != null ? forwardedFor(facts.forwarded()) : xff(facts.xForwardedFor());
        InetAddress client = peer;
        for (int i = hops.size() - 1; i >= 0; i--) {
            InetAddress hop = IpAddresses.parse(hops.get(i));
            if (hop == null) {
                // written by a trusted proxy as its peer, so it must be an address
                throw new ScopeException(field, "entry '" + hops.get(i) + "' is not an IP address");
            }
            client = hop;
            if (!trusted(hop)) {
                break;
            }
        }
        return client;
    }

    private boolean trusted(InetAddress address) {
        for (Cidr c : trustedProxies) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private static List<String> xff(String header) {
        List<String> hops = new ArrayList<>();
        if (header != null) {
            for (String part : header.split(",")) {
                if (!part.isBlank()) {
                    hops.add(part.trim());
                }
            }
        }
        return hops;
    }

    /** The {@code for=} values of an RFC 7239 header, in order. */
    private static List<String> forwardedFor(String header) {
        List<String> hops = new ArrayList<>();
        for (String element : header.split(",")) {
            for (String pair : element.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equalsIgnoreCase("for")) {
                    hops.add(pair.substring(eq + 1).trim());
                }
            }
        }
        return hops;
    }

    private static String endpoint(Policy policy, RequestFacts facts) {
        if (facts.method() == null || facts.method().isEmpty()) {
            throw new ScopeException(
                    "request.method", "is required: policy '" + policy.name() + "' limits per endpoint");
        }
        if (facts.path() == null || !facts.path().startsWith("/")) {
            throw new ScopeException(
                    "request.path",
                    facts.path() == null
                            ? "is required: policy '" + policy.name() + "' limits per endpoint"
                            : "must start with / (was '" + facts.path() + "')");
        }
        String method = facts.method().toUpperCase(Locale.ROOT);
        List<String> segments = RouteTemplate.split(facts.path());
        if (policy.routes().isEmpty()) {
            return method + " /" + String.join("/", segments);
        }
        for (RouteTemplate t : policy.routes()) {
            if (t.matches(segments)) {
                return method + " " + t.template();
            }
        }
        return method + " (other)";
    }

    private static String sha256(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
