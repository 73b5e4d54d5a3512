package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;
import java.util.Optional;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET <root>/sse?channel=a&channel=b}: a Server-Sent Events stream of the messages of those channels, each
 * event's {@code id} its cursor. A reconnecting EventSource sends {@code Last-Event-ID} and resumes after it, backlog
 * first, without a gap; {@code ?last=<cursor>} does the same for a first connection. A {@code reload} event says that
 * the client missed messages (deleted by retention) or came with a cursor of another bus. A client that cannot keep
 * up has its stream ended rather than buffered without bound; it resumes from its last event.
 */
public final class SseHandler extends ReadHandler {

    private static final Logger LOG = Logger.getLogger(SseHandler.class);

    public SseHandler() {
        super(HttpMethod.GET, "use GET ?channel=<name>&channel=<name>, resuming with the Last-Event-ID header");
    }

    @Override
    ReadRequest read(HttpDelivery delivery, RoutingContext routing) throws BadRequest {
        return ReadRequest.fromQuery(routing.request(), delivery.config);
    }

    @Override
    void serve(HttpDelivery delivery, RoutingContext routing, ReadRequest read) {
        Vertx vertx = routing.vertx();
        HttpServerResponse response = routing.response();
        Context context = vertx.getOrCreateContext();
        response.setStatusCode(200).setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
        response.write(": connected\n\n");
        HttpDelivery.Start start = delivery.start(read.last());
        start.reload().ifPresent(reason -> reload(delivery, response, start.after(), reason));
        ChannelFeed[] feed = new ChannelFeed[1];
        long[] keepAlive = { -1 };
        // Unsubscribes at once, not when the last bytes are written: a client that stopped reading may never take them.
        Runnable finish = () -> {
            feed[0].close();
            vertx.cancelTimer(keepAlive[0]);
        };
        feed[0] = new ChannelFeed(delivery.feed, read.channels(), context, start.after(),
                delivery.config.maxMessages(), batch -> write(delivery, response, batch, finish), () -> {
                    LOG.debugf("SSE client fell more than %d messages behind; ending its stream for it to resume",
                            delivery.config.maxMessages());
                    finish.run();
                    response.end();
                }, "sse", delivery.observers);
        keepAlive[0] = vertx.setPeriodic(delivery.config.sseKeepAlive().toMillis(), id -> {
            if (!response.closed() && !response.ended()) {
                response.write(": keep-alive\n\n");
            }
        });
        response.closeHandler(ignored -> finish.run());
        response.endHandler(ignored -> finish.run());
        readBacklog(delivery, vertx, context, response, feed[0], read, finish);
    }

    /** Page after page until a complete one: then the feed goes live. */
    private static void readBacklog(HttpDelivery delivery, Vertx vertx, Context context, HttpServerResponse response,
            ChannelFeed feed, ReadRequest read, Runnable finish) {
        long after = feed.lastSent();
        delivery.backlog(vertx, after, read.channels()).onComplete(result -> context.runOnContext(ignored -> {
            if (response.closed() || response.ended()) {
                return;
            }
            if (result.failed()) {
                LOG.warnf("SSE could not read the bus table: %s; ending the stream for the client to resume",
                        result.cause().getMessage());
                finish.run();
                response.end();
                return;
            }
            Page page = result.result();
            Optional<String> problem = delivery.ahead(page, after).or(() -> delivery.lost(page, after, read.channels()));
            problem.ifPresent(reason -> reload(delivery, response, page.positionAfter(after), reason));
            feed.backlog(page);
            if (!page.complete()) {
                readBacklog(delivery, vertx, context, response, feed, read, finish);
            }
        }));
    }

    /** An event telling the client to reload, with the cursor to go on from. */
    private static void reload(HttpDelivery delivery, HttpServerResponse response, long position, String reason) {
        response.write("id: " + delivery.cursor(position) + "\nevent: reload\ndata: "
                + delivery.json.createObjectNode().put("reason", reason) + "\n\n");
    }

    private static void write(HttpDelivery delivery, HttpServerResponse response, List<BusMessage> messages,
            Runnable finish) {
        if (response.closed() || response.ended()) {
            return;
        }
        StringBuilder events = new StringBuilder();
        for (BusMessage message : messages) {
            // The data is one line of JSON: payload newlines are escaped, so they cannot break the event.
            events.append("id: ").append(delivery.cursor(message.position())).append('\n')
                    .append("event: message\n")
                    .append("data: ").append(Responses.message(delivery.json, message)).append("\n\n");
        }
        response.write(events.toString());
        if (response.writeQueueFull()) {
            LOG.debugf("SSE client too slow; ending its stream at position %d for it to resume",
                    messages.get(messages.size() - 1).position());
            finish.run();
            response.end();
        }
    }
}
