package io.quarkiverse.busaltconnection.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Test mode on local Dev Services with a bus table of its own name, new in this database: the schema is created,
 * every scheduled job runs several times (every second here), a message goes through the custom table, and the log
 * holds no ERROR and no stack trace.
 */
@QuarkusTest
@TestProfile(CleanTestModeStartTest.FreshTableAndFrequentJobs.class)
class CleanTestModeStartTest {

    /** One per test JVM (the profile and the test may see this class in different class loaders). */
    static final Path LOG = Path.of("target", "clean-test-mode-start-" + ProcessHandle.current().pid() + ".log");
    static final String TABLE = "clean_start_bus";

    public static class FreshTableAndFrequentJobs implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.imdispatcher.bus.table", TABLE,
                    "quarkus.imdispatcher.bus.cleanup-interval", "1s",
                    "quarkus.imdispatcher.probe.interval", "1s",
                    "quarkus.log.file.enabled", "true",
                    "quarkus.log.file.path", LOG.toAbsolutePath().toString());
        }
    }

    @Inject
    JobRuns jobRuns;

    @Test
    void aNewSchemaGivesAQuietStartAndTheCustomTableCarriesTheBus() throws Exception {
        String text = DeliveryTest.unique("clean-start");
        DeliveryTest.send("greetings", text);
        await().atMost(Duration.ofSeconds(15))
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(text + "@")));
        try (Connection connection = DurableBusTest.direct();
                PreparedStatement count = connection.prepareStatement(
                        "SELECT count(*) FROM " + TABLE + " WHERE payload = ?")) {
            count.setString(1, text);
            try (ResultSet result = count.executeQuery()) {
                result.next();
                assertEquals(1, result.getInt(1), "the message is not in the configured table");
            }
        }
        // Several runs of each scheduled job, counted by the scheduler's events: none failed.
        await().atMost(Duration.ofSeconds(15)).until(() -> jobRuns.counts().getOrDefault(
                "imdispatcher-bus-retention succeeded", 0L) >= 3
                && jobRuns.counts().getOrDefault("imdispatcher-listener-probe succeeded", 0L) >= 3);
        assertFalse(jobRuns.counts().keySet().stream().anyMatch(key -> key.endsWith(" failed")),
                "a job failed: " + jobRuns.counts());
        String log = Files.readString(LOG);
        assertTrue(log.contains("This instance sequences the bus 'public." + TABLE + "'"), log);
        assertFalse(log.contains(" ERROR "), "an ERROR on a clean start:\n" + log);
        assertFalse(log.contains("\tat "), "a stack trace on a clean start:\n" + log);
    }
}
