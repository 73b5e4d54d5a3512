package io.quarkiverse.busaltconnection.it;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkiverse.busaltconnection.BusChannelAuthorizer;
import io.vertx.core.http.HttpServerRequest;

/**
 * Who may read what over HTTP in the demo: channels starting with "public." are open; "user.NAME" is readable by the
 * request whose X-User header is NAME (a stand-in for a real authenticated identity); nothing else. Deciding on
 * "public.slow-auth" takes a second, as a call to an identity service might.
 */
@ApplicationScoped
public class DemoChannelAuthorizer implements BusChannelAuthorizer {

    @Override
    public boolean mayRead(String channel, HttpServerRequest request) {
        if (channel.equals("public.slow-auth")) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        if (channel.startsWith("public.")) {
            return true;
        }
        String user = request.getHeader("X-User");
        return user != null && channel.equals("user." + user);
    }
}
