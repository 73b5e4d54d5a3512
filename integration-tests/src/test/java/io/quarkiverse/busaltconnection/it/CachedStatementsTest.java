package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.config.DataSourceSettings;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Every statement of the bus fits the direct connection's prepared-statement cache, as the application's
 * configuration resolves it, so that PostgreSQL parses and plans it once per connection: the client leaves longer ones
 * unnamed and has them parsed and planned at every execution (the sequencer's statement outgrew the client's default
 * limit once, and each run paid about 2.5 ms for it). The longest names of schema and table are used, as the
 * statements quote them.
 */
@QuarkusTest
class CachedStatementsTest {

    @Inject
    ImDispatcherConfig config;

    @Test
    void everyStatementFitsTheDirectConnectionsStatementCache() throws Exception {
        PgConnectOptions options = DirectConnectOptions.resolve(config, new DataSourceSettings("<default>",
                Optional.of("jdbc:postgresql://localhost:5432/quarkus"), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty()), Optional.empty());
        assertTrue(options.getCachePreparedStatements(), "the direct connection caches no prepared statements");
        Predicate<String> cached = options.getPreparedStatementCacheSqlFilter();
        String longest = "x".repeat(63);
        BusTable table = new BusTable(longest, longest.substring(0, 50));
        List<String> checked = new ArrayList<>();
        for (Method method : BusTable.class.getMethods()) {
            if (method.getReturnType() != String.class || method.getParameterCount() != 0
                    || Modifier.isStatic(method.getModifiers()) || method.getDeclaringClass() != BusTable.class) {
                continue;
            }
            String sql = (String) method.invoke(table);
            checked.add(method.getName());
            assertTrue(cached.test(sql), method.getName() + " is " + sql.length()
                    + " characters, which the direct connection does not cache");
        }
        assertTrue(checked.contains("sequence"), "the sequencer's statement was not checked: " + checked);
    }
}
