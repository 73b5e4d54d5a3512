package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusChannelAuthorizer;
import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;
import io.quarkiverse.busaltconnection.runtime.dispatch.LiveFeed;
import io.quarkiverse.busaltconnection.runtime.dispatch.LossLog;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.store.BusReader;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkus.arc.Arc;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * What both HTTP handlers share: the beans they use (looked up on the first request, when the application is up),
 * the authorization of a request's channels, where a request starts, and backlog reads, on worker threads.
 */
final class HttpDelivery {

    final ImDispatcherConfig.Http config;
    final LiveFeed feed;
    private final LossLog losses;
    final ObjectMapper json;
    final BusObservers observers;
    private final BusChannelAuthorizer authorizer;
    private final BusReader reader;
    final HttpAdmission admission;
    private final long pageBytes;

    /** Looked up when the first request comes: a handler lives as long as one application start. */
    HttpDelivery() {
        var container = Arc.container();
        ImDispatcherConfig all = container.instance(ImDispatcherConfig.class).get();
        this.config = all.http();
        this.feed = container.instance(LiveFeed.class).get();
        this.losses = container.instance(EngineStatus.class).get().lossLog();
        this.json = container.instance(ObjectMapper.class).get();
        this.observers = container.instance(BusObservers.class).get();
        this.authorizer = container.instance(BusChannelAuthorizer.class).get();
        this.reader = new BusReader(container.instance(BusDataSource.class).get().get(),
                container.instance(BusTable.class).get());
        this.pageBytes = all.bus().listenerPageBytes().asLongValue();
        this.admission = container.instance(HttpAdmission.class).get();
    }

    /** Fails with a 403 {@link BadRequest} naming the channels the request may not read. */
    Future<Void> authorize(Vertx vertx, HttpServerRequest request, Set<String> channels) {
        return vertx.<Void> executeBlocking(() -> {
            List<String> denied = channels.stream().filter(channel -> !authorizer.mayRead(channel, request)).toList();
            if (!denied.isEmpty()) {
                throw new BadRequest(403, "forbidden", "this request may not read channel(s) "
                        + denied.stream().map(ReadRequest::abbreviate).map(c -> "'" + c + "'").toList()
                        + "; the application's BusChannelAuthorizer decides (by default, only"
                        + " quarkus.imdispatcher.http.public-channels are readable)");
            }
            return null;
        }, false);
    }

    /**
     * Where a request starts: after its cursor, or after the head when it has none or one of another epoch (then
     * with the reason it must reload).
     */
    Start start(Optional<Cursor> last) {
        long epoch = feed.epoch();
        if (last.isEmpty()) {
            return new Start(feed.head(), Optional.empty());
        }
        if (last.get().legacy()) {
            return new Start(last.get().position(), Optional.empty());
        }
        if (last.get().epoch() != epoch) {
            return new Start(feed.head(), Optional.of("the cursor " + last.get() + " belongs to another bus (epoch "
                    + last.get().epoch() + ", this bus's is " + epoch + "): reload, then read from the new cursor"));
        }
        return new Start(last.get().position(), Optional.empty());
    }

    /** Where a request starts reading, and why the client must reload, if it must. */
    record Start(long after, Optional<String> reload) {
    }

    Cursor cursor(long position) {
        return new Cursor(feed.epoch(), position);
    }

    /**
     * Whether a client after {@code after} has nothing to read from the table: it is at the head this instance has read,
     * and the live feed (which it follows from now on) delivers everything after that. Call after it subscribed.
     */
    boolean caughtUp(long after) {
        return after == feed.head();
    }

    /** The backlog of a client that is {@link #caughtUp}: complete, and empty. */
    Page nothingBehind(long after) {
        return new Page(feed.epoch(), after, OptionalLong.empty(), List.of(), true);
    }

    /** Reads a page of the backlog on a worker thread, for a client of {@code kind}. */
    Future<Page> backlog(Vertx vertx, long after, Set<String> channels, String kind) {
        observers.httpBacklogRead(kind);
        return vertx.executeBlocking(() -> reader.after(after, channels, config.maxMessages(), pageBytes), false);
    }

    /** A long-poll turned away: 503, with when to come back. */
    void busy(HttpServerResponse response, String why) {
        observers.httpTurnedAway("long-poll");
        Responses.error(json, response.putHeader("Retry-After", String.valueOf(retrySeconds())), 503, "busy", why);
    }

    /** Whole seconds for {@code Retry-After}, at least one. */
    private long retrySeconds() {
        return Math.max(1, (admission.retry().toMillis() + 999) / 1000);
    }

    /** Why the client must reload when its position is beyond anything the bus handed out (a forged cursor). */
    Optional<String> ahead(Page page, long after) {
        return after > page.head() ? Optional.of("the cursor " + cursor(after) + " is ahead of this bus's head "
                + page.head() + ": reload, then read from the new cursor") : Optional.empty();
    }

    /** Says at ERROR that retention deleted messages this client had not read, and what to tell it. */
    Optional<String> lost(Page page, long after, Set<String> channels) {
        return page.lostAfter(after).stream().mapToObj(through -> {
            losses.report("An HTTP client", channels.toString(), after, through);
            return "messages between positions " + (after + 1) + " and " + through + " were deleted by retention"
                    + " before this client read them: reload, then go on from the new cursor";
        }).findFirst();
    }
}
