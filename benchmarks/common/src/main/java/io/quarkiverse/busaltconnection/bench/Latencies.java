package io.quarkiverse.busaltconnection.bench;

import java.util.Arrays;

/** Receive-side record of one run: every message's latency from its scheduled send time, in microseconds. */
public final class Latencies {

    private long[] latencies = new long[1024];
    private int count;
    private long firstScheduledMicros = Long.MAX_VALUE;
    private long lastReceivedMicros;

    /** @param payload a {@link Payloads} text */
    public synchronized void record(String payload, long receivedMicros) {
        long scheduled = Payloads.scheduledMicros(payload);
        if (count == latencies.length) {
            latencies = Arrays.copyOf(latencies, count * 2);
        }
        latencies[count++] = receivedMicros - scheduled;
        firstScheduledMicros = Math.min(firstScheduledMicros, scheduled);
        lastReceivedMicros = Math.max(lastReceivedMicros, receivedMicros);
    }

    public synchronized int count() {
        return count;
    }

    public synchronized RunStats stats() {
        return new RunStats(count, count == 0 ? 0 : firstScheduledMicros, lastReceivedMicros, quantileMillis(0.5),
                quantileMillis(0.99), quantileMillis(0.999));
    }

    /**
     * The q-quantile of latency in milliseconds, or null when the samples cannot support it: a q-quantile needs at
     * least 1 / (1 - q) samples (p99: 100, p99.9: 1,000), else it is just the maximum of a small sample.
     */
    public synchronized Double quantileMillis(double q) {
        if (count == 0 || count < Math.round(1 / (1 - q))) {
            return null;
        }
        long[] sorted = Arrays.copyOf(latencies, count);
        Arrays.sort(sorted);
        return sorted[Math.min(count - 1, (int) Math.ceil(q * count) - 1)] / 1000.0;
    }
}
