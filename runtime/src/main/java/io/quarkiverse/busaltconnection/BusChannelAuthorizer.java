package io.quarkiverse.busaltconnection;

import io.vertx.core.http.HttpServerRequest;

/**
 * Decides which bus channels an HTTP client (long-poll, Server-Sent Events) may read. Provide a CDI bean of this
 * type to replace the default, which allows only the channels listed in
 * {@code quarkus.imdispatcher.http.public-channels} (none unless configured).
 * <p>
 * Called on a worker thread, once per requested channel, before anything is sent to the client: it may block (look
 * up a session, call a service). A request asking for any channel it may not read is refused with 403 and reads
 * nothing.
 */
public interface BusChannelAuthorizer {

    /**
     * @param channel a channel the request asks for
     * @param request the HTTP request (headers, cookies, remote address)
     * @return whether the request may read the channel
     */
    boolean mayRead(String channel, HttpServerRequest request);
}
