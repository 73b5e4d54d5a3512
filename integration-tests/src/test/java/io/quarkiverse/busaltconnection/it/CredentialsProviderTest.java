package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.hamcrest.Matchers;
import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The direct connections take their user and password from a CredentialsProvider, over a wrong username and
 * password, and ask it again when the listener reconnects.
 */
@QuarkusTest
@TestProfile(CredentialsProviderTest.FromAProvider.class)
class CredentialsProviderTest {

    public static class FromAProvider implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.imdispatcher.credentials-provider", "bus-listener",
                    "quarkus.imdispatcher.credentials-provider-name", "counting-credentials",
                    // The provider wins: with these, the listener could not log in.
                    "quarkus.imdispatcher.username", "nobody",
                    "quarkus.imdispatcher.password", "wrong");
        }
    }

    @Inject
    CountingCredentialsProvider provider;

    @Inject
    BusStatus status;

    @Test
    void theListenerLogsInWithTheProvidersCredentialsAndAsksAgainOnReconnection() throws Exception {
        assertTrue(status.listening());
        assertEquals("bus-listener", provider.lastCredentialsName);
        int askedBefore = provider.asked.get();
        assertTrue(askedBefore >= 1, "asked " + askedBefore + " times");

        int pid = status.backendPid();
        assertTrue(BusEngineTest.terminate(pid), "the listener's backend " + pid + " was not found");
        await().atMost(Duration.ofSeconds(20))
                .until(() -> status.listening() && status.backendPid() != pid);
        assertTrue(provider.asked.get() > askedBefore, "the provider was not asked again on reconnection");

        String payload = "credentials-" + UUID.randomUUID();
        given().contentType("text/plain").body(payload).post("/bus/send/greetings").then().statusCode(204);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> given().get("/bus/received/greetings").then()
                .body("findAll { it.startsWith('" + payload + "@greetings#') }.size()", Matchers.is(1)));
    }
}
