package io.quarkiverse.busaltconnection.bench;

/**
 * Receive-side timing of one run of a baseline or the peer in this JVM, kept as the receiving application keeps its
 * own. Messages of other runs (late arrivals of an earlier one) do not count.
 */
final class Receiver {

    private final String run;
    private final Latencies latencies = new Latencies();

    Receiver(String run) {
        this.run = run;
    }

    void record(String payload) {
        long now = Payloads.nowMicros();
        if (payload.startsWith(run) && run.equals(Payloads.run(payload))) {
            latencies.record(payload, now);
        }
    }

    int count() {
        return latencies.count();
    }

    /** Waits until {@code expected} messages arrived (or arrivals stop), then the run's figures. */
    RunStats await(long expected) throws Exception {
        Await.count(expected, Await.drain(expected), Await.STALL, this::count);
        return latencies.stats();
    }
}
