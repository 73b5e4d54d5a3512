package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One disk's servers: a {@link Postgres} with production durability (with the flush-delay shim on the 1 ms disk) and
 * a {@link PgBouncer} in transaction mode in front of it, with the database, the user and the baselines' table.
 */
final class Stack implements AutoCloseable {

    static final String DATABASE = "bench";
    static final String USER = "bench";
    static final String PASSWORD = "bench";
    /** Shaped like the bus table, for the pgbench and JDBC baselines (the extension's own table is its business). */
    static final String OUTBOX_TABLE = "CREATE TABLE bench_outbox (id bigserial PRIMARY KEY, channel text NOT NULL,"
            + " payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())";

    /**
     * The bus table's own shape (columns, defaults and indexes), for the single-sender comparison: the bare statement
     * then writes exactly what {@code Bus.send} writes.
     */
    static final List<String> BUS_SHAPED_TABLE = List.of(
            "CREATE TABLE bench_bus_shaped (id bigserial NOT NULL, xid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
                    + " channel text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
                    + " traceparent text, message_key text)",
            "CREATE INDEX ON bench_bus_shaped (xid, id)");

    final Disk disk;
    final Servers servers;
    private final Path directory;
    private final Postgres postgres;
    private final PgBouncer pgbouncer;
    private final boolean shimLoaded;
    private final Thread stopAtExit = new Thread(this::stop, "bench-stack-stop");

    private Stack(Disk disk, Servers servers, Path directory, Postgres postgres, PgBouncer pgbouncer,
            boolean shimLoaded) {
        this.disk = disk;
        this.servers = servers;
        this.directory = directory;
        this.postgres = postgres;
        this.pgbouncer = pgbouncer;
        this.shimLoaded = shimLoaded;
    }

    static Stack start(Disk disk, FlushTools tools, long delayMicros) throws Exception {
        Path directory = Files.createTempDirectory("bench-stack-" + disk.key + "-");
        ServiceUser.handOver(directory);
        Servers servers = new Servers(Postgres.HOST, freePort(), freePort(), DATABASE, USER, PASSWORD);
        Path shim = disk == Disk.SLOW_FLUSH ? tools.shim() : null;
        Postgres postgres = null;
        try {
            postgres = Postgres.start(directory, servers.postgresPort(), USER, PASSWORD, shim, delayMicros);
            postgres.execute("postgres", "CREATE DATABASE " + DATABASE);
            postgres.execute(DATABASE, OUTBOX_TABLE);
            for (String statement : BUS_SHAPED_TABLE) {
                postgres.execute(DATABASE, statement);
            }
            PgBouncer pgbouncer = PgBouncer.start(directory, servers);
            Stack stack = new Stack(disk, servers, directory, postgres, pgbouncer,
                    shim != null && postgres.hasLoaded(shim));
            Runtime.getRuntime().addShutdownHook(stack.stopAtExit);
            return stack;
        } catch (Exception e) {
            if (postgres != null) {
                postgres.close();
            }
            delete(directory);
            throw e;
        }
    }

    Map<String, String> postgresSettings() throws Exception {
        return postgres.settings(DATABASE);
    }

    Map<String, String> pgbouncerSettings() throws Exception {
        return pgbouncer.settings();
    }

    boolean shimLoaded() {
        return shimLoaded;
    }

    /** A directory on the data directory's file system, for the flush timer. */
    Path scratch() {
        return directory;
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(stopAtExit);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running.
        }
        stop();
    }

    private synchronized void stop() {
        pgbouncer.close();
        postgres.close();
        delete(directory);
    }

    private static void delete(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // A temporary directory: the system cleans it eventually.
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(Postgres.HOST, 0));
            return socket.getLocalPort();
        }
    }
}
