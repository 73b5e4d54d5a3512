package io.quarkiverse.busaltconnection.deployment;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkus.test.QuarkusUnitTest;

/**
 * When the listener cannot reach PostgreSQL, startup fails at once with a message naming the keys to fix, and
 * without the password (given as a property and in the JDBC URL). StartupChecksIT looks at the whole log.
 */
class UnreachableListenerTest {

    private static final int CLOSED_PORT = ClosedPort.find();

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(OneListener.class))
            // The listener's path is under test: the bus does not ask the (unreachable) datasource for its schema.
            .overrideConfigKey("quarkus.imdispatcher.bus.schema", "public")
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            // A password in the URL too: neither may show.
            .overrideConfigKey("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + CLOSED_PORT
                    + "/app?password=url-s3cret-not-logged")
            .overrideConfigKey("quarkus.datasource.username", "app")
            .overrideConfigKey("quarkus.datasource.password", "s3cret-not-logged")
            .overrideConfigKey("quarkus.imdispatcher.db-host", "127.0.0.1")
            .overrideConfigKey("quarkus.imdispatcher.db-port", String.valueOf(CLOSED_PORT))
            .assertException(failure -> {
                StringBuilder messages = new StringBuilder();
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    messages.append(t.getMessage()).append('\n');
                }
                String text = messages.toString();
                assertTrue(text.contains("could not reach PostgreSQL at 127.0.0.1:" + CLOSED_PORT + "/app as user app"),
                        text);
                assertTrue(text.contains("quarkus.imdispatcher.db-host") && text.contains("quarkus.imdispatcher.db-port"),
                        text);
                assertTrue(!text.contains("s3cret-not-logged"), "the password leaked into the error:\n" + text);
            });

    @Test
    void startupFails() {
        fail("startup must fail when the listener cannot connect");
    }

    static class OneListener {
        @BusListener("anything")
        void on(String payload) {
        }
    }
}
