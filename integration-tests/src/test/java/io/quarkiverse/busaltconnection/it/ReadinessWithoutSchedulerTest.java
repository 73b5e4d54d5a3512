package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Readiness does not depend on the periodic probe's scheduler job: with the scheduler disabled, the startup probe is
 * the one that counts, and readiness stays UP past the window in which periodic probes would have had to come back.
 */
@QuarkusTest
@TestProfile(ReadinessWithoutSchedulerTest.SchedulerDisabled.class)
class ReadinessWithoutSchedulerTest {

    public static class SchedulerDisabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.scheduler.enabled", "false", "quarkus.imdispatcher.probe.interval", "1s",
                    "quarkus.imdispatcher.probe.timeout", "1s");
        }
    }

    @Test
    void readinessStaysUpWithTheSchedulerDisabled() throws InterruptedException {
        // Two intervals plus the timeout: 3 s. A check that expected periodic probes would be DOWN by now.
        Thread.sleep(4_000);
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }
}
