package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.BusMessage;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST <root>/poll} with {@code {"channels": [...], "last": <id>}}: answers at once with the messages after
 * {@code last} on those channels, or waits until one is committed, or answers {@code []} after
 * {@code quarkus.imdispatcher.http.poll-timeout}. The client polls again with the last id it received.
 */
public final class LongPollHandler implements Handler<RoutingContext> {

    private static final Logger LOG = Logger.getLogger(LongPollHandler.class);
    static final int MAX_BODY_BYTES = 64 * 1024;

    /** Created with the handler at each application start (dev-mode restarts included), filled on first use. */
    private volatile HttpDelivery delivery;

    @Override
    public void handle(RoutingContext routing) {
        HttpDelivery delivery = delivery();
        HttpServerRequest request = routing.request();
        HttpServerResponse response = routing.response();
        if (request.method() != HttpMethod.POST) {
            Responses.error(delivery.json, response.putHeader("Allow", "POST"), 405, "method-not-allowed",
                    "use POST with a JSON body: {\"channels\": [\"...\"], \"last\": <id>}");
            return;
        }
        // Read by Quarkus's body handler, which runs before this one (quarkus.http.limits.max-body-size).
        Buffer body = routing.body().buffer();
        if (body == null) {
            body = Buffer.buffer();
        }
        if (body.length() > MAX_BODY_BYTES) {
            Responses.error(delivery.json, response, 413, "too-large",
                    "the body is " + body.length() + " bytes; at most " + MAX_BODY_BYTES);
            return;
        }
        ReadRequest read;
        try {
            read = ReadRequest.fromPollBody(delivery.json, body.toString(), delivery.config);
        } catch (BadRequest e) {
            Responses.error(delivery.json, response, e.status, e.error, e.getMessage());
            return;
        }
        delivery.authorize(routing.vertx(), request, read.channels())
                .onSuccess(ok -> poll(delivery, routing, read))
                .onFailure(failure -> fail(delivery, response, failure));
    }

    private static void poll(HttpDelivery delivery, RoutingContext routing, ReadRequest read) {
        Vertx vertx = routing.vertx();
        HttpServerResponse response = routing.response();
        Context context = vertx.getOrCreateContext();
        long last = read.last().orElseGet(delivery.dispatcher::lastMessageId);
        long[] timer = { -1 };
        ChannelFeed[] feed = new ChannelFeed[1];
        feed[0] = new ChannelFeed(delivery.dispatcher, read.channels(), context, last, batch -> {
            feed[0].close();
            vertx.cancelTimer(timer[0]);
            answer(delivery, response, batch);
        });
        timer[0] = vertx.setTimer(delivery.config.pollTimeout().toMillis(), id -> {
            feed[0].close();
            answer(delivery, response, List.of());
        });
        response.closeHandler(ignored -> {
            feed[0].close();
            vertx.cancelTimer(timer[0]);
        });
        delivery.backlog(vertx, last, read.channels())
                .onSuccess(rows -> feed[0].backlog(rows, true))
                .onFailure(failure -> {
                    feed[0].close();
                    vertx.cancelTimer(timer[0]);
                    LOG.warnf("Long-poll could not read the bus table: %s", failure.getMessage());
                    Responses.error(delivery.json, response, 503, "unavailable",
                            "the bus table could not be read; poll again later");
                });
    }

    private static void answer(HttpDelivery delivery, HttpServerResponse response, List<BusMessage> messages) {
        if (!response.ended() && !response.closed()) {
            response.putHeader("Content-Type", "application/json").end(Responses.messages(delivery.json, messages));
        }
    }

    static void fail(HttpDelivery delivery, HttpServerResponse response, Throwable failure) {
        if (failure instanceof BadRequest bad) {
            Responses.error(delivery.json, response, bad.status, bad.error, bad.getMessage());
        } else {
            LOG.errorf(failure, "Bus HTTP request failed");
            Responses.error(delivery.json, response, 500, "internal", "the request failed; see the server log");
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
