package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;

import java.time.Duration;

import io.quarkiverse.busaltconnection.BusStatus;

/** The live feed's subscribers, for tests that count their own HTTP clients. */
final class Subscribers {

    private Subscribers() {
    }

    /**
     * Waits until the HTTP clients of earlier tests are gone (a closed stream or a long-poll that timed out leaves a
     * moment later), so that a test's own clients are the only ones it counts.
     */
    static int none(BusStatus status) {
        await().atMost(Duration.ofSeconds(15)).until(() -> status.httpClients() == 0);
        return 0;
    }
}
