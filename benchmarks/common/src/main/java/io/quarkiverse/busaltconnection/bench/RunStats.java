package io.quarkiverse.busaltconnection.bench;

/**
 * What a receiver saw of one run. Percentiles are null when there are too few samples to support them (see
 * {@link Latencies#quantileMillis}); times are wall-clock microseconds.
 */
public record RunStats(int count, long firstScheduledMicros, long lastReceivedMicros, Double p50, Double p99,
        Double p999) {

    /** Messages per second from the first message's scheduled send to the last receipt. */
    public double throughput() {
        long span = lastReceivedMicros - firstScheduledMicros;
        return count == 0 || span <= 0 ? Double.NaN : count / (span / 1e6);
    }
}
