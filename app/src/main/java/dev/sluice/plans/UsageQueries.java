package dev.sluice.plans;

import io.micronaut.context.annotation.Requires;
import io.micronaut.jdbc.DataSourceResolver;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** Reads the usage analytics and the violation log for the admin API (never on the check path). */
@Singleton
@Requires(beans = DataSource.class)
public class UsageQueries {
    private final DataSource dataSource;

    public UsageQueries(DataSource dataSource, DataSourceResolver resolver) {
        this.dataSource = resolver.resolve(dataSource);
    }

    /** Admitted and denied checks per minute of a key ({@code byPlan} false) or a plan, in [from, to). */
    public List<Map<String, Object>> minutes(boolean byPlan, String name, Instant from, Instant to) {
        String sql = "SELECT minute, sum(admitted), sum(denied) FROM usage_minutes WHERE "
                + (byPlan ? "plan" : "key_id") + " = ? AND minute >= ? AND minute < ? GROUP BY minute ORDER BY minute";
        return rows(sql, name, from, to, null, (r, m) -> {
            m.put("minute", r.getTimestamp(1).toInstant().toString());
            m.put("admitted", r.getLong(2));
            m.put("denied", r.getLong(3));
        });
    }

    /** The denials kept in full, newest first, of a key or a plan, in [from, to). */
    public List<Map<String, Object>> violations(boolean byPlan, String name, Instant from, Instant to, int limit) {
        String sql = "SELECT at, key_id, account, plan, policy, client_address FROM violations WHERE "
                + (byPlan ? "plan" : "key_id") + " = ? AND at >= ? AND at < ? ORDER BY at DESC, id DESC LIMIT ?";
        return rows(sql, name, from, to, limit, (r, m) -> {
            m.put("at", r.getTimestamp(1).toInstant().toString());
            m.put("key", r.getString(2));
            m.put("account", r.getString(3));
            m.put("plan", r.getString(4));
            m.put("policy", r.getString(5));
            m.put("clientAddress", r.getString(6));
        });
    }

    @FunctionalInterface
    private interface Row {
        void read(ResultSet r, Map<String, Object> into) throws SQLException;
    }

    /** Runs {@code sql} with (name, from, to[, limit]) and reads each row into an ordered map. */
    private List<Map<String, Object>> rows(String sql, String name, Instant from, Instant to, Integer limit, Row row) {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, name);
            s.setTimestamp(2, Timestamp.from(from));
            s.setTimestamp(3, Timestamp.from(to));
            if (limit != null) {
                s.setInt(4, limit);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    row.read(r, m);
                    rows.add(m);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }
}
