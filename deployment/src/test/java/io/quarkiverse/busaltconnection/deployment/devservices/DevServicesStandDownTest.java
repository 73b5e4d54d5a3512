package io.quarkiverse.busaltconnection.deployment.devservices;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.deployment.ClosedPort;
import io.quarkus.test.QuarkusUnitTest;

/**
 * With the datasource's JDBC URL set, Dev Services stand down (they are not turned off here): the application uses
 * the servers it names, so its listener fails on their closed port rather than reaching a started PostgreSQL.
 */
class DevServicesStandDownTest {

    private static final int CLOSED_PORT = ClosedPort.find();

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(OneListener.class))
            // The listener's path is under test: the bus does not ask the (unreachable) datasource for its schema.
            .overrideConfigKey("quarkus.imdispatcher.bus.schema", "public")
            .overrideConfigKey("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + CLOSED_PORT + "/own")
            .assertException(failure -> {
                StringBuilder messages = new StringBuilder();
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    messages.append(t.getMessage()).append('\n');
                }
                String text = messages.toString();
                assertTrue(text.contains("could not reach PostgreSQL at 127.0.0.1:" + CLOSED_PORT + "/own"), text);
            });

    @Test
    void startupUsesTheConfiguredServers() {
        fail("startup must fail: nothing listens where the datasource points");
    }

    static class OneListener {
        @BusListener("anything")
        void on(String payload) {
        }
    }
}
