package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * {@code quarkus.imdispatcher.bus.sequencer-linger=0}: the sequencer never waits for messages to gather, and a fast
 * sender's messages meet runs of one or a few again (see {@link SequencerFillTest}).
 */
@QuarkusTest
@TestProfile(ProbeIntervalDisabledTest.IntervalDisabled.class)
class SequencerLingerOffTest {

    @Inject
    Bus bus;

    @Test
    void aFastSendersMessagesMeetRunsOfTheirOwn() {
        String fast = DeliveryTest.unique("unlingered");
        double gathering = SequencerFillTest.send(bus, fast, 1_200, TimeUnit.MICROSECONDS.toNanos(1_500), true);
        long runs = SequencerFillTest.runs(fast, 1_200);
        assertTrue(runs >= 300, runs + " runs numbered 1,200 messages sent 650 a second: they waited to gather");
        assertEquals(0.0, gathering, "run spacing while they came");
    }
}
