package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

/** PgBouncer in transaction pooling mode in front of a {@link Postgres}, as the pooled path runs in production. */
final class PgBouncer implements AutoCloseable {

    /** PgBouncer's server connections per database and user: its default. */
    static final int DEFAULT_POOL_SIZE = 20;
    /** Room for the sending application's 150 connections, 128 pgbench clients and the baselines' pools at once. */
    static final int MAX_CLIENT_CONN = 1000;
    /** The settings the report records, as the admin console's SHOW CONFIG reports them. */
    static final List<String> REPORTED = List.of("pool_mode", "default_pool_size", "max_client_conn",
            "ignore_startup_parameters");

    private final Servers servers;
    private final Process process;

    private PgBouncer(Servers servers, Process process) {
        this.servers = servers;
        this.process = process;
    }

    static PgBouncer start(Path directory, Servers servers) throws IOException, InterruptedException {
        Path users = directory.resolve("userlist.txt");
        Files.writeString(users, "\"" + servers.user() + "\" \"" + servers.password() + "\"\n");
        Path ini = directory.resolve("pgbouncer.ini");
        Files.writeString(ini, String.join("\n",
                "[databases]",
                servers.database() + " = host=" + servers.host() + " port=" + servers.postgresPort() + " dbname="
                        + servers.database(),
                "[pgbouncer]",
                "listen_addr = " + servers.host(),
                "listen_port = " + servers.pgbouncerPort(),
                "unix_socket_dir =",
                "pidfile = " + directory.resolve("pgbouncer.pid"),
                "auth_type = scram-sha-256",
                "auth_file = " + users,
                "pool_mode = transaction",
                "default_pool_size = " + DEFAULT_POOL_SIZE,
                "max_client_conn = " + MAX_CLIENT_CONN,
                // pgjdbc sends it at startup; PgBouncer refuses the connection unless told to ignore it.
                "ignore_startup_parameters = extra_float_digits",
                "admin_users = " + servers.user(),
                "stats_users = " + servers.user(),
                ""));
        ServiceUser.handOver(users);
        ServiceUser.handOver(ini);
        Process process = new ProcessBuilder(ServiceUser.wrap(List.of(binary(), ini.toString())))
                .directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(directory.resolve("pgbouncer.log").toFile()).start();
        PgBouncer pgbouncer = new PgBouncer(servers, process);
        try {
            pgbouncer.awaitReady(directory);
        } catch (IOException | RuntimeException e) {
            pgbouncer.close();
            throw e;
        }
        return pgbouncer;
    }

    /** {@code SHOW VERSION} and the {@link #REPORTED} keys of {@code SHOW CONFIG}, from the admin console. */
    Map<String, String> settings() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("version", admin("SHOW VERSION").get(0).getString(0));
        for (Row row : admin("SHOW CONFIG")) {
            if (REPORTED.contains(row.getString("key"))) {
                settings.put(row.getString("key"), row.getString("value"));
            }
        }
        return settings;
    }

    /**
     * The admin console speaks only the simple query protocol and refuses pgjdbc's startup parameters whatever
     * ignore_startup_parameters says: the Vert.x client, with only the parameters the console tracks.
     */
    private List<Row> admin(String command) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            PgConnection connection = PgConnection.connect(vertx, new PgConnectOptions().setHost(servers.host())
                    .setPort(servers.pgbouncerPort()).setDatabase("pgbouncer").setUser(servers.user())
                    .setPassword(servers.password())
                    .setProperties(Map.of("client_encoding", "UTF8", "application_name", "bench-admin")))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            try {
                List<Row> rows = new java.util.ArrayList<>();
                connection.query(command).execute().toCompletionStage().toCompletableFuture()
                        .get(10, TimeUnit.SECONDS).forEach(rows::add);
                return rows;
            } finally {
                connection.close();
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static String binary() {
        for (String candidate : List.of("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return "pgbouncer";
    }

    private void awaitReady(Path directory) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        SQLException last = null;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("PgBouncer exited (scripts/prerequisites.sh installs it):\n"
                        + Files.readString(directory.resolve("pgbouncer.log")));
            }
            try (Connection connection = DriverManager.getConnection(servers.pooledUrl(), servers.user(),
                    servers.password())) {
                connection.createStatement().execute("SELECT 1");
                return;
            } catch (SQLException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IOException("PgBouncer not ready within 30 s", last);
    }

    @Override
    public void close() {
        Commands.stop(process);
    }
}
