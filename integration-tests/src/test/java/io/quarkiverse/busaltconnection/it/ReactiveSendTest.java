package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.ReactiveBus;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * Sends from reactive code through the application's reactive datasource, which goes through PgBouncer with the
 * settings the extension gives it: in a Vert.x transaction that commits (delivered), one that rolls back (never
 * written), and through the pool alone (a transaction of its own: without layer-7-proxy mode, PgBouncer runs its
 * execution on another server connection than its preparation, and it fails).
 */
@QuarkusTest
class ReactiveSendTest {

    private static final String CHANNEL = "greetings";

    @Inject
    ReactiveBus bus;

    /** The application's default reactive datasource: Dev Services point it at PgBouncer. */
    @Inject
    Pool pool;

    @Test
    void aSendInATransactionThatCommitsIsDeliveredAndOneThatRollsBackIsNeverWritten() throws Exception {
        String committed = DeliveryTest.unique("reactive-commit");
        String rolledBack = DeliveryTest.unique("reactive-rollback");
        pool.withTransaction(connection -> bus.send(connection, CHANNEL, committed)
                .chain(() -> connection.query("SELECT 1").execute())).await().atMost(Duration.ofSeconds(10));
        assertThrows(IllegalStateException.class, () -> pool.withTransaction(connection -> bus.send(connection,
                CHANNEL, rolledBack).chain(
                        () -> io.smallrye.mutiny.Uni.createFrom().failure(
                                new IllegalStateException("withdrawn"))))
                .await().atMost(Duration.ofSeconds(10)));
        await().atMost(Duration.ofSeconds(10)).until(() -> received().contains(committed + "@" + CHANNEL));
        assertEquals(0, rows(rolledBack), "the rolled-back send was written");
        assertEquals(1, rows(committed));
    }

    @Test
    void aSendThroughThePoolIsATransactionOfItsOwn() {
        String alone = DeliveryTest.unique("reactive-alone");
        bus.send(pool, CHANNEL, "key-1", alone).await().atMost(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> received().contains(alone + "@" + CHANNEL));
    }

    @Test
    void aBadMessageFailsBeforeTheDatabase() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> bus.send(pool, CHANNEL, "nul \0 inside").await().atMost(Duration.ofSeconds(10)));
        assertTrue(refused.getMessage().contains("NUL"), refused.getMessage());
    }

    private static List<String> received() {
        return given().get("/bus/received/" + CHANNEL).then().statusCode(200).extract().jsonPath()
                .getList("", String.class).stream().map(entry -> entry.replaceAll("#\\d+$", "")).toList();
    }

    private static long rows(String payload) throws Exception {
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT count(*) FROM imdispatcher_bus WHERE payload = ?")) {
            select.setString(1, payload);
            try (ResultSet row = select.executeQuery()) {
                row.next();
                return row.getLong(1);
            }
        }
    }
}
