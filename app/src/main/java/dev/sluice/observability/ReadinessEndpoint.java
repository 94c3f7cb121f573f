package dev.sluice.observability;

import io.micronaut.configuration.lettuce.health.RedisHealthIndicator;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.management.endpoint.annotation.Endpoint;
import io.micronaut.management.endpoint.annotation.Read;
import io.micronaut.management.endpoint.annotation.Selector;
import io.micronaut.management.endpoint.health.HealthEndpoint;
import io.micronaut.management.health.aggregator.HealthAggregator;
import io.micronaut.management.health.indicator.HealthCheckType;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.management.health.indicator.annotation.Liveness;
import io.micronaut.management.health.indicator.jdbc.JdbcIndicator;
import java.security.Principal;
import java.util.Arrays;
import java.util.List;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * Micronaut's health endpoint, with a readiness that means "this node can answer checks":
 * {@code /health/readiness} leaves out the Redis and database indicators, which {@code /health}
 * keeps. A node answers every check while Redis or PostgreSQL is down (by each policy's failure
 * mode, from its copy of plans and keys), and every node shares that Redis: a load balancer that took
 * nodes out because Redis is down would turn "fail open" into an outage. Readiness still goes DOWN
 * while the node drains on SIGTERM (Micronaut's graceful-shutdown indicator) and before it has
 * started (the service-ready indicator).
 */
@Endpoint(value = HealthEndpoint.NAME, defaultSensitive = HealthEndpoint.DEFAULT_SENSITIVE)
@Replaces(HealthEndpoint.class)
public class ReadinessEndpoint extends HealthEndpoint {
    private final HealthAggregator<HealthResult> aggregator;
    private final HealthIndicator[] readiness;

    public ReadinessEndpoint(
            HealthAggregator<HealthResult> aggregator,
            HealthIndicator[] healthIndicators,
            @Liveness HealthIndicator[] livenessHealthIndicators) {
        super(aggregator, healthIndicators, livenessHealthIndicators);
        this.aggregator = aggregator;
        List<HealthIndicator> liveness = Arrays.asList(livenessHealthIndicators);
        this.readiness = Arrays.stream(healthIndicators)
                .filter(i -> !liveness.contains(i))
                .filter(i -> !(i instanceof RedisHealthIndicator)
                        && !(i instanceof RedisHealth)
                        && !(i instanceof JdbcIndicator))
                .toArray(HealthIndicator[]::new);
    }

    @Read
    @Override
    public Publisher<HealthResult> getHealth(@Nullable Principal principal) {
        return super.getHealth(principal);
    }

    @Read
    @Override
    public Publisher<HealthResult> getHealth(@Nullable Principal principal, @Selector HealthCheckType selector) {
        if (selector == HealthCheckType.READINESS) {
            return Mono.from(aggregator.aggregate(readiness, levelOfDetail(principal)));
        }
        return super.getHealth(principal, selector);
    }
}
