package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.scheduler.Scheduler;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * {@code probe.interval=disabled} and {@code bus.cleanup-interval=off}, which quarkus-scheduler accepts for any job,
 * turn the periodic probe and the retention job off; the bus still delivers.
 */
@QuarkusTest
@TestProfile(ProbeIntervalDisabledTest.IntervalDisabled.class)
class ProbeIntervalDisabledTest {

    /**
     * Shared with ChannelTagCapTest, WakeUpsOnlyTest, HttpLimitsTest and SequencerLingerOffTest (one application start
     * for all five): the tag cap changes nothing here, nor does the sweep an hour away (delivery rests on the wake-ups,
     * as it does between sweeps), nor the cap of HTTP clients, nor runs that never wait for messages to gather.
     */
    public static class IntervalDisabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.imdispatcher.probe.interval", "disabled",
                    "quarkus.imdispatcher.bus.cleanup-interval", "off",
                    "quarkus.imdispatcher.metrics.max-channel-tags", "2",
                    "quarkus.imdispatcher.bus.sweep-interval", "1h",
                    "quarkus.imdispatcher.http.max-clients", "2",
                    "quarkus.imdispatcher.bus.sequencer-linger", "0");
        }
    }

    @Inject
    Scheduler scheduler;

    @Test
    void neitherJobIsScheduled() {
        assertNull(scheduler.getScheduledJob("imdispatcher-listener-probe"), "the probe job is scheduled");
        assertNull(scheduler.getScheduledJob("imdispatcher-bus-retention"), "the retention job is scheduled");
    }

    @Test
    void readinessIsUpAndTheBusDelivers() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        String text = DeliveryTest.unique("disabled-interval");
        DeliveryTest.send("greetings", text);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(text + "@")));
    }
}
