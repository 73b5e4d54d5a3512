package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;
import java.util.Optional;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST <root>/poll} with {@code {"channels": [...], "last": "<cursor>"}}: answers at once with the messages after
 * {@code last} on those channels (at most {@code quarkus.imdispatcher.http.max-messages}), or waits until one is
 * committed, or answers without messages after {@code quarkus.imdispatcher.http.poll-timeout}. Every answer is
 * {@code {"messages": [...], "last": "<cursor>", "reload": false}}: the client polls again with {@code last}. When
 * {@code reload} is true (messages it had not read were deleted by retention, or its cursor belongs to another bus),
 * {@code reason} says why: the client reloads its state, then goes on from {@code last}. Beyond
 * {@code quarkus.imdispatcher.http.max-clients} waiting clients, or {@code max-backlog-reads} clients reading the table,
 * the answer is 503 with {@code Retry-After}.
 */
public final class LongPollHandler extends ReadHandler {

    private static final Logger LOG = Logger.getLogger(LongPollHandler.class);
    static final int MAX_BODY_BYTES = 64 * 1024;

    public LongPollHandler() {
        super(HttpMethod.POST, "use POST with a JSON body: {\"channels\": [\"...\"], \"last\": \"<cursor>\"}");
    }

    @Override
    ReadRequest read(HttpDelivery delivery, RoutingContext routing) throws BadRequest {
        // Read by Quarkus's body handler, which runs before this one (quarkus.http.limits.max-body-size).
        Buffer body = routing.body().buffer();
        if (body == null) {
            body = Buffer.buffer();
        }
        if (body.length() > MAX_BODY_BYTES) {
            throw new BadRequest(413, "too-large", "the body is " + body.length() + " bytes; at most " + MAX_BODY_BYTES);
        }
        return ReadRequest.fromPollBody(delivery.json, body.toString(), delivery.config);
    }

    @Override
    void serve(HttpDelivery delivery, RoutingContext routing, ReadRequest read) {
        Vertx vertx = routing.vertx();
        HttpServerResponse response = routing.response();
        HttpDelivery.Start start = delivery.start(read.last());
        if (start.reload().isPresent()) {
            answer(delivery, response, List.of(), delivery.cursor(start.after()), start.reload());
            return;
        }
        Optional<String> full = delivery.admission.refusal();
        if (full.isPresent()) {
            delivery.busy(response, full.get());
            return;
        }
        long after = start.after();
        Context context = vertx.getOrCreateContext();
        long[] timer = { -1 };
        ChannelFeed[] feed = new ChannelFeed[1];
        Runnable finish = () -> {
            feed[0].close();
            vertx.cancelTimer(timer[0]);
        };
        feed[0] = new ChannelFeed(delivery.feed, read.channels(), context, after, delivery.config.maxMessages(),
                batch -> {
                    finish.run();
                    answer(delivery, response, batch, delivery.cursor(batch.get(batch.size() - 1).position()),
                            Optional.empty());
                },
                // More arrived while the backlog was read than one answer holds: the client asks again at once.
                () -> {
                    finish.run();
                    answer(delivery, response, List.of(), delivery.cursor(after), Optional.empty());
                }, "long-poll", delivery.observers);
        timer[0] = vertx.setTimer(delivery.config.pollTimeout().toMillis(), id -> {
            feed[0].close();
            answer(delivery, response, List.of(), delivery.cursor(feed[0].lastSent()), Optional.empty());
        });
        response.closeHandler(ignored -> finish.run());
        if (delivery.caughtUp(after)) {
            // At the head: the live feed it follows has everything after it; nothing to read.
            feed[0].backlog(delivery.nothingBehind(after));
            return;
        }
        if (!delivery.admission.startBacklogRead()) {
            finish.run();
            delivery.busy(response, delivery.admission.backlogRefusal());
            return;
        }
        delivery.backlog(vertx, after, read.channels(), "long-poll").onComplete(result -> context.runOnContext(ignored -> {
            delivery.admission.backlogReadDone();
            if (result.failed()) {
                finish.run();
                LOG.warnf("Long-poll could not read the bus table: %s", result.cause().getMessage());
                Responses.error(delivery.json, response, 503, "unavailable",
                        "the bus table could not be read; poll again later");
                return;
            }
            Page page = result.result();
            Optional<String> ahead = delivery.ahead(page, after);
            if (ahead.isPresent()) {
                finish.run();
                answer(delivery, response, List.of(), delivery.cursor(page.head()), ahead);
                return;
            }
            Optional<String> lost = delivery.lost(page, after, read.channels());
            if (page.messages().isEmpty() && lost.isEmpty()) {
                // Nothing yet: wait for the first live message (or the timeout).
                feed[0].backlog(page);
                return;
            }
            // A page (full or not) answers at once; the client asks again from its last position.
            finish.run();
            List<BusMessage> messages = page.messages().stream()
                    .map(row -> row.message()).toList();
            answer(delivery, response, messages, delivery.cursor(page.positionAfter(after)), lost);
        }));
    }

    private static void answer(HttpDelivery delivery, HttpServerResponse response, List<BusMessage> messages,
            Cursor last, Optional<String> reload) {
        if (!response.ended() && !response.closed()) {
            response.putHeader("Content-Type", "application/json")
                    .end(Responses.poll(delivery.json, messages, last, reload));
        }
    }
}
