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
 * up has its stream ended rather than buffered without bound; it resumes from its last event. Beyond
 * {@code quarkus.imdispatcher.http.max-clients} clients, or {@code max-backlog-reads} clients reading the table, a
 * stream asks the client to come back after {@code busy-retry} and ends.
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
        Optional<String> full = delivery.admission.refusal();
        if (full.isPresent()) {
            busy(delivery, response, full.get());
            return;
        }
        HttpDelivery.Start start = delivery.start(read.last());
        ChannelFeed[] feed = new ChannelFeed[1];
        long[] keepAlive = { -1 };
        boolean[] reading = { false };
        Runnable readingDone = () -> {
            if (reading[0]) {
                reading[0] = false;
                delivery.admission.backlogReadDone();
            }
        };
        // Unsubscribes at once, not when the last bytes are written: a client that stopped reading may never take them.
        Runnable finish = () -> {
            feed[0].close();
            vertx.cancelTimer(keepAlive[0]);
            readingDone.run();
        };
        feed[0] = new ChannelFeed(delivery.feed, read.channels(), context, start.after(),
                delivery.config.maxMessages(), batch -> write(delivery, response, batch, finish), () -> {
                    LOG.debugf("SSE client fell more than %d messages behind; ending its stream for it to resume",
                            delivery.config.maxMessages());
                    finish.run();
                    response.end();
                }, "sse", delivery.observers);
        // Known once it follows the live feed: at the head this instance has read, the feed has everything after it
        // and nothing is read from the table; behind it, the backlog is read, by at most max-backlog-reads clients.
        boolean behind = !delivery.caughtUp(start.after());
        if (behind && !delivery.admission.startBacklogRead()) {
            feed[0].close();
            busy(delivery, response, delivery.admission.backlogRefusal());
            return;
        }
        reading[0] = behind;
        streamHeaders(response);
        response.write(": connected\n\n");
        start.reload().ifPresent(reason -> reload(delivery, response, start.after(), reason));
        keepAlive[0] = vertx.setPeriodic(delivery.config.sseKeepAlive().toMillis(), id -> {
            if (!response.closed() && !response.ended()) {
                response.write(": keep-alive\n\n");
            }
        });
        response.closeHandler(ignored -> finish.run());
        response.endHandler(ignored -> finish.run());
        if (behind) {
            readBacklog(delivery, vertx, context, response, feed[0], read, finish, readingDone);
        } else {
            feed[0].backlog(delivery.nothingBehind(start.after()));
        }
    }

    private static void streamHeaders(HttpServerResponse response) {
        response.setStatusCode(200).setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
    }

    /**
     * A client turned away: a 200 stream that asks it to come back after {@code busy-retry} and ends. A browser's
     * EventSource reconnects after {@code retry} (with its Last-Event-ID); after a 503 it would give up for good.
     */
    private static void busy(HttpDelivery delivery, HttpServerResponse response, String why) {
        delivery.observers.httpTurnedAway("sse");
        streamHeaders(response);
        response.end("retry: " + delivery.admission.retry().toMillis() + "\nevent: busy\ndata: "
                + delivery.json.createObjectNode().put("reason", why) + "\n\n");
    }

    /**
     * Page after page until a complete one: then the feed goes live. A cursor ahead of the head (of another database,
     * or made up) is told to reload and goes on from the head; one behind messages retention deleted gets its page,
     * then the reload event, whose cursor follows what it was sent.
     */
    private static void readBacklog(HttpDelivery delivery, Vertx vertx, Context context, HttpServerResponse response,
            ChannelFeed feed, ReadRequest read, Runnable finish, Runnable readingDone) {
        long after = feed.lastSent();
        delivery.backlog(vertx, after, read.channels(), "sse").onComplete(result -> context.runOnContext(ignored -> {
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
            Optional<String> ahead = delivery.ahead(page, after);
            if (ahead.isPresent()) {
                reload(delivery, response, page.head(), ahead.get());
                // Live messages it dropped meanwhile as "already sent" come again from the table.
                feed.restartAfter(page.head());
                readBacklog(delivery, vertx, context, response, feed, read, finish, readingDone);
                return;
            }
            Optional<String> lost = delivery.lost(page, after, read.channels());
            feed.backlog(page);
            lost.ifPresent(reason -> reload(delivery, response, Math.max(feed.lastSent(), page.positionAfter(after)),
                    reason));
            if (page.complete()) {
                readingDone.run();
            } else {
                readBacklog(delivery, vertx, context, response, feed, read, finish, readingDone);
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
