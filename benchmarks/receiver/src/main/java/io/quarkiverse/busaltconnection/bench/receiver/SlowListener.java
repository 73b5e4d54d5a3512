package io.quarkiverse.busaltconnection.bench.receiver;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkiverse.busaltconnection.BusListener;

/**
 * A listener far slower than its senders (it sleeps {@code bench.slow.sleep} per message, on a worker thread): the
 * backlog builds up in the bus table, and the question is what it costs this instance's heap.
 */
@ApplicationScoped
public class SlowListener {

    @Inject
    Receipts receipts;

    @ConfigProperty(name = "bench.slow.sleep", defaultValue = "1ms")
    Duration sleep;

    @BusListener("slow")
    void on(String payload) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(sleep.toNanos());
        receipts.recordSlow();
    }
}
