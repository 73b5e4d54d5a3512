package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * With the sweep an hour away, a message reaches its listener only through the wake-ups: the sender's, which only the
 * sequencer listens for, and the sequencer's head hint. After the listening connection is lost, the instance takes
 * the sequencer's lock again on the new connection and must listen for the senders' wake-ups there too.
 */
@QuarkusTest
@TestProfile(ProbeIntervalDisabledTest.IntervalDisabled.class)
class WakeUpsOnlyTest {

    @Inject
    BusStatus status;

    @Test
    void theSequencerHearsTheSendersAtStartAndAfterItsConnectionWasLost() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(status::sequencing);
        delivered("wake-up-first");

        int before = status.backendPid();
        assertTrue(BusEngineTest.terminate(before), "could not end the listening backend " + before);
        await().atMost(Duration.ofSeconds(20)).until(() -> status.listening() && status.sequencing()
                && status.backendPid() != before);
        delivered("wake-up-after-reconnect");
        delivered("wake-up-again");
    }

    private static void delivered(String prefix) {
        String text = DeliveryTest.unique(prefix);
        DeliveryTest.send("greetings", text);
        await().atMost(Duration.ofSeconds(15))
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(text + "@")));
    }
}
