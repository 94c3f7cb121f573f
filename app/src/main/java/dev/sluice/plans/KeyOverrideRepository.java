package dev.sluice.plans;

import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.CrudRepository;
import java.time.Instant;
import java.util.List;

@JdbcRepository(dialect = Dialect.POSTGRES)
public interface KeyOverrideRepository extends CrudRepository<KeyOverride, Long> {
    List<KeyOverride> findByUntilAfter(Instant now);

    List<KeyOverride> findByKeyIdOrderByCreatedAtDesc(String keyId);
}
