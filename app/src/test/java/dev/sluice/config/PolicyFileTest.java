package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.Algorithm;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One fixture file per kind of mistake (src/test/resources/policy-files), each with its exact message. */
class PolicyFileTest {
    private static String fixture(String name) {
        try (InputStream in = PolicyFileTest.class.getResourceAsStream("/policy-files/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aValidFileHoldsEveryKindOfPolicy() {
        Map<String, Policy> policies = PolicyFile.parse(fixture("valid.yml"), "valid.yml");
        assertThat(policies).containsOnlyKeys("login", "api", "pages", "per-ip", "plans", "fleet", "uploads");
        assertThat(policies.get("login").limit().algorithm()).isEqualTo(Algorithm.SLIDING_WINDOW_LOG);
        assertThat(policies.get("api").limit().burst()).isEqualTo(200);
        assertThat(policies.get("pages").routes()).hasSize(2);
        assertThat(policies.get("per-ip").ipv6Prefix()).isEqualTo(56);
        assertThat(policies.get("plans").limitFor("paid").burst()).isEqualTo(1200);
        assertThat(policies.get("fleet").reserves().get("paid").limit()).isEqualTo(2000);
        assertThat(policies.get("fleet").pool().limit()).isEqualTo(8000);
        assertThat(policies.get("uploads").limit().periodMs()).isEqualTo(120_000);
        assertThat(policies.get("uploads").onStoreFailure()).isEqualTo(FailureMode.LOCAL);
        assertThat(policies.get("uploads").source()).isEqualTo("valid.yml");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "not-yaml.yml | the file is not valid YAML: expected <block end>, but found '<block mapping start>' (line 4, column 4)",
                "no-policies-key.yml | the file must be a mapping with a top-level key 'policies'",
                "unknown-field.yml | policies.api.limt: unknown field (known: algorithm, burst, ipv6-prefix, lease-ttl, limit, on-store-failure, period, regions, reserve, routes, scope, tiers)",
                "unknown-algorithm.yml | policies.api.algorithm: unknown algorithm 'leaky' (supported: token-bucket, gcra, fixed-window, sliding-window-counter, sliding-window-log, concurrency)",
                "missing-limit.yml | policies.api.limit: is required (units admitted per period, e.g. 100)",
                "zero-limit.yml | policies.api.limit: must be at least 1 (was 0)",
                "limit-not-a-number.yml | policies.api.limit: must be a whole number (was 'ten')",
                "bad-period.yml | policies.api.period: must be a duration such as 500ms, 1s, 1m, 1h, 1d (was 'soon')",
                "burst-on-window.yml | policies.api.burst: applies to token-bucket and gcra only; a fixed-window admits `limit` per period (was burst 10, limit 5)",
                "bad-name.yml | policies.API: the policy name must match [a-z0-9][a-z0-9._-]{0,63}",
                "bad-tier.yml | policies.api.tiers.free: must read <limit>/<period>, optionally followed by burst <n>, e.g. 600/1m or 600/1m burst 1200 (was 'lots')",
                "reserve-too-big.yml | policies.fleet.reserve: the shares must leave some of the limit to the other tiers (they add up to 100.0%)",
                "period-on-concurrency.yml | policies.uploads.period: does not apply to concurrency (a limit of leases held at once); set lease-ttl, how long an unreleased lease lives",
                "bad-scope.yml | policies.api.scope: must be one of key, ip, api-key, endpoint, global (was 'planet')",
                "log-limit-too-big.yml | policies.login.limit: a sliding-window-log keeps one entry per unit, so its limit is at most 100000 (was 1000000); use sliding-window-counter for large limits",
            })
    void eachKindOfMistakeHasItsExactMessage(String file, String message) {
        assertThatThrownBy(() -> PolicyFile.parse(fixture(file), file))
                .isInstanceOf(PolicyFile.Invalid.class)
                .satisfies(e -> assertThat(((PolicyFile.Invalid) e).problems()).containsExactly(message));
    }

    @Test
    void aPolicyGivenTwiceIsAMistakeNotALastOneWins() {
        assertThatThrownBy(() -> PolicyFile.parse(fixture("duplicate-policy.yml"), "f"))
                .isInstanceOf(PolicyFile.Invalid.class)
                .hasMessageStartingWith("the file is not valid YAML: found duplicate key api");
    }

    @Test
    void everyMistakeOfAFileIsReportedAtOnce() {
        assertThatThrownBy(() -> PolicyFile.parse(fixture("two-mistakes.yml"), "f"))
                .satisfies(e -> assertThat(((PolicyFile.Invalid) e).problems())
                        .containsExactly(
                                "policies.a.limit: must be at least 1 (was 0)",
                                "policies.b.period: is required (a duration such as 500ms, 1s, 1m, 1h, 1d)"));
    }
}
