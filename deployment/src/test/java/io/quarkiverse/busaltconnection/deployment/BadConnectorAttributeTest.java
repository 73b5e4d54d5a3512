package io.quarkiverse.busaltconnection.deployment;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkus.test.QuarkusUnitTest;

/** A connector attribute the bus cannot use fails startup, naming the key and what to set. */
class BadConnectorAttributeTest {

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(OrderConsumer.class))
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            .overrideConfigKey("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:1/app")
            .overrideConfigKey("mp.messaging.incoming.orders-in.connector", "bus-alt-connection")
            .overrideConfigKey("mp.messaging.incoming.orders-in.failure-strategy", "dead-letter-queue")
            .assertException(failure -> {
                StringBuilder messages = new StringBuilder();
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    messages.append(t.getMessage()).append('\n');
                }
                String text = messages.toString();
                assertTrue(text.contains("mp.messaging.incoming.orders-in.failure-strategy is 'dead-letter-queue';"
                        + " set fail, ignore, dead-letter or retry"), text);
            });

    @Test
    void startupFails() {
        fail("startup must fail on a failure strategy the connector does not have");
    }

    static class OrderConsumer {
        @Incoming("orders-in")
        void consume(String order) {
        }
    }
}
