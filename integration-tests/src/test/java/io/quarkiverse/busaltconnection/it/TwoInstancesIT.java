package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.restassured.RestAssured;
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

    @Test
    void whenTheSequencersConnectionIsKilledAnotherInstanceTakesOverAndNothingIsLost() throws Exception {
        String run = DeliveryTest.unique("takeover");
        int count = 60;
        Set<Integer> holders = new HashSet<>();
        for (int i = 0; i < count; i++) {
            String base = i % 2 == 0 ? null : SecondInstance.url();
            var request = given().contentType(ContentType.TEXT).body(run + ":" + i);
            if (base != null) {
                request = request.baseUri(base);
            }
            request.post("/bus/send/" + Channels.SEQUENCE).then().statusCode(204);
            if (i % 15 == 7) {
                int holder = sequencerPid();
                holders.add(holder);
                assertTrue(BusEngineTest.terminate(holder), "could not kill the sequencer's backend " + holder);
                // Another instance (or the same one, reconnected) holds the lock again within a sweep or two.
                await().atMost(Duration.ofSeconds(20)).until(() -> sequencerPid() > 0 && sequencerPid() != holder);
            }
        }
        List<String> expected = IntStream.range(0, count).mapToObj(i -> run + ":" + i).toList();
        for (String base : List.of(RestAssured.baseURI + ":" + RestAssured.port, SecondInstance.url())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> mine(base, run).size() >= count);
            assertEquals(expected, mine(base, run), "lost, doubled or out of order at " + base);
        }
        assertTrue(holders.size() >= 2, "the sequencer's backend was killed only " + holders.size() + " time(s)");
    }

    /** The backend holding the sequencer's advisory lock (pg_try_advisory_lock(hashtext(table), 1)), or 0. */
    private static int sequencerPid() throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement holder = connection.prepareStatement("SELECT pid FROM pg_locks WHERE"
                        + " locktype = 'advisory' AND granted AND objsubid = 2 AND objid = 1"
                        + " AND classid = (hashtext('imdispatcher_bus')::bigint & 4294967295)::oid")) {
            try (ResultSet result = holder.executeQuery()) {
                return result.next() ? result.getInt(1) : 0;
            }
        }
    }

    private static List<String> mine(String base, String run) {
        return given().baseUri(base).get("/bus/received/sequence").then().statusCode(200).extract().jsonPath()
                .getList("$", String.class).stream().filter(e -> e.startsWith(run + ":")).toList();
    }

    private static List<String> received(String baseUri) {
        return given().baseUri(baseUri).get("/bus/received/greetings").then().statusCode(200).extract().jsonPath()
                .getList("$", String.class);
    }
}
