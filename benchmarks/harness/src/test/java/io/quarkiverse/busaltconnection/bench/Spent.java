package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

import io.agroal.api.AgroalDataSource;

/**
 * What the machine and the database spent over a stretch of a scenario: the machine's busy CPU seconds (user, system,
 * interrupts from {@code /proc/stat}; PostgreSQL, PgBouncer, every JVM and the harness together: on two cores the
 * scenarios are bound by it), the part of it PostgreSQL's processes and the JVMs (the applications and the harness)
 * took ({@code /proc/<pid>/stat}, processes alive at both ends), the WAL bytes PostgreSQL wrote, and the transaction
 * ids it handed out.
 */
record Spent(double cpuSeconds, double postgresCpuSeconds, double jvmCpuSeconds, long walBytes, long xids) {

    /** Linux's USER_HZ: {@code /proc} counts CPU time in hundredths of a second on every architecture it runs on. */
    private static final double TICKS_PER_SECOND = 100.0;

    /** The counters at one moment. */
    record Mark(double busyCpuSeconds, Map<Long, ProcessCpu> processes, long wal, long nextXid) {

        /** Reads them; reading assigns no transaction id. */
        static Mark now(AgroalDataSource pooled) throws SQLException, IOException {
            try (Connection connection = pooled.getConnection();
                    Statement statement = connection.createStatement();
                    ResultSet row = statement.executeQuery("SELECT (pg_current_wal_lsn() - '0/0')::bigint,"
                            + " txid_snapshot_xmax(txid_current_snapshot())")) {
                row.next();
                return new Mark(machineBusySeconds(), everyProcess(), row.getLong(1), row.getLong(2));
            }
        }

        /** What was spent from this mark to now. */
        Spent until(AgroalDataSource pooled) throws SQLException, IOException {
            Mark end = now(pooled);
            double postgres = 0;
            double jvms = 0;
            for (Map.Entry<Long, ProcessCpu> process : end.processes.entrySet()) {
                ProcessCpu before = processes.get(process.getKey());
                if (before == null || !before.command().equals(process.getValue().command())) {
                    continue;
                }
                double used = process.getValue().seconds() - before.seconds();
                switch (process.getValue().command()) {
                    case "postgres" -> postgres += used;
                    case "java" -> jvms += used;
                    default -> {
                    }
                }
            }
            return new Spent(end.busyCpuSeconds - busyCpuSeconds, postgres, jvms, end.wal - wal, end.nextXid - nextXid);
        }
    }

    record ProcessCpu(String command, double seconds) {
    }

    Spent plus(Spent other) {
        return new Spent(cpuSeconds + other.cpuSeconds, postgresCpuSeconds + other.postgresCpuSeconds,
                jvmCpuSeconds + other.jvmCpuSeconds, walBytes + other.walBytes, xids + other.xids);
    }

    /**
     * Waits until the machine is quiet (less than {@code cores} busy over a second), at most {@code seconds}: JVMs just
     * started go on compiling for a while after they are ready, which is not what a scenario measures.
     *
     * @return whether it became quiet in time
     */
    static boolean awaitQuiet(double cores, int seconds) throws IOException, InterruptedException {
        for (int waited = 0; waited < seconds; waited++) {
            double before = machineBusySeconds();
            Thread.sleep(1_000);
            if (machineBusySeconds() - before < cores) {
                return true;
            }
        }
        return false;
    }

    private static double machineBusySeconds() throws IOException {
        String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        // cpu user nice system idle iowait irq softirq steal ...
        long busy = 0;
        for (int i : new int[] { 1, 2, 3, 6, 7, 8 }) {
            busy += Long.parseLong(fields[i]);
        }
        return busy / TICKS_PER_SECOND;
    }

    /** Every process's command name and CPU time (user and system), by pid. */
    private static Map<Long, ProcessCpu> everyProcess() throws IOException {
        Map<Long, ProcessCpu> all = new HashMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path entry : entries) {
                try {
                    String stat = Files.readString(entry.resolve("stat"));
                    // pid (comm) state ppid ... utime stime: the command may hold spaces and parentheses.
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String[] fields = stat.substring(close + 2).split(" ");
                    double seconds = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
                    all.put(Long.parseLong(entry.getFileName().toString()),
                            new ProcessCpu(stat.substring(open + 1, close), seconds));
                } catch (IOException | RuntimeException ended) {
                    // The process ended while it was read.
                }
            }
        }
        return all;
    }
}
