package io.quarkiverse.busaltconnection.runtime.listen;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * Exponential backoff with jitter, never giving up, for the listening connection's reconnections: attempt number
 * (from 0) to delay in milliseconds. The delay of attempt n is drawn from [d/2, d] with
 * d = min(max, initial * 2^n), so instances that lost PostgreSQL together do not hammer it together.
 */
final class ReconnectBackoff implements Function<Integer, Long> {

    private final long initialMillis;
    private final long maxMillis;

    ReconnectBackoff(Duration initial, Duration max) {
        this.initialMillis = Math.max(1, initial.toMillis());
        this.maxMillis = Math.max(initialMillis, max.toMillis());
    }

    @Override
    public Long apply(Integer attempt) {
        long ceiling = maxMillis;
        // Only shift while the result still fits in a positive long; past that the ceiling is long reached.
        if (attempt < Long.numberOfLeadingZeros(initialMillis) - 1) {
            ceiling = Math.min(maxMillis, initialMillis << attempt);
        }
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    }
}
