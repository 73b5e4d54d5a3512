package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusChannelAuthorizer;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusDispatcher;
import io.quarkiverse.busaltconnection.runtime.store.BusReader;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.quarkus.arc.Arc;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

/**
 * What both HTTP handlers share: the beans they use (looked up on the first request, when the application is up),
 * the authorization of a request's channels, and backlog reads, both on worker threads.
 */
final class HttpDelivery {

    final ImDispatcherConfig.HttpDelivery config;
    final BusDispatcher dispatcher;
    final ObjectMapper json;
    private final BusChannelAuthorizer authorizer;
    private final BusReader reader;

    /** Looked up when the first request comes: a handler lives as long as one application start. */
    HttpDelivery() {
        var container = Arc.container();
        ImDispatcherConfig all = container.instance(ImDispatcherConfig.class).get();
        this.config = all.http();
        this.dispatcher = container.instance(BusDispatcher.class).get();
        this.json = container.instance(ObjectMapper.class).get();
        this.authorizer = container.instance(BusChannelAuthorizer.class).get();
        this.reader = new BusReader(container.instance(AgroalDataSource.class).get(), new BusTable(all.bus().table()));
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

    /** Reads a page of the backlog on a worker thread. */
    Future<List<StoredMessage>> backlog(Vertx vertx, long after, Set<String> channels) {
        return vertx.executeBlocking(() -> reader.after(after, channels, config.maxMessages()), false);
    }
}
