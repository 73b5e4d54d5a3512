package io.quarkiverse.busaltconnection.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkus.test.QuarkusUnitTest;

/**
 * IMDISPATCHER_DB_HOST / IMDISPATCHER_DB_PORT (the Odoo module's variables, set for this test's own JVM in the
 * module's pom) are read when quarkus.imdispatcher.db-host / db-port are not set: the listener tries to reach them.
 */
class SeedEnvironmentVariablesTest {

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(OneListener.class))
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            .overrideConfigKey("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:5/app")
            .overrideConfigKey("quarkus.datasource.username", "app")
            .assertException(failure -> {
                StringBuilder messages = new StringBuilder();
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    messages.append(t.getMessage()).append('\n');
                }
                String host = System.getenv("IMDISPATCHER_DB_HOST");
                String port = System.getenv("IMDISPATCHER_DB_PORT");
                assertEquals("127.0.0.1", host, "the module's pom sets IMDISPATCHER_DB_HOST");
                assertTrue(messages.toString().contains("at " + host + ":" + port + "/app as user app"),
                        messages.toString());
            });

    @Test
    void listenerUsesTheSeedVariables() {
        fail("startup must fail: nothing listens where the variables point");
    }

    static class OneListener {
        @BusListener("anything")
        void on(String payload) {
        }
    }
}
