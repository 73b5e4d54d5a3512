package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.http.ContentType;

/**
 * Two instances of the packaged application, each in its own JVM, on one PostgreSQL behind one PgBouncer: each
 * instance's listeners receive what the other sends.
 */
@QuarkusIntegrationTest
@QuarkusTestResource(value = SecondInstance.class, restrictToAnnotatedClass = true)
class TwoInstancesIT {

    @Test
    void eachInstanceReceivesWhatTheOtherSends() {
        String fromFirst = DeliveryTest.unique("from-first");
        given().contentType(ContentType.TEXT).body(fromFirst).post("/bus/send/greetings").then().statusCode(204);
        await().atMost(Duration.ofSeconds(20)).until(() -> received(SecondInstance.url()).stream()
                .anyMatch(entry -> entry.startsWith(fromFirst + "@")));

        String fromSecond = DeliveryTest.unique("from-second");
        given().baseUri(SecondInstance.url()).contentType(ContentType.TEXT).body(fromSecond)
                .post("/bus/send/greetings").then().statusCode(204);
        await().atMost(Duration.ofSeconds(20)).until(() -> DeliveryTest.received("greetings").stream()
                .anyMatch(entry -> entry.startsWith(fromSecond + "@")));
    }

    private static List<String> received(String baseUri) {
        return given().baseUri(baseUri).get("/bus/received/greetings").then().statusCode(200).extract().jsonPath()
                .getList("$", String.class);
    }
}
