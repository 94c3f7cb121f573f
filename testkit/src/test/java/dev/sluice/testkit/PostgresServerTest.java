package dev.sluice.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The PostgreSQL harness: a real server that answers SQL, stops, and comes back with its data. */
class PostgresServerTest {
    private static Connection connect(PostgresServer pg) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
    }

    @Test
    void answersStopsAndComesBackWithItsData() throws SQLException {
        try (PostgresServer pg = PostgresServer.start()) {
            try (Connection c = connect(pg);
                    Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (n int)");
                s.execute("INSERT INTO t VALUES (42)");
            }
            pg.stop();
            assertThrows(SQLException.class, () -> connect(pg).close());
            pg.restart();
            try (Connection c = connect(pg);
                    Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT n FROM t")) {
                r.next();
                assertEquals(42, r.getInt(1));
            }
        }
    }
}
