package io.quarkiverse.busaltconnection.it;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Starts one {@link LocalPoolerStack} for the whole test run and points the application at it the way a production
 * deployment is set up: the datasource at PgBouncer, the listener at PostgreSQL directly.
 */
public class PoolerStackResource implements QuarkusTestResourceLifecycleManager {

    private LocalPoolerStack stack;

    @Override
    public Map<String, String> start() {
        stack = LocalPoolerStack.start();
        return Map.of(
                "quarkus.datasource.jdbc.url", stack.pgbouncerJdbcUrl(),
                "quarkus.datasource.username", LocalPoolerStack.USER,
                "quarkus.datasource.password", LocalPoolerStack.PASSWORD,
                "quarkus.imdispatcher.db-host", "127.0.0.1",
                "quarkus.imdispatcher.db-port", String.valueOf(stack.postgresPort()),
                "it.postgres.jdbc-url", stack.postgresJdbcUrl(),
                "it.pgbouncer.port", String.valueOf(stack.pgbouncerPort()));
    }

    @Override
    public void stop() {
        if (stack != null) {
            stack.close();
        }
    }
}
