package dev.sluice.region;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.FailureMode;
import dev.sluice.config.Policy;
import dev.sluice.config.Scope;
import dev.sluice.core.Limit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The shape regions compare a global policy by: the default limit and every tier's (found black-box:
 * a tier at 1,000 a second in one region beside 100 in another went unnoticed).
 */
class RegionSyncShapeTest {
    private static Policy policy(Map<String, Limit> tiers) {
        return Policy.of(
                "api",
                new Limit(100, 100, 1_000),
                FailureMode.OPEN,
                Scope.KEY,
                64,
                List.of(),
                tiers,
                Map.of(),
                null,
                "configuration");
    }

    @Test
    void theShapeCoversTheDefaultLimitAndEveryTier() {
        assertThat(RegionSync.shape(policy(Map.of()))).isEqualTo("100/1000/100");
        String paid100 =
                RegionSync.shape(policy(Map.of("paid", new Limit(100, 100, 1_000), "free", new Limit(10, 10, 1_000))));
        assertThat(paid100).isEqualTo("100/1000/100 free=10/1000/10 paid=100/1000/100");
        assertThat(RegionSync.shape(
                        policy(Map.of("paid", new Limit(1_000, 1_000, 1_000), "free", new Limit(10, 10, 1_000)))))
                .isNotEqualTo(paid100);
    }
}
