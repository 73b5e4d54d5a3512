package io.quarkiverse.busaltconnection.deployment.devservices;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkus.test.QuarkusUnitTest;

/**
 * With containers asked for and no container runtime (the machines this project builds on have none), the build
 * fails at once with one message that says what to start or change. Where a container runtime shows, there is nothing
 * to test: skipped.
 */
@DisabledIf(value = "aContainerRuntimeShows", disabledReason = "a container runtime shows on this machine")
class NoContainerRuntimeTest {

    static boolean aContainerRuntimeShows() {
        return ContainerRuntimeTraces.find().isPresent();
    }

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(OneListener.class))
            .overrideConfigKey("quarkus.imdispatcher.devservices.mode", "container")
            .assertException(failure -> {
                StringBuilder messages = new StringBuilder();
                for (Throwable t = failure; t != null; t = t.getCause()) {
                    messages.append(t.getMessage()).append('\n');
                }
                String text = messages.toString();
                assertTrue(text.contains("Dev Services for Bus Alt Connection cannot start:"
                        + " quarkus.imdispatcher.devservices.mode is container, and no container runtime is available."
                        + " Start Docker or Podman"), text);
                // Quarkus's own datasource Dev Service stood down: its complaint is not there.
                assertTrue(!text.contains("Please configure the datasource URL"), text);
            });

    @Test
    void buildFails() {
        fail("the build must fail without a container runtime");
    }

    static class OneListener {
        @BusListener("anything")
        void on(String payload) {
        }
    }
}
