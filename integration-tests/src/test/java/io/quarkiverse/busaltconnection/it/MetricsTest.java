package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;

/**
 * The bus's meters in /q/metrics (Prometheus registry) follow known traffic: N sent gives N delivered, lag goes back
 * to 0, a killed listener backend adds a reconnection; PgBouncer's pools show under pgbouncer_exporter's names; the
 * startup check is there.
 */
@QuarkusTest
class MetricsTest {

    private static final String GREETING = "listener=\"io.quarkiverse.busaltconnection.it.Listeners#greeting("
            + "java.lang.String, io.quarkiverse.busaltconnection.BusMessage)\"";

    @Inject
    BusStatus status;

    @Inject
    Vertx vertx;

    @Test
    void sentAndDeliveredCountTheMessagesAndLagReturnsToZero() {
        double sentBefore = PrometheusScrape.valueOrZero("imdispatcher_messages_sent_total", "channel=\"greetings\"");
        double deliveredBefore = PrometheusScrape.valueOrZero("imdispatcher_messages_delivered_total",
                "channel=\"greetings\"", GREETING, "outcome=\"success\"");
        String run = DeliveryTest.unique("metrics");
        IntStream.range(0, 5).forEach(i -> DeliveryTest.send("greetings", run + "-" + i));

        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertEquals(deliveredBefore + 5,
                PrometheusScrape.required("imdispatcher_messages_delivered_total", "channel=\"greetings\"",
                        GREETING, "outcome=\"success\"")));
        assertEquals(sentBefore + 5, PrometheusScrape.required("imdispatcher_messages_sent_total",
                "channel=\"greetings\""));
        // A lag gauge that is missing fails here: it does not count as 0.
        await().atMost(Duration.ofSeconds(15)).untilAsserted(
                () -> assertEquals(0.0, PrometheusScrape.required("imdispatcher_listener_lag", GREETING)));
        assertTrue(PrometheusScrape.required("imdispatcher_delivery_latency_seconds_count",
                "channel=\"greetings\"") >= 5);
        assertTrue(PrometheusScrape.required("imdispatcher_listener_duration_seconds_count", GREETING) >= 5);
        assertEquals(1.0, PrometheusScrape.required("imdispatcher_listener_connected"));
        assertTrue(PrometheusScrape.value("imdispatcher_http_clients", "kind=\"sse\"").isPresent());
        await().atMost(Duration.ofSeconds(5)).until(() -> PrometheusScrape.value(
                "imdispatcher_notification_queue_usage").orElse(Double.NaN) >= 0);
    }

    @Test
    void pgbouncerPoolsAreGaugesNamedAsPgbouncerExporterNamesThem() {
        String pool = "database=\"" + Servers.database() + "\"";
        String user = "user=\"" + Servers.user() + "\"";
        DeliveryTest.send("greetings", DeliveryTest.unique("pool-traffic"));
        await().atMost(Duration.ofSeconds(30)).until(() -> PrometheusScrape.value(
                "pgbouncer_pools_client_active_connections", pool, user).isPresent());
        for (String gauge : List.of("pgbouncer_pools_client_waiting_connections",
                "pgbouncer_pools_server_active_connections", "pgbouncer_pools_server_idle_connections",
                "pgbouncer_pools_client_maxwait_seconds")) {
            assertTrue(PrometheusScrape.value(gauge, pool, user).isPresent(), gauge + " is missing");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> PrometheusScrape.value(
                "pgbouncer_stats_queries_pooled_total", pool).orElse(0) > 0);
        // The gauges say what PgBouncer says: the application's pooled connections are its active clients.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Row pools = showPools();
            assertEquals(pools.getInteger("cl_active").doubleValue(), PrometheusScrape.required(
                    "pgbouncer_pools_client_active_connections", pool, user), "cl_active");
            assertEquals(pools.getInteger("sv_idle").doubleValue(), PrometheusScrape.required(
                    "pgbouncer_pools_server_idle_connections", pool, user), "sv_idle");
        });
        // The seed article's advice, in the readiness check's details.
        given().get("/q/health/ready").then().body("checks.find { it.name == 'Bus Alt Connection listener' }.data",
                hasKey("pgbouncer cl_waiting"));
    }

    @Test
    void theStartupCheckIsUp() {
        given().get("/q/health/started").then().statusCode(200)
                .body("checks.find { it.name == 'Bus Alt Connection first LISTEN' }.status", equalTo("UP"));
    }

    @Test
    void aKilledListenerBackendCountsOneReconnection() throws Exception {
        double before = PrometheusScrape.required("imdispatcher_listener_reconnections_total");
        int pid = status.backendPid();
        assertTrue(BusEngineTest.terminate(pid));
        await().atMost(Duration.ofSeconds(20)).until(() -> status.listening() && status.backendPid() != pid);
        assertEquals(before + 1, PrometheusScrape.required("imdispatcher_listener_reconnections_total"));
    }

    private Row showPools() throws Exception {
        return PgBouncerAdmin.show(vertx, "POOLS").stream()
                .filter(row -> Servers.database().equals(row.getString("database"))
                        && Servers.user().equals(row.getString("user")))
                .findFirst().orElseThrow();
    }
}
