package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A slow listener behind a large backlog: a receiving instance with a small heap whose listener sleeps per message,
 * and many 10 kB messages sent as fast as the sending instance can. The heap after collections is sampled while the
 * backlog drains; the question is whether the instance keeps its memory bounded, receives everything, and never
 * runs out of memory.
 */
final class SlowListenerScenario {

    /** The backlog of the goal; -Dbench.slow.messages lowers it for smoke runs. */
    static final int MESSAGES = 100_000;
    /** 10 kB per message: the backlog is several times the instance's heap. */
    static final int SIZE = 10_240;
    /** Sender threads: enough to send the backlog in well under the time the listener needs for it. */
    private static final int SENDERS = 8;
    /** Messages handled before the idle heap reading, so that classes and pools are loaded. */
    private static final int WARM_UP = 100;
    private static final Duration SAMPLE_EVERY = Duration.ofSeconds(2);

    record Result(int messages, int size, String heap, Duration sleep, Load.Result sent, long received,
            double drainRate, long idleHeap, long peakHeap, int samples, boolean outOfMemory, boolean alive) {

        long peakAboveIdle() {
            return peakHeap - idleHeap;
        }

        /** How many times slower the listener consumed than the senders sent. */
        double slowdown() {
            return sent.rate() / drainRate;
        }

        boolean complete() {
            return received >= messages;
        }
    }

    private final Plan plan;

    SlowListenerScenario(Plan plan) {
        this.plan = plan;
    }

    Result run(AppInstance slowReceiver, ExtensionContender sender) throws Exception {
        String slow = slowReceiver.url() + "/bench/slow";
        String heap = slowReceiver.url() + "/bench/heap";
        int messages = plan.slowMessages();
        int size = plan.slowSize();
        sender.send("slow", Runs.next(), 1, Duration.ofMinutes(1), WARM_UP, size);
        Await.count(WARM_UP, Duration.ofMinutes(1), Await.STALL, () -> counters(slow).count());
        Http.delete(slow);
        long idle = heapUsed(heap);
        Progress.log("slow listener: idle heap %s, sending %d messages of %d bytes", Fmt.mib(idle), messages, size);

        CompletableFuture<Load.Result> sending = CompletableFuture.supplyAsync(() -> {
            try {
                return sender.send("slow", Runs.next(), SENDERS, Duration.ofMinutes(30), messages, size);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // Time for every sleep twice over plus two minutes; a listener that stops progressing ends the wait sooner.
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos()
                + 2 * messages * Math.max(plan.slowSleep().toNanos(), 1_000_000L);
        long peak = idle;
        int samples = 0;
        long received = 0;
        long progressAt = System.nanoTime();
        while (received < messages && System.nanoTime() < deadline && slowReceiver.alive()
                && System.nanoTime() - progressAt < Duration.ofSeconds(60).toNanos()) {
            Thread.sleep(SAMPLE_EVERY.toMillis());
            try {
                peak = Math.max(peak, heapUsed(heap));
                samples++;
                long count = counters(slow).count();
                if (count > received) {
                    progressAt = System.nanoTime();
                    received = count;
                }
                if (samples % 10 == 0) {
                    Progress.log("slow listener: %d of %d received, heap peak %s", received, messages,
                            Fmt.mib(peak));
                }
            } catch (Exception dying) {
                // The instance may be going down; its liveness and its log tell.
            }
        }
        Load.Result sent = sending.join();
        Counters counters = slowReceiver.alive() ? counters(slow) : new Counters(received, 0, 0);
        double drainRate = counters.lastMicros() > counters.firstMicros()
                ? counters.count() / ((counters.lastMicros() - counters.firstMicros()) / 1e6)
                : Double.NaN;
        return new Result(messages, size, plan.slowHeap(), plan.slowSleep(), sent, counters.count(), drainRate, idle,
                peak, samples, slowReceiver.logContains("OutOfMemoryError"), slowReceiver.alive());
    }

    /** The slow listener's counters in the receiving instance: messages, first and last (wall-clock micros). */
    record Counters(long count, long firstMicros, long lastMicros) {
    }

    private static Counters counters(String url) throws Exception {
        return Http.get(url, Counters.class);
    }

    private static long heapUsed(String url) throws Exception {
        return ((Number) Http.get(url, Map.class).get("used")).longValue();
    }

    static void render(Report report, Result r) {
        if (r == null) {
            return;
        }
        report.section("Slow listener")
                .paragraph(String.format("A receiving instance started with -Xmx%s whose `@BusListener` sleeps %s per"
                        + " message, behind %s messages of %s bytes sent by %d threads of the sending instance as fast"
                        + " as it could (%s messages per second, %.0f s). The listener consumed %s messages per second,"
                        + " %s slower than the senders sent. Its heap after full collections, sampled every %d s"
                        + " (%d samples) while the backlog drained: %s at idle, %s at the peak, %s above idle. It"
                        + " received %s of %s messages%s; its log %s OutOfMemoryError%s.", r.heap(), Fmt.duration(r.sleep()),
                        Fmt.number(r.messages()), Fmt.number(r.size()), SENDERS, Fmt.rate(r.sent().rate()),
                        r.sent().seconds(), Fmt.rate(r.drainRate()), Fmt.ratio(r.slowdown()),
                        SAMPLE_EVERY.toSeconds(), r.samples(), Fmt.mib(r.idleHeap()), Fmt.mib(r.peakHeap()),
                        Fmt.mib(r.peakAboveIdle()), Fmt.number(r.received()), Fmt.number(r.messages()),
                        r.complete() ? "" : " (the wait ended when it stopped progressing or time ran out)",
                        r.outOfMemory() ? "shows an" : "shows no",
                        r.alive() ? "" : ", and the instance had exited"))
                .table(java.util.List.of("messages × size", "send rate (/s)", "listener rate (/s)", "idle heap",
                        "peak heap", "peak above idle", "received", "OutOfMemoryError"),
                        java.util.List.of(java.util.List.of(Fmt.number(r.messages()) + " × " + Fmt.number(r.size())
                                + " B", Fmt.rate(r.sent().rate()), Fmt.rate(r.drainRate()), Fmt.mib(r.idleHeap()),
                                Fmt.mib(r.peakHeap()), Fmt.mib(r.peakAboveIdle()), Fmt.number(r.received()),
                                r.outOfMemory() ? "yes" : "no")));
    }
}
