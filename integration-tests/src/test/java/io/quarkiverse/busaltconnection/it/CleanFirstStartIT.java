package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The packaged application in prod mode, through PgBouncer, on a brand-new database: it creates its schema, its
 * scheduled jobs run (every second here), a message goes through, and the log holds no ERROR and no stack trace.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class CleanFirstStartIT {

    @Test
    void aBrandNewDatabaseGivesAQuietStart() throws Exception {
        int port = AppProcess.freePort();
        try (FreshDatabase database = new FreshDatabase("fresh")) {
            Map<String, String> config = database.appConfig(port);
            // Every job early and often: the first runs come while the application starts.
            config.put("quarkus.imdispatcher.bus.cleanup-interval", "1s");
            config.put("quarkus.imdispatcher.probe.interval", "1s");
            try (AppProcess app = AppProcess.start(config)) {
                app.awaitHttp(port, "/q/health/ready");
                String base = "http://localhost:" + port;
                HttpClient client = HttpClient.newHttpClient();
                client.send(HttpRequest.newBuilder(URI.create(base + "/bus/send/greetings"))
                        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("first"))
                        .build(), HttpResponse.BodyHandlers.discarding());
                await().atMost(Duration.ofSeconds(15)).until(() -> client.send(HttpRequest.newBuilder(
                        URI.create(base + "/bus/received/greetings")).build(), HttpResponse.BodyHandlers.ofString())
                        .body().contains("first@greetings#"));
                // Several runs of each scheduled job, counted by the scheduler's events: none failed.
                await().atMost(Duration.ofSeconds(15)).until(() -> {
                    String runs = client.send(HttpRequest.newBuilder(URI.create(base + "/bus/jobs")).build(),
                            HttpResponse.BodyHandlers.ofString()).body();
                    return runs(runs, "imdispatcher-bus-retention succeeded") >= 3
                            && runs(runs, "imdispatcher-listener-probe succeeded") >= 3;
                });
                String jobs = client.send(HttpRequest.newBuilder(URI.create(base + "/bus/jobs")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertFalse(jobs.contains(" failed\""), "a job failed: " + jobs);
                String output = app.output();
                assertTrue(output.contains("Bus listener connected"), output);
                assertFalse(output.contains(" ERROR "), "an ERROR on a clean first start:\n" + output);
                assertFalse(output.contains("\tat "), "a stack trace on a clean first start:\n" + output);
            }
        }
    }

    /** The count of {@code key} in the /bus/jobs answer ({"identity outcome": count, ...}), 0 if absent. */
    private static long runs(String json, String key) {
        Matcher count = Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
        return count.find() ? Long.parseLong(count.group(1)) : 0;
    }
}
