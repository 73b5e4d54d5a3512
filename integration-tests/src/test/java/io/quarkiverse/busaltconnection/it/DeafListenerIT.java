package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * A listening connection that stays open but stops hearing notifications (here: a proxy drops them) is found by
 * the periodic probe and reconnected; the new connection hears again, and the bus delivers throughout.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class DeafListenerIT {

    @Test
    void theProbeReconnectsADeafListener() throws Exception {
        Map<String, String> dev = DevServicesProperties.get();
        try (NotificationDroppingProxy proxy = new NotificationDroppingProxy(dev.get("quarkus.imdispatcher.db-host"),
                Integer.parseInt(dev.get("quarkus.imdispatcher.db-port")))) {
            int port = AppProcess.freePort();
            Map<String, String> config = new HashMap<>(dev);
            config.put("quarkus.http.port", String.valueOf(port));
            config.put("quarkus.imdispatcher.db-host", "127.0.0.1");
            config.put("quarkus.imdispatcher.db-port", String.valueOf(proxy.port()));
            // The proxy reads the server's messages: no TLS on the direct path.
            config.put("quarkus.imdispatcher.ssl-mode", "disable");
            config.put("quarkus.imdispatcher.probe.interval", "1s");
            config.put("quarkus.imdispatcher.probe.timeout", "1s");
            try (AppProcess app = AppProcess.start(config)) {
                app.awaitHttp(port, "/q/health/ready");
                String base = "http://localhost:" + port;
                send(base, "before");
                awaitReceived(base, "before");

                assertTrue(proxy.deafenOpenConnections() >= 1, "no connection through the proxy");
                send(base, "while-deaf");
                await().atMost(Duration.ofSeconds(20)).until(() -> app.output().contains("is deaf"));
                await().atMost(Duration.ofSeconds(20)).until(() -> app.output().contains("Bus listener reconnected"));
                awaitReceived(base, "while-deaf");
                app.awaitHttp(port, "/q/health/ready");
                send(base, "after");
                awaitReceived(base, "after");
            }
        }
    }

    private static void send(String base, String text) throws Exception {
        HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/bus/send/greetings"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(text)).build(),
                HttpResponse.BodyHandlers.discarding());
    }

    private static void awaitReceived(String base, String text) {
        await().atMost(Duration.ofSeconds(20)).until(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(base + "/bus/received/greetings")).build(), HttpResponse.BodyHandlers.ofString()).body()
                .contains("\"" + text + "@greetings#"));
    }
}
