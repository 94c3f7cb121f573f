package dev.sluice.scope;

import dev.sluice.config.LimiterProperties;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.exceptions.ConfigurationException;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;

/** Builds the {@link SubjectResolver} from {@code limiter.trusted-proxies}, checked at start-up. */
@Factory
public class ScopeFactory {
    @Singleton
    SubjectResolver subjectResolver(LimiterProperties properties) {
        List<Cidr> ranges = new ArrayList<>();
        List<String> configured = properties.getTrustedProxies();
        for (int i = 0; i < configured.size(); i++) {
            try {
                ranges.add(Cidr.parse(configured.get(i)));
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException("limiter.trusted-proxies[" + i + "]: " + e.getMessage());
            }
        }
        return new SubjectResolver(ranges);
    }
}
