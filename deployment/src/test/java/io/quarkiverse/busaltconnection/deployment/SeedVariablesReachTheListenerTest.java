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
 * module's pom) are read, and win over application properties as any environment variable does, while
 * QUARKUS_IMDISPATCHER_DB_PORT wins over IMDISPATCHER_DB_PORT: the listener tries 127.0.0.9:10.
 */
class SeedVariablesReachTheListenerTest {

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(OneListener.class))
            // The listener's path is under test: the bus does not ask the (unreachable) datasource for its schema.
            .overrideConfigKey("quarkus.imdispatcher.bus.schema", "public")
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            .overrideConfigKey("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:5/app")
            .overrideConfigKey("quarkus.datasource.username", "app")
            .overrideConfigKey("quarkus.imdispatcher.db-host", "from-properties.invalid")
            .overrideConfigKey("quarkus.imdispatcher.db-port", "11")
            .assertException(failure -> {
                StringBuilder messages = new StringBuilder();
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    messages.append(t.getMessage()).append('\n');
                }
                assertEquals("127.0.0.9", System.getenv("IMDISPATCHER_DB_HOST"), "set in the module's pom");
                assertEquals("10", System.getenv("QUARKUS_IMDISPATCHER_DB_PORT"), "set in the module's pom");
                assertTrue(messages.toString().contains("at 127.0.0.9:10/app as user app"), messages.toString());
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
