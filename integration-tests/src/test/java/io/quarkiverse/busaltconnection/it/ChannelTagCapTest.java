package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * {@code metrics.max-channel-tags} bounds the series of the real meters in /q/metrics: past the cap, channels are
 * counted under {@code channel="other"}.
 */
@QuarkusTest
// The profile sets max-channel-tags=2; shared with ProbeIntervalDisabledTest, to start the application once for both.
@TestProfile(ProbeIntervalDisabledTest.IntervalDisabled.class)
class ChannelTagCapTest {

    @Test
    void channelsPastTheCapShareTheOtherSeries() {
        String run = DeliveryTest.unique("tag-cap");
        IntStream.range(0, 5).forEach(i -> DeliveryTest.send(run + "-" + i, "counted"));
        await().atMost(Duration.ofSeconds(10)).until(() -> PrometheusScrape.value("imdispatcher_messages_sent_total",
                "channel=\"other\"").orElse(0) >= 3);
        String scrape = given().get("/q/metrics").then().statusCode(200).extract().asString();
        long named = Arrays.stream(scrape.split("\n"))
                .filter(line -> line.startsWith("imdispatcher_messages_sent_total{"))
                .filter(line -> !line.contains("channel=\"other\"")).count();
        assertTrue(named <= 2, "more than 2 named channel series:\n" + scrape);
    }
}
