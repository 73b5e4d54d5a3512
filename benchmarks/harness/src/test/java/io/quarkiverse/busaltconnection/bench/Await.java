package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;

/** Waits for a receiver to reach a count: until it does, nothing more arrives for a while, or time is up. */
final class Await {

    @FunctionalInterface
    interface Count {
        long get() throws Exception;
    }

    private Await() {
    }

    /** The last count seen; looked at every 20 ms. */
    static long count(long expected, Duration max, Duration stall, Count count) throws Exception {
        return count(expected, max, stall, Duration.ofMillis(20), count);
    }

    /**
     * The last count seen, looked at every {@code interval}: a count that costs the machine something (a query) is
     * looked at less often while what it counts is measured.
     */
    static long count(long expected, Duration max, Duration stall, Duration interval, Count count) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        long seen = count.get();
        long progressAt = System.nanoTime();
        while (seen < expected && System.nanoTime() < deadline && System.nanoTime() - progressAt < stall.toNanos()) {
            Thread.sleep(interval.toMillis());
            long now = count.get();
            if (now > seen) {
                progressAt = System.nanoTime();
            }
            seen = now;
        }
        return seen;
    }

    /** Enough time for a backlog of {@code sent} messages: generous, as a stalled receiver ends the wait anyway. */
    static Duration drain(long sent) {
        return Duration.ofSeconds(60 + sent / 500);
    }

    static final Duration STALL = Duration.ofSeconds(20);
}
