package io.quarkiverse.busaltconnection.deployment.devservices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

/**
 * The temporary directories of local runs. Each holds the data, configuration, logs and pid files of one
 * PostgreSQL + PgBouncer, and {@code owner.pid}, the JVM that started them. A JVM that crashed cannot stop its
 * servers; the next start finds its directory (owner no longer alive), stops the servers and removes it.
 */
final class LocalRuns {

    static final String PREFIX = "quarkus-imdispatcher-run-";
    static final String OWNER = "owner.pid";
    private static final Logger LOG = Logger.getLogger(LocalRuns.class);

    private LocalRuns() {
    }

    static Path create(String serviceName) throws IOException {
        Path directory = Files.createTempDirectory(PREFIX + serviceName.replaceAll("[^A-Za-z0-9_-]", "_") + "-");
        Files.writeString(directory.resolve(OWNER), String.valueOf(ProcessHandle.current().pid()));
        return directory;
    }

    /** Stops the servers of runs whose JVM is gone, and removes their directories. */
    static void cleanStale() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> entries = Files.list(tmp)) {
            entries.filter(path -> path.getFileName().toString().startsWith(PREFIX) && Files.isDirectory(path))
                    .filter(path -> !alive(readPid(path.resolve(OWNER))))
                    .forEach(LocalRuns::cleanUp);
        } catch (IOException e) {
            LOG.debugf(e, "Could not look for stale Dev Services runs in %s", tmp);
        }
    }

    private static void cleanUp(Path run) {
        LOG.infof("Stopping the servers of a Dev Services run whose application is gone: %s", run);
        stopServers(run);
        delete(run);
    }

    /** Stops the servers a run's pid files name, if they still run. */
    static void stopServers(Path run) {
        // PgBouncer first: PostgreSQL's shutdown waits for its server connections.
        stop(readPid(run.resolve("pgbouncer.pid")), "pgbouncer");
        stop(readPid(run.resolve("data/postmaster.pid")), "postgres");
    }

    private static void stop(OptionalLong pid, String command) {
        if (pid.isEmpty()) {
            return;
        }
        ProcessHandle.of(pid.getAsLong())
                .filter(process -> process.info().command().map(c -> c.endsWith(command)).orElse(false))
                .ifPresent(process -> {
                    process.destroy();
                    try {
                        process.onExit().get(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        process.destroyForcibly();
                    }
                });
    }

    static void delete(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            LOG.debugf(e, "Could not remove %s", directory);
        }
    }

    static boolean alive(OptionalLong pid) {
        return pid.isPresent() && ProcessHandle.of(pid.getAsLong()).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The first line of a pid file (postmaster.pid holds more lines after it). */
    static OptionalLong readPid(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return lines.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
