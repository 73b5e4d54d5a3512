package io.quarkiverse.busaltconnection.deployment.devservices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherBuildTimeConfig.DevServices.Mode;

/**
 * Where the local binaries are looked up, and the one message given when they and a container runtime are missing.
 */
class LocalBinariesTest {

    @TempDir
    Path root;

    @Test
    void foundOnPath() throws IOException {
        Path bin = Files.createDirectories(root.resolve("bin"));
        executable(bin.resolve("initdb"));
        executable(bin.resolve("postgres"));
        executable(bin.resolve("pgbouncer"));
        LocalBinaries.Lookup lookup = LocalBinaries.lookup(bin.toString(), root.resolve("none"), root.resolve("none"));
        assertEquals(new LocalBinaries(bin, bin.resolve("pgbouncer")), lookup.binaries().orElseThrow());
    }

    @Test
    void foundInDebiansLayoutNewestVersionFirst() throws IOException {
        for (String version : new String[] { "13", "15" }) {
            Path bin = Files.createDirectories(root.resolve("postgresql").resolve(version).resolve("bin"));
            executable(bin.resolve("initdb"));
            executable(bin.resolve("postgres"));
        }
        Path pgbouncer = executable(root.resolve("pgbouncer"));
        LocalBinaries.Lookup lookup = LocalBinaries.lookup("", root.resolve("postgresql"), pgbouncer);
        assertEquals(root.resolve("postgresql/15/bin"), lookup.binaries().orElseThrow().postgresBin());
    }

    @Test
    void neitherContainersNorBinariesGiveOneMessageSayingWhatToDo() {
        LocalBinaries.Lookup lookup = LocalBinaries.lookup("", root.resolve("none"), root.resolve("none"));
        assertTrue(lookup.binaries().isEmpty());
        String message = ImDispatcherDevServicesProcessor.cannotStart(Mode.AUTO, lookup,
                new ImDispatcherDevServicesProcessor.DataSourceKeys("<default>"));
        for (String expected : new String[] { "no container runtime is available",
                "the PostgreSQL server binaries (initdb, postgres", "pgbouncer (not on PATH",
                "apt-get install -y postgresql pgbouncer", "Start Docker or Podman",
                "quarkus.datasource.jdbc.url", "quarkus.imdispatcher.devservices.enabled=false" }) {
            assertTrue(message.contains(expected), "missing <" + expected + "> in: " + message);
        }
    }

    private static Path executable(Path file) throws IOException {
        Files.writeString(file, "#!/bin/sh\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }
}
