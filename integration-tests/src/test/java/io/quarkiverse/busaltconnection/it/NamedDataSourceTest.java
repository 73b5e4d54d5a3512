package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The bus on a named datasource ({@code quarkus.imdispatcher.datasource=bus}): Dev Services configure that
 * datasource, the direct connection takes its database from it, and messages go through while the default
 * datasource points at nothing.
 */
@QuarkusTest
@TestProfile(NamedDataSourceTest.BusOnItsOwnDataSource.class)
class NamedDataSourceTest {

    public static class BusOnItsOwnDataSource implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.imdispatcher.datasource", "bus",
                    // The tests' entity lives where the bus does: the default datasource leads nowhere.
                    "quarkus.hibernate-orm.datasource", "bus",
                    "quarkus.datasource.bus.db-kind", "postgresql",
                    "quarkus.datasource.db-kind", "postgresql",
                    // Were the bus to use the default datasource, or take its database from it, nothing would work.
                    "quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:1/nowhere");
        }
    }

    @Inject
    BusDataSource busDataSource;

    @Test
    void messagesGoThroughTheNamedDataSource() {
        assertEquals("bus", busDataSource.name());
        String url = ConfigProvider.getConfig().getValue("quarkus.datasource.\"bus\".jdbc.url", String.class);
        assertTrue(url.startsWith("jdbc:postgresql://"), "Dev Services configure the bus's datasource: " + url);

        String payload = "named-" + UUID.randomUUID();
        given().contentType("text/plain").body(payload).post("/bus/send/greetings").then().statusCode(204);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> given().get("/bus/received/greetings").then()
                .body("findAll { it.startsWith('" + payload + "@greetings#') }.size()", org.hamcrest.Matchers.is(1)));
        given().get("/bus/listener").then().body("listening", org.hamcrest.Matchers.is(true));
    }
}
