package io.quarkiverse.busaltconnection.it;

import java.util.concurrent.locks.LockSupport;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkiverse.busaltconnection.BusListener;

/**
 * A deliberately slow listener for backlog tests: it takes {@code demo.drain.pause} per message and keeps only counts,
 * so that the heap it needs is the extension's, not its own. Payloads are "&lt;run&gt;:&lt;n&gt;:&lt;padding&gt;",
 * numbered from 0 per run.
 */
@ApplicationScoped
public class Drain {

    @ConfigProperty(name = "demo.drain.pause-micros", defaultValue = "0")
    long pauseMicros;

    private long received;
    private long expected;
    private long outOfOrder;
    private String run = "";

    @BusListener("drain")
    synchronized void receive(String payload) {
        String[] parts = payload.split(":", 3);
        if (!parts[0].equals(run)) {
            run = parts[0];
            received = 0;
            expected = 0;
            outOfOrder = 0;
        }
        long n = Long.parseLong(parts[1]);
        if (n != expected) {
            outOfOrder++;
        }
        expected = n + 1;
        received++;
        if (pauseMicros > 0) {
            LockSupport.parkNanos(pauseMicros * 1000);
        }
    }

    /** "run received outOfOrder". */
    synchronized String state() {
        return run + " " + received + " " + outOfOrder;
    }
}
