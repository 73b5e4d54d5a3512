package io.quarkiverse.busaltconnection.runtime.http;

import org.jboss.logging.Logger;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * What both HTTP endpoints do before they deliver: check the method, read the request, authorize its channels (on a
 * worker thread), and give up quietly if the client left meanwhile. Every refusal is a JSON error that says what to
 * change.
 */
abstract class ReadHandler implements Handler<RoutingContext> {

    private static final Logger LOG = Logger.getLogger(ReadHandler.class);

    private final HttpMethod method;
    private final String usage;
    /** Created with the handler at each application start (dev-mode restarts included), filled on first use. */
    private volatile HttpDelivery delivery;

    /** @param usage how to call the endpoint, for a request with another method */
    ReadHandler(HttpMethod method, String usage) {
        this.method = method;
        this.usage = usage;
    }

    /** The channels and cursor of the request. */
    abstract ReadRequest read(HttpDelivery delivery, RoutingContext routing) throws BadRequest;

    /** Delivers to a client that may read every channel it asked for. */
    abstract void serve(HttpDelivery delivery, RoutingContext routing, ReadRequest read);

    @Override
    public final void handle(RoutingContext routing) {
        HttpDelivery delivery = delivery();
        HttpServerRequest request = routing.request();
        HttpServerResponse response = routing.response();
        if (request.method() != method) {
            Responses.error(delivery.json, response.putHeader("Allow", method.name()), 405, "method-not-allowed",
                    usage);
            return;
        }
        ReadRequest read;
        try {
            read = read(delivery, routing);
        } catch (BadRequest e) {
            Responses.error(delivery.json, response, e.status, e.error, e.getMessage());
            return;
        }
        delivery.authorize(routing.vertx(), request, read.channels()).onSuccess(ok -> {
            // The client may have left while its channels were being authorized: nothing to deliver then.
            if (!response.closed()) {
                serve(delivery, routing, read);
            }
        }).onFailure(failure -> fail(delivery, response, failure));
    }

    private static void fail(HttpDelivery delivery, HttpServerResponse response, Throwable failure) {
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
