package io.quarkiverse.busaltconnection.bench.receiver;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkiverse.busaltconnection.BusListener;
import io.smallrye.common.annotation.NonBlocking;

/** Times every benchmark message on arrival; on the event loop, so that no thread hand-off adds to the latency. */
@ApplicationScoped
public class BenchListener {

    @Inject
    Receipts receipts;

    @BusListener("bench")
    @NonBlocking
    void on(String payload) {
        receipts.record(payload);
    }
}
