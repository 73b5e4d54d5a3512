package io.quarkiverse.busaltconnection.deployment.devservices;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run left by a JVM that is gone has its servers stopped and its directory removed when the next one starts; a run
 * whose JVM lives is left alone.
 */
class StaleRunCleanupTest {

    @Test
    void aRunWhoseOwnerIsGoneIsStoppedAndRemoved(@TempDir Path bin) throws Exception {
        // A process the cleanup takes for the run's PgBouncer: its command is named pgbouncer.
        Path fakePgbouncer = Files.copy(Path.of("/bin/sleep"), bin.resolve("pgbouncer"),
                StandardCopyOption.COPY_ATTRIBUTES);
        Process server = new ProcessBuilder(fakePgbouncer.toString(), "120").start();
        Process goneOwner = new ProcessBuilder("true").start();
        goneOwner.waitFor();

        Path stale = LocalRuns.create("stale-test");
        Files.writeString(stale.resolve(LocalRuns.OWNER), String.valueOf(goneOwner.pid()));
        Files.writeString(stale.resolve("pgbouncer.pid"), server.pid() + "\n");
        Path live = LocalRuns.create("live-test");
        try {
            LocalRuns.cleanStale();
            assertTrue(server.waitFor(20, TimeUnit.SECONDS), "the stale run's server still runs");
            assertFalse(Files.exists(stale), "the stale run's directory is still there");
            assertTrue(Files.exists(live.resolve(LocalRuns.OWNER)), "the run of a living JVM was removed");
        } finally {
            server.destroyForcibly();
            LocalRuns.delete(live);
            LocalRuns.delete(stale);
        }
    }
}
