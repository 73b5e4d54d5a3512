package io.quarkiverse.busaltconnection.deployment.devservices;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * Lets applications in dev mode share one local PostgreSQL + PgBouncer, as shared containers are found by label: the
 * application that starts them registers them under their service name in the temporary directory; another one
 * finds the entry, checks that its owner is alive and PgBouncer answers, and uses them.
 */
final class SharedLocalStacks {

    private static final Path REGISTRY = Path.of(System.getProperty("java.io.tmpdir"),
            "quarkus-imdispatcher-devservices");

    private SharedLocalStacks() {
    }

    record Entry(String host, int postgresPort, int pgbouncerPort, String dbName, String username, String password) {
    }

    /**
     * @return servers registered by another running application; never this JVM's own, which Quarkus keeps across
     *         live reloads by itself
     */
    static Optional<Entry> find(String serviceName) {
        Path file = file(serviceName);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
            long owner = Long.parseLong(properties.getProperty("owner"));
            if (owner == ProcessHandle.current().pid()) {
                return Optional.empty();
            }
            Entry entry = new Entry(properties.getProperty("host"),
                    Integer.parseInt(properties.getProperty("postgresPort")),
                    Integer.parseInt(properties.getProperty("pgbouncerPort")), properties.getProperty("dbName"),
                    properties.getProperty("username"), properties.getProperty("password"));
            if (LocalRuns.alive(OptionalLong.of(owner)) && answers(entry.host(), entry.pgbouncerPort())) {
                return Optional.of(entry);
            }
        } catch (IOException | RuntimeException e) {
            // An unreadable or stale entry: forget it, a new run replaces it.
        }
        deleteQuietly(file);
        return Optional.empty();
    }

    static void register(String serviceName, Entry entry) throws IOException {
        Files.createDirectories(REGISTRY);
        Properties properties = new Properties();
        properties.setProperty("owner", String.valueOf(ProcessHandle.current().pid()));
        properties.setProperty("host", entry.host());
        properties.setProperty("postgresPort", String.valueOf(entry.postgresPort()));
        properties.setProperty("pgbouncerPort", String.valueOf(entry.pgbouncerPort()));
        properties.setProperty("dbName", entry.dbName());
        properties.setProperty("username", entry.username());
        properties.setProperty("password", entry.password());
        Path file = file(serviceName);
        Path written = Files.createTempFile(REGISTRY, "entry-", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer writer = Files.newBufferedWriter(written)) {
            properties.store(writer, "Dev Services for Bus Alt Connection, shared local servers");
        }
        Files.move(written, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes the entry if this JVM registered it. */
    static void unregister(String serviceName) {
        Path file = file(serviceName);
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        } catch (IOException e) {
            return;
        }
        if (String.valueOf(ProcessHandle.current().pid()).equals(properties.getProperty("owner"))) {
            deleteQuietly(file);
            deleteQuietly(REGISTRY); // only when empty: other services may be registered
        }
    }

    private static Path file(String serviceName) {
        return REGISTRY.resolve(serviceName.replaceAll("[^A-Za-z0-9_-]", "_") + ".properties");
    }

    private static boolean answers(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // Left for the next look-up to replace.
        }
    }
}
