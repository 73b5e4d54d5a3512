package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET <root>/sse?channel=a&channel=b}: a Server-Sent Events stream of the messages of those channels, each
 * event's {@code id} the message id. A reconnecting EventSource sends {@code Last-Event-ID} and resumes after it,
 * backlog first, without a gap; {@code ?last=<id>} does the same for a first connection. A client that cannot keep
 * up is disconnected rather than buffered without bound; it resumes from its last event.
 */
public final class SseHandler implements Handler<RoutingContext> {

    private static final Logger LOG = Logger.getLogger(SseHandler.class);

    /** Created with the handler at each application start (dev-mode restarts included), filled on first use. */
    private volatile HttpDelivery delivery;

    @Override
    public void handle(RoutingContext routing) {
        HttpDelivery delivery = delivery();
        HttpServerRequest request = routing.request();
        HttpServerResponse response = routing.response();
        if (request.method() != HttpMethod.GET) {
            Responses.error(delivery.json, response.putHeader("Allow", "GET"), 405, "method-not-allowed",
                    "use GET ?channel=<name>&channel=<name>, resuming with the Last-Event-ID header");
            return;
        }
        ReadRequest read;
        try {
            read = ReadRequest.fromQuery(request, delivery.config);
        } catch (BadRequest e) {
            Responses.error(delivery.json, response, e.status, e.error, e.getMessage());
            return;
        }
        delivery.authorize(routing.vertx(), request, read.channels())
                .onSuccess(ok -> stream(delivery, routing, read))
                .onFailure(failure -> LongPollHandler.fail(delivery, response, failure));
    }

    private static void stream(HttpDelivery delivery, RoutingContext routing, ReadRequest read) {
        Vertx vertx = routing.vertx();
        HttpServerResponse response = routing.response();
        Context context = vertx.getOrCreateContext();
        response.setStatusCode(200).setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
        response.write(": connected\n\n");
        long last = read.last().orElseGet(delivery.dispatcher::lastMessageId);
        ChannelFeed feed = new ChannelFeed(delivery.dispatcher, read.channels(), context, last,
                batch -> write(delivery, response, batch));
        long keepAlive = vertx.setPeriodic(delivery.config.sseKeepAlive().toMillis(), id -> {
            if (!response.closed()) {
                response.write(": keep-alive\n\n");
            }
        });
        response.closeHandler(ignored -> {
            feed.close();
            vertx.cancelTimer(keepAlive);
        });
        readBacklog(delivery, vertx, response, feed, read);
    }

    /** Page after page until a short page: then the feed goes live. */
    private static void readBacklog(HttpDelivery delivery, Vertx vertx, HttpServerResponse response, ChannelFeed feed,
            ReadRequest read) {
        delivery.backlog(vertx, feed.lastSent(), read.channels()).onSuccess(rows -> {
            boolean complete = rows.size() < delivery.config.maxMessages();
            feed.backlog(rows, complete);
            if (!complete && !response.closed()) {
                readBacklog(delivery, vertx, response, feed, read);
            }
        }).onFailure(failure -> {
            LOG.warnf("SSE could not read the bus table: %s; closing the stream for the client to resume",
                    failure.getMessage());
            feed.close();
            response.reset();
        });
    }

    private static void write(HttpDelivery delivery, HttpServerResponse response, List<BusMessage> messages) {
        if (response.closed()) {
            return;
        }
        StringBuilder events = new StringBuilder();
        for (BusMessage message : messages) {
            // The data is one line of JSON: payload newlines are escaped, so they cannot break the event.
            events.append("id: ").append(message.id()).append('\n')
                    .append("event: message\n")
                    .append("data: ").append(Responses.message(delivery.json, message)).append("\n\n");
        }
        response.write(events.toString());
        if (response.writeQueueFull()) {
            LOG.debugf("SSE client too slow; disconnecting it at message %d", messages.get(messages.size() - 1).id());
            response.reset();
        }
    }

    private HttpDelivery delivery() {
        HttpDelivery current = delivery;
        if (current == null) {
            current = new HttpDelivery();
            delivery = current;
        }
        return current;
    }
}
