package io.quarkiverse.busaltconnection.runtime.dev;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.inject.Singleton;

import io.quarkiverse.busaltconnection.runtime.observe.BusObserver;

/** Counts the failed calls of each {@code @BusListener} method, for the Dev UI card (dev mode only). */
@Singleton
public class ListenerFailures implements BusObserver {

    private final Map<String, AtomicLong> failed = new ConcurrentHashMap<>();

    @Override
    public void delivered(String channel, String listener, boolean success, Duration sinceWritten, Duration took) {
        if (!success) {
            failed.computeIfAbsent(listener, name -> new AtomicLong()).incrementAndGet();
        }
    }

    long of(String listener) {
        AtomicLong count = failed.get(listener);
        return count == null ? 0 : count.get();
    }
}
