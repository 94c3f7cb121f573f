package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micronaut.context.ApplicationContext;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyRegistryTest {

    private static PolicyProperties policy(String name, Long limit, Duration period, Long burst) {
        PolicyProperties p = new PolicyProperties(name);
        p.setLimit(limit);
        p.setPeriod(period);
        p.setBurst(burst);
        return p;
    }

    @Test
    void burstDefaultsToTheLimitAndTheHeaderIsComputedOnce() {
        Policy p = PolicyRegistry.check(policy("api", 100L, Duration.ofMinutes(1), null));
        assertThat(p.limit().burst()).isEqualTo(100);
        assertThat(p.policyHeader()).isEqualTo("\"api\";q=100;w=60");
        assertThat(p.onStoreFailure()).isEqualTo(FailureMode.OPEN);
    }

    @Test
    void aSubSecondPeriodAnnouncesAWindowOfOneSecond() {
        assertThat(PolicyRegistry.check(policy("fast", 5L, Duration.ofMillis(500), null))
                        .windowSeconds())
                .isEqualTo(1);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "api   | 0    | 60000 |      | limiter.policies.api.limit: must be at least 1 (was 0)",
                "api   | 10   | 60000 | 0    | limiter.policies.api.burst: must be at least 1 (was 0)",
                "api   |      | 60000 |      | limiter.policies.api.limit: is required (units admitted per period, e.g. 100)",
                "api   | 10   |       |      | limiter.policies.api.period: is required (a duration such as 500ms, 1s, 1m, 1h, 1d)",
                "api   | 10   | 0     |      | limiter.policies.api.period: must be at least 1ms (was PT0S)",
                "Api   | 10   | 60000 |      | limiter.policies.Api: the policy name must match [a-z0-9][a-z0-9._-]{0,63}",
                "api   | 10   | 8639999999913600000 | 10 | limiter.policies.api.period: must be at most 52124d (2^52 microseconds; was 8639999999913600000ms)",
                "api   | 10   | 86400000 | 100000000 | limiter.policies.api.burst: must be at most 52124 for a period of 86400000ms (burst * period stays within 2^52 token-microseconds), was 100000000: lower the burst or the period",
            })
    void eachMistakeIsNamedByPolicyAndField(String name, Long limit, Long periodMs, Long burst, String message) {
        PolicyProperties p = policy(name, limit, periodMs == null ? null : Duration.ofMillis(periodMs), burst);
        assertThatThrownBy(() -> PolicyRegistry.check(p)).hasMessage(message);
    }

    @Test
    void aPolicyIsRegionalUnlessItSaysGlobal() {
        assertThat(PolicyRegistry.check(policy("api", 10L, Duration.ofSeconds(1), null))
                        .global())
                .isFalse();
        PolicyProperties g = policy("api", 10L, Duration.ofSeconds(1), null);
        g.setRegions("global");
        assertThat(PolicyRegistry.check(g).global()).isTrue();
        g.setAlgorithm("gcra");
        assertThat(PolicyRegistry.check(g).global()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "token-bucket | 1s  | planet | limiter.policies.api.regions: must be regional or global (was 'planet')",
                "fixed-window | 1s  | global | limiter.policies.api.regions: global applies to token-bucket and gcra only"
                        + " (was fixed-window): a region's share of a bucket is a share of its burst and of its rate,"
                        + " which windows and leases do not have",
                "token-bucket | 6d  | global | limiter.policies.api.regions: global applies to periods of at most 5d"
                        + " (was PT144H)",
            })
    void aGlobalPolicyMustBeABucketOfAPeriodItsSharesCanDivide(
            String algorithm, String period, String regions, String message) {
        PolicyProperties p = policy(
                "api",
                10L,
                io.micronaut.core.convert.ConversionService.SHARED.convertRequired(period, Duration.class),
                null);
        p.setAlgorithm(algorithm);
        p.setRegions(regions);
        assertThatThrownBy(() -> PolicyRegistry.check(p)).hasMessage(message);
    }

    @Test
    void unknownAlgorithmAndFailureModeAreNamed() {
        PolicyProperties algo = policy("api", 10L, Duration.ofSeconds(1), null);
        algo.setAlgorithm("leaky-thing");
        assertThatThrownBy(() -> PolicyRegistry.check(algo))
                .hasMessage(
                        "limiter.policies.api.algorithm: unknown algorithm 'leaky-thing' (supported: token-bucket, gcra, fixed-window, sliding-window-counter, sliding-window-log, concurrency)");
        PolicyProperties mode = policy("api", 10L, Duration.ofSeconds(1), null);
        mode.setOnStoreFailure("sometimes");
        assertThatThrownBy(() -> PolicyRegistry.check(mode))
                .hasMessage(
                        "limiter.policies.api.on-store-failure: must be one of open, closed, local (was 'sometimes')");
    }

    @Test
    void aFixedWindowPolicyAdmitsItsLimitPerPeriodAndRefusesABurst() {
        PolicyProperties p = policy("logins", 5L, Duration.ofMinutes(1), null);
        p.setAlgorithm("fixed-window");
        Policy policy = PolicyRegistry.check(p);
        assertThat(policy.limit().algorithm()).isEqualTo(dev.sluice.core.Algorithm.FIXED_WINDOW);
        assertThat(policy.policyHeader()).isEqualTo("\"logins\";q=5;w=60");
        p.setBurst(10L);
        assertThatThrownBy(() -> PolicyRegistry.check(p))
                .hasMessage(
                        "limiter.policies.logins.burst: applies to token-bucket and gcra only; a fixed-window admits"
                                + " `limit` per period (was burst 10, limit 5)");
    }

    @Test
    void aBadPolicyStopsTheServiceWithAMessageNamingPolicyAndField() {
        Map<String, Object> props = new HashMap<>();
        props.put("limiter.policies.login.limit", 5);
        props.put("limiter.policies.login.period", "1m");
        props.put("limiter.policies.login.burst", -2);
        assertThatThrownBy(() -> ApplicationContext.run(props).close())
                .hasStackTraceContaining("limiter.policies.login.burst: must be at least 1 (was -2)");
    }

    @Test
    void anUnreadableDurationStopsTheServiceNamingTheProperty() {
        Map<String, Object> props = new HashMap<>();
        props.put("limiter.policies.login.limit", 5);
        props.put("limiter.policies.login.period", "banana");
        assertThatThrownBy(() -> ApplicationContext.run(props).close()).hasStackTraceContaining("period");
    }

    @Test
    void configuredPoliciesAreLoadedFromConfiguration() {
        try (ApplicationContext ctx = ApplicationContext.run(Map.of(
                "limiter.policies.api.limit",
                100,
                "limiter.policies.api.period",
                "1m",
                "limiter.policies.api.burst",
                150,
                "limiter.policies.api.on-store-failure",
                "closed"))) {
            Policy api = ctx.getBean(PolicyRegistry.class).find("api");
            assertThat(api.limit().burst()).isEqualTo(150);
            assertThat(api.limit().limit()).isEqualTo(100);
            assertThat(api.limit().periodMs()).isEqualTo(60_000);
            assertThat(api.onStoreFailure()).isEqualTo(FailureMode.CLOSED);
        }
    }
}
