package io.quarkiverse.busaltconnection.bench.receiver;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkiverse.busaltconnection.BusListener;

/**
 * The group scenario's latency part: a broadcast listener and a group member on the same channel, both on worker
 * threads (the default), so that both are timed on the same messages. The group's call runs in a transaction that
 * moves its stored position; the broadcast listener's does not.
 */
@ApplicationScoped
public class LatencyListeners {

    static final String CHANNEL = "bench-latency";
    static final String BROADCAST = "broadcast-";
    static final String GROUP = "group-";

    @Inject
    Receipts receipts;

    @BusListener(CHANNEL)
    void broadcast(String payload) {
        receipts.record(BROADCAST, payload);
    }

    @BusListener(value = CHANNEL, group = "latency")
    void group(String payload) {
        receipts.record(GROUP, payload);
    }
}
