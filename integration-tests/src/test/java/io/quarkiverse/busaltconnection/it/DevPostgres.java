package io.quarkiverse.busaltconnection.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Dev Services PostgreSQL as an operator handles it: stopped, started the way it was started, its data directory
 * copied and put back later. A copy put back is an earlier physical copy of the same cluster, as a restored backup or
 * a promoted asynchronous standby is: the same system identifier and database oids, the last commits missing.
 */
final class DevPostgres {

    private final Path data;
    private final List<String> command;

    private DevPostgres(Path data) throws IOException {
        this.data = data;
        this.command = postmasterCommand(data);
    }

    /** The server {@code connection} is connected to (directly, not through PgBouncer). */
    static DevPostgres of(Connection connection) throws SQLException, IOException {
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SHOW data_directory")) {
            result.next();
            return new DevPostgres(Path.of(result.getString(1)));
        }
    }

    /** The Dev Services run directory: the data directory's parent, where PgBouncer's files are too. */
    Path runDirectory() {
        return data.getParent();
    }

    /** A fast shutdown (open sessions are ended), waiting until the server is down. */
    void stop() throws IOException {
        ServerProcesses.runAs(data, List.of(pgCtl(), "-D", data.toString(), "-m", "fast", "-w", "stop"), Map.of());
    }

    /**
     * Starts the server again with the command line it last started with, and {@code settings} ({@code name=value})
     * after it; returns without waiting for it.
     */
    Process start(String... settings) throws IOException {
        List<String> withSettings = new ArrayList<>(command);
        for (String setting : settings) {
            withSettings.addAll(List.of("-c", setting));
        }
        return ServerProcesses.start(data, withSettings, Files.createTempFile("postgres-restart", ".log"));
    }

    /** Copies the data directory of the stopped server beside it, as {@code name}. */
    Path copy(String name) throws IOException {
        Path copy = runDirectory().resolve(name);
        ServerProcesses.runAs(data, List.of("cp", "-a", data.toString(), copy.toString()), Map.of());
        return copy;
    }

    /**
     * A standby of the running server that will never hear from it again, beside its data directory as
     * {@code name}: a base backup with the write-ahead log up to its end, and a {@code standby.signal} without a
     * primary to follow. Put back and {@link #promote() promoted}, it is the asynchronous standby of a failover that
     * had not received the primary's last commits, on a new timeline.
     */
    Path standby(String name, int port, String user, String password) throws IOException {
        Path standby = runDirectory().resolve(name);
        ServerProcesses.runAs(data, List.of(ServerProcesses.bindir().resolve("pg_basebackup").toString(), "-h",
                "127.0.0.1", "-p", String.valueOf(port), "-U", user, "-D", standby.toString(), "-X", "stream", "-c",
                "fast"), Map.of("PGPASSWORD", password));
        ServerProcesses.runAs(data, List.of("touch", standby.resolve("standby.signal").toString()), Map.of());
        return standby;
    }

    /** Ends the recovery of a started standby, waiting until it accepts writes on its new timeline. */
    void promote() throws IOException {
        ServerProcesses.runAs(data, List.of(pgCtl(), "-D", data.toString(), "-w", "-t", "60", "promote"), Map.of());
    }

    /** Puts {@code copy} in the place of the stopped server's data directory; what was there is deleted. */
    void restore(Path copy) throws IOException {
        Path replaced = runDirectory().resolve(data.getFileName() + "-replaced");
        ServerProcesses.runAs(data, List.of("mv", data.toString(), replaced.toString()), Map.of());
        ServerProcesses.runAs(copy, List.of("mv", copy.toString(), data.toString()), Map.of());
        ServerProcesses.runAs(data, List.of("rm", "-rf", replaced.toString()), Map.of());
    }

    private static String pgCtl() throws IOException {
        return ServerProcesses.bindir().resolve("pg_ctl").toString();
    }

    /** The command line the running postmaster was started with (postmaster.opts), to start it the same way. */
    private static List<String> postmasterCommand(Path data) throws IOException {
        String options = Files.readString(data.resolve("postmaster.opts")).trim();
        List<String> command = new ArrayList<>();
        Matcher token = Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(options);
        while (token.find()) {
            command.add(token.group(1) != null ? token.group(1) : token.group(2));
        }
        return command;
    }
}
