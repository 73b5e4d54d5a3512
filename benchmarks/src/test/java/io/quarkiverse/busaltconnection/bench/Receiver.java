package io.quarkiverse.busaltconnection.bench;

/** Receive-side timing of the baseline and the peer, recorded as the application's listener records its own. */
final class Receiver {

    private final Latencies latencies = new Latencies();

    void record(String payload) {
        latencies.record(payload, Latencies.nowMicros());
    }

    int count() {
        return latencies.count();
    }

    double throughput() {
        return latencies.throughput();
    }

    double quantile(double q) {
        return latencies.quantileMillis(q);
    }

    void await(int expected, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (count() < expected && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        if (count() < expected) {
            throw new IllegalStateException("received " + count() + " of " + expected);
        }
    }
}
