package io.quarkiverse.busaltconnection.it;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.busaltconnection.BusChannelAuthorizer;
import io.vertx.core.http.HttpServerRequest;

/**
 * Who may read what over HTTP in the demo: channels starting with "public." are open; "user.NAME" is readable by the
 * request whose X-User header is NAME (a stand-in for a real authenticated identity); nothing else.
 */
@ApplicationScoped
public class DemoChannelAuthorizer implements BusChannelAuthorizer {

    @Override
    public boolean mayRead(String channel, HttpServerRequest request) {
        if (channel.startsWith("public.")) {
            return true;
        }
        String user = request.getHeader("X-User");
        return user != null && channel.equals("user." + user);
    }
}
