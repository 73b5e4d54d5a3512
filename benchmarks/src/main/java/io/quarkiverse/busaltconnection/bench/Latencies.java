package io.quarkiverse.busaltconnection.bench;

import java.util.Arrays;

/** Receive-side measurements of one benchmark run: count, first send, last receive, latencies in microseconds. */
public final class Latencies {

    private long[] latencies = new long[1024];
    private int count;
    private long firstSentMicros = Long.MAX_VALUE;
    private long lastReceivedMicros;

    /** @param payload {@code run:sequence:sentMicros} */
    public synchronized void record(String payload, long receivedMicros) {
        long sent = Long.parseLong(payload.substring(payload.lastIndexOf(':') + 1));
        if (count == latencies.length) {
            latencies = Arrays.copyOf(latencies, count * 2);
        }
        latencies[count++] = receivedMicros - sent;
        firstSentMicros = Math.min(firstSentMicros, sent);
        lastReceivedMicros = Math.max(lastReceivedMicros, receivedMicros);
    }

    public synchronized int count() {
        return count;
    }

    /** Messages per second from the first send to the last receipt. */
    public synchronized double throughput() {
        return count == 0 ? 0 : count / ((lastReceivedMicros - firstSentMicros) / 1e6);
    }

    /** The q-quantile (0 < q < 1) of latency, in milliseconds. */
    public synchronized double quantileMillis(double q) {
        if (count == 0) {
            return Double.NaN;
        }
        long[] sorted = Arrays.copyOf(latencies, count);
        Arrays.sort(sorted);
        return sorted[Math.min(count - 1, (int) Math.ceil(q * count) - 1)] / 1000.0;
    }

    public static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }
}
