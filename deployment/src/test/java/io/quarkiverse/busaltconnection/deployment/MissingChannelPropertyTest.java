package io.quarkiverse.busaltconnection.deployment;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkus.test.QuarkusUnitTest;

/** A {@code ${...}} channel whose property is not set fails startup naming the method and the property. */
class MissingChannelPropertyTest {

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(ConfiguredListener.class))
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            .overrideConfigKey("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:1/app")
            .assertException(failure -> {
                StringBuilder messages = new StringBuilder();
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    messages.append(t.getMessage()).append('\n');
                }
                String text = messages.toString();
                assertTrue(text.contains("ConfiguredListener#on(java.lang.String)"), text);
                assertTrue(text.contains("the property 'orders.channel' is not set"), text);
            });

    @Test
    void startupFails() {
        fail("startup must fail when a listener's channel property is missing");
    }

    static class ConfiguredListener {
        @BusListener("${orders.channel}")
        void on(String payload) {
        }
    }
}
