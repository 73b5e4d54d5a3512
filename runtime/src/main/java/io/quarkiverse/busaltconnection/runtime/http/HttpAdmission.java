package io.quarkiverse.busaltconnection.runtime.http;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.LiveFeed;

/**
 * How many HTTP clients this instance takes at once, and how many of them read their backlog from the table at once
 * (through the application's datasource), shared by both endpoints: beyond either, a client is asked to come back
 * later instead of taking memory or the pool the application needs.
 */
@Singleton
public class HttpAdmission {

    private final LiveFeed feed;
    private final int maxClients;
    private final int maxBacklogReads;
    private final Duration retry;
    private final AtomicInteger backlogReads = new AtomicInteger();

    @Inject
    public HttpAdmission(ImDispatcherConfig config, LiveFeed feed) {
        this.feed = feed;
        this.maxClients = config.http().maxClients();
        this.maxBacklogReads = config.http().maxBacklogReads();
        this.retry = config.http().busyRetry();
    }

    /** Why a new client is turned away now, if it is. */
    Optional<String> refusal() {
        return feed.subscribers() >= maxClients
                ? Optional.of("this instance follows its most HTTP clients already (" + maxClients
                        + ", quarkus.imdispatcher.http.max-clients): come back later")
                : Optional.empty();
    }

    /** Takes one of the backlog reads; false when all are taken. Give it back with {@link #backlogReadDone()}. */
    boolean startBacklogRead() {
        while (true) {
            int reading = backlogReads.get();
            if (reading >= maxBacklogReads) {
                return false;
            }
            if (backlogReads.compareAndSet(reading, reading + 1)) {
                return true;
            }
        }
    }

    void backlogReadDone() {
        backlogReads.decrementAndGet();
    }

    /** Why a client behind the head is turned away when every backlog read is taken. */
    String backlogRefusal() {
        return "this instance reads the backlog of " + maxBacklogReads + " clients already"
                + " (quarkus.imdispatcher.http.max-backlog-reads): come back later";
    }

    /** How long a client turned away waits before it comes back. */
    Duration retry() {
        return retry;
    }
}
