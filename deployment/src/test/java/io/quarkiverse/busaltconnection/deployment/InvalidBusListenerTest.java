package io.quarkiverse.busaltconnection.deployment;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;

import jakarta.enterprise.inject.spi.DeploymentException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkus.test.QuarkusUnitTest;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.common.annotation.NonBlocking;

/**
 * Every bad @BusListener method fails the build, all of them in one message, each named with what to change.
 */
class InvalidBusListenerTest {

    @RegisterExtension
    static final QuarkusUnitTest BUILD = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(BadListeners.class))
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            .assertException(failure -> {
                DeploymentException deployment = find(failure);
                String message = deployment.getMessage();
                String bean = BadListeners.class.getName();
                for (String expected : List.of(
                        bean + "#twoPayloads(java.lang.String, java.lang.Integer) takes two payload parameters",
                        bean + "#noChannel(java.lang.String) names no channel",
                        bean + "#nulInChannel(java.lang.String): the channel name 'a\\0b' contains a NUL character",
                        bean + "#returnsText(java.lang.String) returns java.lang.String",
                        bean + "#onStatic(java.lang.String) is static",
                        bean + "#generic(T) takes a payload of type T, which is not a concrete type",
                        bean + "#twoMessages(io.quarkiverse.busaltconnection.BusMessage,"
                                + " io.quarkiverse.busaltconnection.BusMessage) takes BusMessage twice",
                        bean + "#bothModels(java.lang.String) combines @Blocking and @NonBlocking",
                        bean + "#badGroupName(java.lang.String) names the group 'a group'",
                        bean + "#nonBlockingGroup(java.lang.String) is @NonBlocking in group 'billing'",
                        bean + "#plainGroup(java.lang.String) asks for plain notifications in group 'billing'")) {
                    assertTrue(message.contains(expected), "missing <" + expected + "> in:\n" + message);
                }
                assertTrue(!message.contains("#fine(") && !message.contains("#fineLong("),
                        "a valid listener was reported:\n" + message);
            });

    @Test
    void buildFails() {
        fail("the build must fail on the invalid @BusListener methods");
    }

    private static DeploymentException find(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof DeploymentException deployment && deployment.getMessage().contains("@BusListener")) {
                return deployment;
            }
        }
        throw new AssertionError("no DeploymentException about @BusListener in the chain", failure);
    }

    static class BadListeners {

        @BusListener("fine")
        void fine(String payload, BusMessage message) {
        }

        @BusListener(value = "groups", group = "a group")
        void badGroupName(String payload) {
        }

        @BusListener(value = "groups", group = "billing")
        @NonBlocking
        void nonBlockingGroup(String payload) {
        }

        @BusListener(value = "groups", group = "billing", plainNotifications = true)
        void plainGroup(String payload) {
        }

        @BusListener("two")
        void twoPayloads(String first, Integer second) {
        }

        @BusListener
        void noChannel(String payload) {
        }

        @BusListener("a\0b")
        void nulInChannel(String payload) {
        }

        /** Valid: bus channels have no length limit (only plain NOTIFY interop needs 63 bytes or less). */
        @BusListener("a-channel-name-longer-than-postgresql-identifiers-may-be-which-is-sixty-three-bytes")
        void fineLong(String payload) {
        }

        @BusListener("text")
        String returnsText(String payload) {
            return payload;
        }

        @BusListener("static")
        static void onStatic(String payload) {
        }

        @BusListener("generic")
        <T> void generic(T payload) {
        }

        @BusListener("messages")
        void twoMessages(BusMessage first, BusMessage second) {
        }

        @BusListener("models")
        @Blocking
        @NonBlocking
        void bothModels(String payload) {
        }
    }
}
