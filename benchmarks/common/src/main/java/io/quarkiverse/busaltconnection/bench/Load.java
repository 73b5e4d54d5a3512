package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The two shapes of sending load, the same for the extension (inside the sending application) and for every
 * baseline (in the harness), so that only the send call differs between systems.
 * <ul>
 * <li>{@link #closed}: N senders, each sending back to back; measures how much the system takes.</li>
 * <li>{@link #open}: messages due at fixed times ({@code start + i / rate}), each taken by the first free thread;
 * a late message stays late in its latency, as its due time is in its payload.</li>
 * </ul>
 */
public final class Load {

    /** One send: the message is committed (or failed) when this returns. */
    @FunctionalInterface
    public interface Send {
        void send(String payload) throws Exception;
    }

    /** What the senders did: messages sent, sends that failed, seconds from start to the last send's return. */
    public record Result(long sent, long failed, double seconds, String firstFailure) {

        /** Sends completed per second: the commit rate at the sender. */
        public double rate() {
            return seconds <= 0 ? Double.NaN : sent / seconds;
        }
    }

    private Load() {
    }

    /**
     * {@code senders} threads sending back to back until {@code duration} has passed or, if {@code count} > 0,
     * {@code count} messages were sent in all. A message's scheduled time is when its send call starts.
     */
    public static Result closed(String run, int senders, Duration duration, long count, int size, Send send)
            throws InterruptedException {
        AtomicLong next = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        return runThreads(senders, start, tally -> {
            while (System.nanoTime() < deadline && !tally.givingUp()) {
                long sequence = next.getAndIncrement();
                if (count > 0 && sequence >= count) {
                    return;
                }
                tally.attempt(send, Payloads.of(run, sequence, Payloads.nowMicros(), size));
            }
        });
    }

    /**
     * {@code rate} messages per second for {@code duration}: message i is due at start + i / rate and carries that
     * time; {@code threads} threads take the next due message whenever they are free, so a slow send delays the
     * messages after it only when every thread is busy.
     */
    public static Result open(String run, int rate, Duration duration, int threads, int size, Send send)
            throws InterruptedException {
        long total = Math.max(1, rate * duration.toMillis() / 1000);
        AtomicLong next = new AtomicLong();
        long start = System.nanoTime();
        long startMicros = Payloads.nowMicros();
        return runThreads(threads, start, tally -> {
            for (long i = next.getAndIncrement(); i < total && !tally.givingUp(); i = next.getAndIncrement()) {
                long due = start + (long) (i * 1e9 / rate);
                for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                    LockSupport.parkNanos(wait);
                }
                tally.attempt(send, Payloads.of(run, i, startMicros + (long) (i * 1e6 / rate), size));
            }
        });
    }

    private interface Body {
        void run(Tally tally);
    }

    /** Counts of one load, shared by its threads. */
    private static final class Tally {

        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();
        private final AtomicReference<String> firstFailure = new AtomicReference<>();
        private final AtomicLong lastReturn = new AtomicLong(Long.MIN_VALUE);

        void attempt(Send send, String payload) {
            try {
                send.send(payload);
                sent.incrementAndGet();
            } catch (Exception e) {
                failed.incrementAndGet();
                firstFailure.compareAndSet(null, e.toString());
            }
            lastReturn.accumulateAndGet(System.nanoTime(), Math::max);
        }

        /** A system that refuses every send is not worth hammering for the rest of the run. */
        boolean givingUp() {
            return sent.get() == 0 && failed.get() >= 1000;
        }
    }

    private static Result runThreads(int count, long start, Body body) throws InterruptedException {
        Tally tally = new Tally();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < count; t++) {
            Thread thread = new Thread(() -> body.run(tally), "bench-sender-" + t);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        long end = tally.lastReturn.get() == Long.MIN_VALUE ? System.nanoTime() : tally.lastReturn.get();
        return new Result(tally.sent.get(), tally.failed.get(), (end - start) / 1e9, tally.firstFailure.get());
    }
}
