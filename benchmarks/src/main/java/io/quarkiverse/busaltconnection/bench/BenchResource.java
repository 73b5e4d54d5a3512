package io.quarkiverse.busaltconnection.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkus.narayana.jta.QuarkusTransaction;

/** Drives the extension from inside an instance: sending (instance B) and receive statistics (instance A). */
@Path("/bench")
@Produces(MediaType.APPLICATION_JSON)
public class BenchResource {

    @Inject
    Bus bus;

    @Inject
    BenchListener listener;

    /**
     * Sends {@code count} messages on "bench" (or {@code channel}), {@code batch} per transaction, at {@code rate}
     * messages per second (0: as fast as possible), from one thread.
     */
    @POST
    @Path("/send")
    public Map<String, Object> send(@QueryParam("run") String run, @QueryParam("count") int count,
            @QueryParam("batch") int batch, @QueryParam("rate") int rate, @QueryParam("channel") String channel) {
        String target = channel == null ? "bench" : channel;
        long start = System.nanoTime();
        for (int i = 0; i < count; i += Math.max(1, batch)) {
            if (rate > 0) {
                long due = start + (long) (i * 1e9 / rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            int first = i;
            if (batch <= 1) {
                bus.send(target, run + ":" + first + ":" + Latencies.nowMicros());
            } else {
                QuarkusTransaction.requiringNew().run(() -> {
                    for (int j = first; j < Math.min(count, first + batch); j++) {
                        bus.send(target, run + ":" + j + ":" + Latencies.nowMicros());
                    }
                });
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return Map.of("seconds", seconds, "rate", count / seconds);
    }

    /** {@code senders} threads, each sending {@code perSender} messages, one per transaction. */
    @POST
    @Path("/concurrent")
    public Map<String, Object> concurrent(@QueryParam("run") String run, @QueryParam("senders") int senders,
            @QueryParam("perSender") int perSender) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int s = 0; s < senders; s++) {
            int sender = s;
            Thread thread = new Thread(() -> {
                for (int i = 0; i < perSender; i++) {
                    bus.send("bench", run + ":" + sender + "-" + i + ":" + Latencies.nowMicros());
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        return Map.of("seconds", (System.nanoTime() - start) / 1e9);
    }

    @GET
    @Path("/stats")
    public Map<String, Object> stats(@QueryParam("run") String run) {
        Latencies latencies = listener.run(run);
        return Map.of("count", latencies.count(), "throughput", latencies.throughput(),
                "p50", latencies.quantileMillis(0.5), "p99", latencies.quantileMillis(0.99),
                "p999", latencies.quantileMillis(0.999));
    }

    /** Heap in use after a full collection, in bytes. */
    @GET
    @Path("/heap")
    public Map<String, Object> heap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return Map.of("used", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
}
