package io.quarkiverse.busaltconnection.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.busaltconnection.BusListener;
import io.smallrye.common.annotation.NonBlocking;

/** Instance A's listener: timestamps every benchmark message on arrival. */
@ApplicationScoped
public class BenchListener {

    private final Map<String, Latencies> runs = new ConcurrentHashMap<>();

    @BusListener("bench")
    @NonBlocking
    void on(String payload) {
        long now = Latencies.nowMicros();
        runs.computeIfAbsent(payload.substring(0, payload.indexOf(':')), run -> new Latencies()).record(payload, now);
    }

    Latencies run(String run) {
        return runs.computeIfAbsent(run, r -> new Latencies());
    }
}
