package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * A slow listener in a JVM with a small heap, behind a backlog far larger than that heap: it receives every message, in
 * order, without running out of memory, because it reads the backlog from the table a page at a time.
 */
@QuarkusIntegrationTest
@WithTestResource(value = DevServicesProperties.class, scope = TestResourceScope.MATCHING_RESOURCES)
class SlowListenerIT {

    private static final Logger LOG = Logger.getLogger(SlowListenerIT.class);
    private static final int MESSAGES = 20_000;
    private static final int PAYLOAD_BYTES = 10_240;

    @Test
    void aSlowListenerInA128MegabyteHeapDrainsA200MegabyteBacklog() throws Exception {
        int port = AppProcess.freePort();
        Map<String, String> config = new HashMap<>(DevServicesProperties.get());
        config.put("quarkus.http.port", String.valueOf(port));
        config.put("demo.drain.pause-micros", "300");
        try (AppProcess slow = AppProcess.start(config, List.of("-Xmx128m", "-XX:+ExitOnOutOfMemoryError"))) {
            slow.awaitHttp(port, "/bus/listener");
            String base = "http://localhost:" + port;
            long idle = Long.parseLong(get(base + "/bus/heap"));
            String run = "drain" + System.nanoTime();
            // The whole backlog committed at once: 20,000 messages of 10 KB, about 200 MB, in one transaction.
            try (Connection connection = DurableBusTest.direct();
                    PreparedStatement insert = connection.prepareStatement("INSERT INTO imdispatcher_bus"
                            + " (channel, payload) SELECT 'drain', ? || ':' || (g - 1) || ':' || repeat(md5(g::text), ?)"
                            + " FROM generate_series(1, ?) AS g ORDER BY g")) {
                insert.setString(1, run);
                insert.setInt(2, PAYLOAD_BYTES / 32);
                insert.setInt(3, MESSAGES);
                insert.executeUpdate();
                try (Statement wake = connection.createStatement()) {
                    wake.execute("NOTIFY imdispatcher_bus");
                }
            }
            long peak = idle;
            long deadline = System.currentTimeMillis() + 180_000;
            String state = "";
            while (System.currentTimeMillis() < deadline) {
                state = get(base + "/bus/drain");
                if (state.equals(run + " " + MESSAGES + " 0")) {
                    break;
                }
                peak = Math.max(peak, Long.parseLong(get(base + "/bus/heap")));
                Thread.sleep(1_000);
            }
            LOG.infof("[slow-listener] %d messages of %d bytes drained; heap after GC: idle %d MB, peak %d MB",
                    MESSAGES, PAYLOAD_BYTES, idle >> 20, peak >> 20);
            assertEquals(run + " " + MESSAGES + " 0", state, "received (run, count, out of order)");
            String output = slow.output();
            assertFalse(output.contains("OutOfMemoryError"), "the slow instance ran out of memory");
            assertFalse(output.contains(" ERROR "), "the slow instance logged an error:\n" + output);
        }
    }

    private static String get(String url) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

}
