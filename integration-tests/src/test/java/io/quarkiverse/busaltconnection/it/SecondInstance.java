package io.quarkiverse.busaltconnection.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import io.quarkus.test.common.DevServicesContext;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A second instance of the packaged application, in a JVM of its own, on the PostgreSQL and PgBouncer that Dev
 * Services started for the first: two instances, one database, as in production.
 */
public class SecondInstance implements QuarkusTestResourceLifecycleManager, DevServicesContext.ContextAware {

    private static volatile String url;
    private Map<String, String> devServices = Map.of();
    private AppProcess app;

    /** Base URL of the second instance. */
    static String url() {
        return url;
    }

    @Override
    public void setIntegrationTestContext(DevServicesContext context) {
        devServices = context.devServicesProperties();
    }

    @Override
    public Map<String, String> start() {
        try {
            int port = AppProcess.freePort();
            Map<String, String> config = new java.util.HashMap<>(devServices);
            config.put("quarkus.http.port", String.valueOf(port));
            app = AppProcess.start(config);
            String base = "http://localhost:" + port;
            awaitUp(base);
            url = base;
            return Map.of();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void awaitUp(String base) throws IOException {
        HttpClient client = HttpClient.newHttpClient();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(deadline)) {
            if (!app.process.isAlive()) {
                throw new IllegalStateException("the second instance exited:\n" + app.output());
            }
            try {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(base + "/bus/listener"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && response.body().contains("\"listening\":true")) {
                    return;
                }
            } catch (IOException e) {
                // Not up yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("the second instance did not come up within 60 s:\n" + app.output());
    }

    @Override
    public void stop() {
        if (app != null) {
            try {
                app.close();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
