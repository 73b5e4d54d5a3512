package io.quarkiverse.busaltconnection.it;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;

/** What each listener of the demo received, by listener name, in arrival order. */
@ApplicationScoped
public class Inbox {

    private final Map<String, List<String>> received = new ConcurrentHashMap<>();

    void add(String listener, String entry) {
        received.computeIfAbsent(listener, l -> new CopyOnWriteArrayList<>()).add(entry);
    }

    public List<String> of(String listener) {
        return List.copyOf(received.getOrDefault(listener, List.of()));
    }
}
