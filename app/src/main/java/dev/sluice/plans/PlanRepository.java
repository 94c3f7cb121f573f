package dev.sluice.plans;

import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.CrudRepository;
import java.util.List;

@JdbcRepository(dialect = Dialect.POSTGRES)
public interface PlanRepository extends CrudRepository<Plan, String> {
    List<Plan> findAllOrderByName();

    /** The number that moves whenever plans, keys or overrides change (migration V2). */
    @Query("SELECT version FROM admin_version WHERE id = 1")
    long adminVersion();
}
