package io.quarkiverse.busaltconnection.bench.receiver;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.busaltconnection.bench.Latencies;
import io.quarkiverse.busaltconnection.bench.Payloads;

/** Everything the listeners of this instance received: per-run latencies, and a count for the slow listener. */
@ApplicationScoped
public class Receipts {

    private final Map<String, Latencies> runs = new ConcurrentHashMap<>();
    private final AtomicLong slowCount = new AtomicLong();
    private final AtomicLong slowFirstMicros = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong slowLastMicros = new AtomicLong();

    void record(String payload) {
        record("", payload);
    }

    /** Records under {@code prefix} + the payload's run: one listener's receipts apart from another's. */
    void record(String prefix, String payload) {
        long now = Payloads.nowMicros();
        runs.computeIfAbsent(prefix + Payloads.run(payload), run -> new Latencies()).record(payload, now);
    }

    void recordSlow() {
        long now = Payloads.nowMicros();
        slowFirstMicros.accumulateAndGet(now, Math::min);
        slowLastMicros.accumulateAndGet(now, Math::max);
        slowCount.incrementAndGet();
    }

    Latencies run(String run) {
        return runs.getOrDefault(run, new Latencies());
    }

    /** Forgets a finished run, so that its samples do not weigh on later heap readings. */
    void forget(String run) {
        runs.remove(run);
    }

    /** Slow listener: messages handled, first and last handling time (wall-clock microseconds). */
    public record Slow(long count, long firstMicros, long lastMicros) {
    }

    /** Starts the slow listener's counters afresh (after a warm-up). */
    void resetSlow() {
        slowCount.set(0);
        slowFirstMicros.set(Long.MAX_VALUE);
        slowLastMicros.set(0);
    }

    Slow slow() {
        long count = slowCount.get();
        return new Slow(count, count == 0 ? 0 : slowFirstMicros.get(), slowLastMicros.get());
    }
}
