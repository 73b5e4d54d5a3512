package io.quarkiverse.busaltconnection.deployment.devservices;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkus.test.QuarkusUnitTest;

/**
 * With the datasource's JDBC URL set, Dev Services stand down (they are not turned off here): the application uses
 * the servers it names, so its listener fails on their closed port rather than reaching a started PostgreSQL.
 */
class DevServicesStandDownTest {

    private static final int CLOSED_PORT = closedPort();

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(OneListener.class))
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

    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
