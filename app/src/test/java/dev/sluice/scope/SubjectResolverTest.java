package dev.sluice.scope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.config.FailureMode;
import dev.sluice.config.Policy;
import dev.sluice.config.Scope;
import dev.sluice.core.Limit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubjectResolverTest {
    private static final SubjectResolver RESOLVER =
            new SubjectResolver(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8")));

    private static Policy policy(Scope scope, int prefix, List<String> routes) {
        return Policy.of(
                "p",
                new Limit(10, 10, 60_000),
                FailureMode.OPEN,
                scope,
                prefix,
                routes.stream().map(RouteTemplate::parse).toList(),
                Map.of(),
                Map.of(),
                null,
                "test");
    }

    private static String ip(String remote, String xff, String forwarded) {
        return RESOLVER.key(
                policy(Scope.IP, 64, List.of()), new RequestFacts(remote, xff, forwarded, null, null, null));
    }

    @ParameterizedTest(name = "peer {0}, X-Forwarded-For {1}: client {2}")
    @CsvSource(
            delimiter = '|',
            nullValues = "-",
            value = {
                // an untrusted peer is the client, whatever it claims to forward for
                "203.0.113.9 | 1.2.3.4                       | 203.0.113.9",
                // a trusted proxy: the right-most untrusted hop is the client
                "10.0.0.1    | 198.51.100.7, 10.0.0.2        | 198.51.100.7",
                // what the client wrote itself sits left of it and is never used
                "10.0.0.1    | 6.6.6.6, 198.51.100.7         | 198.51.100.7",
                // every hop trusted: the left-most
                "10.0.0.1    | 10.1.1.1, 10.0.0.2            | 10.1.1.1",
                // a trusted proxy with nothing forwarded: the proxy itself
                "10.0.0.1    | -                             | 10.0.0.1",
                // IPv6 clients grouped by /64; IPv4-mapped IPv6 is IPv4
                "2001:db8:1:2::1     | -                     | 2001:db8:1:2:0:0:0:0/64",
                "2001:db8:1:2:ffff:ffff:ffff:ffff | -        | 2001:db8:1:2:0:0:0:0/64",
                "2001:db8:1:3::1     | -                     | 2001:db8:1:3:0:0:0:0/64",
                "::ffff:192.0.2.1    | -                     | 192.0.2.1",
                "fd00::1             | 2001:db8::5, fd00::2  | 2001:db8:0:0:0:0:0:0/64",
            })
    void theClientIsTheRightMostHopNotATrustedProxy(String remote, String xff, String client) {
        assertThat(ip(remote, xff, null)).isEqualTo(client);
    }

    @Test
    void theForwardedHeaderIsReadTheSameWayAndWinsOverXForwardedFor() {
        assertThat(ip("10.0.0.1", "9.9.9.9", "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.3"))
                .isEqualTo("2001:db8:cafe:0:0:0:0:0/64");
    }

    @Test
    void theIpv6PrefixIsThePolicys() {
        Policy slash48 = policy(Scope.IP, 48, List.of());
        assertThat(RESOLVER.key(slash48, new RequestFacts("2001:db8:1:2::1", null, null, null, null, null)))
                .isEqualTo("2001:db8:1:0:0:0:0:0/48");
    }

    @Test
    void badAddressesAreNamedAndNeverLookedUpInDns() {
        assertThatThrownBy(() -> ip("localhost", null, null))
                .isInstanceOf(ScopeException.class)
                .hasMessage("is not an IP address (was 'localhost')");
        assertThatThrownBy(() -> ip("10.0.0.1", "example.com", null))
                .isInstanceOf(ScopeException.class)
                .hasMessage("entry 'example.com' is not an IP address")
                .extracting(e -> ((ScopeException) e).field())
                .isEqualTo("request.x-forwarded-for");
        assertThatThrownBy(() -> ip(null, null, null))
                .extracting(e -> ((ScopeException) e).field())
                .isEqualTo("request.remote-address");
        assertThat(IpAddresses.parse("999.1.1.1")).isNull();
        assertThat(IpAddresses.parse("1.2.3")).isNull();
    }

    @Test
    void endpointsAreMethodAndRouteTemplate() {
        Policy endpoints = policy(Scope.ENDPOINT, 64, List.of("/users/{id}", "/users/{id}/orders"));
        assertThat(RESOLVER.key(endpoints, new RequestFacts(null, null, null, null, "get", "/users/42?x=1")))
                .isEqualTo("GET /users/{id}");
        assertThat(RESOLVER.key(endpoints, new RequestFacts(null, null, null, null, "GET", "/users/7/orders/")))
                .isEqualTo("GET /users/{id}/orders");
        assertThat(RESOLVER.key(endpoints, new RequestFacts(null, null, null, null, "GET", "/admin")))
                .isEqualTo("GET (other)");
        assertThatThrownBy(() -> RESOLVER.key(endpoints, new RequestFacts(null, null, null, null, null, "/users/1")))
                .extracting(e -> ((ScopeException) e).field())
                .isEqualTo("request.method");
    }

    @Test
    void apiKeysAreHashedAndTheGlobalScopeIsOneSubject() {
        String key = RESOLVER.key(
                policy(Scope.API_KEY, 64, List.of()), new RequestFacts(null, null, null, "sk_live_secret", null, null));
        assertThat(key).startsWith("k-").hasSize(34).doesNotContain("secret");
        assertThat(RESOLVER.key(policy(Scope.GLOBAL, 64, List.of()), RequestFacts.NONE))
                .isEqualTo("*");
    }
}
