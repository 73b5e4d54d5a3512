package io.quarkiverse.busaltconnection.bench;

import java.time.Instant;

/**
 * The text of every benchmark message: {@code run:sequence:scheduledMicros:} then padding up to a size. The scheduled
 * time travels in the message so that a receiver in any JVM of this machine measures latency from when the message
 * was due, not from when a sender that fell behind got round to it (no coordinated omission).
 */
public final class Payloads {

    private Payloads() {
    }

    /** {@code run} must not contain ':'; the result is at least as long as the header, else exactly {@code size}. */
    public static String of(String run, long sequence, long scheduledMicros, int size) {
        StringBuilder text = new StringBuilder(Math.max(size, 48)).append(run).append(':').append(sequence)
                .append(':').append(scheduledMicros).append(':');
        while (text.length() < size) {
            text.append('x');
        }
        return text.toString();
    }

    public static String run(String payload) {
        return payload.substring(0, payload.indexOf(':'));
    }

    public static long scheduledMicros(String payload) {
        int second = payload.indexOf(':', payload.indexOf(':') + 1);
        return Long.parseLong(payload, second + 1, payload.indexOf(':', second + 1), 10);
    }

    /** Wall-clock time in microseconds: the one clock every process of the run shares. */
    public static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }
}
