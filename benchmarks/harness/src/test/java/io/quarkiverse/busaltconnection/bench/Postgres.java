package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PostgreSQL server of this machine's binaries with production durability (fsync, synchronous_commit and
 * full_page_writes on: a commit returns after its WAL is flushed), in a directory of its own, on loopback. With a
 * shim, {@code LD_PRELOAD} is set for the server process only (its backends inherit it), not for the harness.
 */
final class Postgres implements AutoCloseable {

    static final String HOST = "127.0.0.1";
    /** The settings the report records, as the running server reports them. */
    static final List<String> REPORTED = List.of("server_version", "fsync", "synchronous_commit", "full_page_writes",
            "wal_sync_method", "shared_buffers", "max_connections", "max_wal_size");

    private final Path directory;
    private final int port;
    private final String user;
    private final String password;
    private final Process process;

    private Postgres(Path directory, int port, String user, String password, Process process) {
        this.directory = directory;
        this.port = port;
        this.user = user;
        this.password = password;
        this.process = process;
    }

    /**
     * @param shim the flush-delay library to preload into the server, or null
     */
    static Postgres start(Path directory, int port, String user, String password, Path shim, long delayMicros)
            throws IOException, InterruptedException {
        Path bin = Path.of(Commands.output(List.of("pg_config", "--bindir")).trim());
        Path data = directory.resolve("data");
        Path passwordFile = directory.resolve("password");
        Files.writeString(passwordFile, password);
        ServiceUser.handOver(passwordFile);
        // --no-sync: initdb's final flush of a fresh cluster is not part of any measurement.
        Commands.output(ServiceUser.wrap(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", user,
                "--pwfile=" + passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                "--locale=C", "--no-sync")));
        Files.delete(passwordFile);
        List<String> server = new ArrayList<>();
        if (shim != null) {
            server.addAll(List.of("env", "LD_PRELOAD=" + shim, FlushTools.DELAY_VARIABLE + "=" + delayMicros));
        }
        server.addAll(List.of(bin.resolve("postgres").toString(), "-D", data.toString(), "-p", String.valueOf(port),
                "-k", directory.toString(), "-c", "listen_addresses=" + HOST,
                // Durability as in production (these are PostgreSQL's defaults; Dev Services turn them off).
                "-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on",
                // Common production sizing: room for a direct pool of 128 senders beside PgBouncer's pool, and no
                // checkpoint forced by WAL volume in the middle of a measurement (the time-based one still runs).
                "-c", "shared_buffers=256MB", "-c", "max_connections=300", "-c", "max_wal_size=4GB"));
        Process process = new ProcessBuilder(ServiceUser.wrap(server)).directory(directory.toFile())
                .redirectErrorStream(true).redirectOutput(directory.resolve("postgres.log").toFile()).start();
        Postgres postgres = new Postgres(directory, port, user, password, process);
        try {
            postgres.awaitReady();
        } catch (IOException | RuntimeException e) {
            postgres.close();
            throw e;
        }
        return postgres;
    }

    String url(String database) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + database;
    }

    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(url(database), user, password);
    }

    void execute(String database, String... statements) throws SQLException {
        try (Connection connection = connect(database); Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /** The {@link #REPORTED} settings, as {@code SHOW} prints them. */
    Map<String, String> settings(String database) throws SQLException {
        Map<String, String> settings = new LinkedHashMap<>();
        try (Connection connection = connect(database); Statement statement = connection.createStatement()) {
            for (String name : REPORTED) {
                try (ResultSet result = statement.executeQuery("SHOW " + name)) {
                    result.next();
                    settings.put(name, result.getString(1));
                }
            }
        }
        return settings;
    }

    /** Whether {@code library} is mapped into the server process: proof that the preload took. */
    boolean hasLoaded(Path library) throws IOException {
        Path maps = Path.of("/proc", String.valueOf(process.pid()), "maps");
        return Files.isReadable(maps) && Files.readString(maps).contains(library.getFileName().toString());
    }

    Path dataDirectory() {
        return directory.resolve("data");
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        SQLException last = null;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("PostgreSQL exited:\n" + Files.readString(directory.resolve("postgres.log")));
            }
            try (Connection connection = connect("postgres")) {
                return;
            } catch (SQLException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IOException("PostgreSQL not ready within 60 s", last);
    }

    @Override
    public void close() {
        Commands.stop(process);
    }
}
