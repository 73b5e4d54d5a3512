package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The database-side baselines: pgbench clients through the same PgBouncer as every sender, one statement (one
 * transaction, autocommit) per message, about 100 bytes of payload.
 */
final class Pgbench {

    /** One script: what each pgbench transaction runs. */
    enum Script {
        /** The durable limit: one row per commit, as a bus message is. */
        INSERT("INSERT only", "INSERT INTO bench_outbox (channel, payload) VALUES ('bench', '" + payload() + "');"),
        /** The classic outbox: the row and its NOTIFY in one transaction (one statement, one round trip). */
        INSERT_NOTIFY("INSERT + pg_notify", "WITH m AS (INSERT INTO bench_outbox (channel, payload) VALUES"
                + " ('bench', '" + payload() + "') RETURNING id) SELECT pg_notify('bench_pgbench', id::text) FROM m;"),
        /** Not durable, for reference: a NOTIFY alone writes no WAL and waits for no flush. */
        NOTIFY("pg_notify alone", "SELECT pg_notify('bench_pgbench', '" + payload() + "');");

        final String label;
        final String sql;

        Script(String label, String sql) {
            this.label = label;
            this.sql = sql;
        }
    }

    /** Transactions per second (excluding connection time) and mean latency. */
    record Result(double tps, double latencyMillis, long transactions) {
    }

    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
    private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");

    private final Servers servers;
    private final Path bin;
    private final Path scripts;

    Pgbench(Servers servers, Path scripts) throws IOException {
        this.servers = servers;
        this.bin = Path.of(Commands.output(List.of("pg_config", "--bindir")).trim()).resolve("pgbench");
        this.scripts = scripts;
    }

    /** {@code pgbench -n -f script -c clients -j min(2, clients) -T seconds} against PgBouncer. */
    Result run(Script script, int clients, Duration duration) throws IOException {
        Path file = scripts.resolve(script.name().toLowerCase() + ".sql");
        Files.writeString(file, script.sql + "\n");
        String output = Commands.output(List.of(bin.toString(), "-n", "-h", servers.host(), "-p",
                String.valueOf(servers.pgbouncerPort()), "-U", servers.user(), "-f", file.toString(), "-c",
                String.valueOf(clients), "-j", String.valueOf(Math.min(2, clients)), "-T",
                String.valueOf(Math.max(1, duration.toSeconds())), servers.database()),
                Map.of("PGPASSWORD", servers.password()), null);
        return new Result(number(TPS, output), number(LATENCY, output), (long) number(PROCESSED, output));
    }

    /** About 100 bytes, like the benchmark's messages. */
    static String payload() {
        return "x".repeat(100);
    }

    private static double number(Pattern pattern, String output) throws IOException {
        Matcher matcher = pattern.matcher(output);
        if (!matcher.find()) {
            throw new IOException("unexpected pgbench output:\n" + output);
        }
        return Double.parseDouble(matcher.group(1));
    }
}
