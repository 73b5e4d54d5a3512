package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import org.postgresql.PGConnection;

import io.agroal.api.AgroalDataSource;

/**
 * What a fleet of listening instances costs the bus: the storage scenario's bus side at 32 senders (1 KB messages on a
 * channel no instance reads) while 1, 10 and 100 instances listen. Instances are the receiving application, real JVMs
 * up to {@link #REAL}; beyond that, {@link StandIn stand-ins}. PostgreSQL before 19 signals every listening backend of
 * the database at every NOTIFY, whatever its channel, and each instance answers a head hint with a read of the state
 * row: that is the cost measured, on PostgreSQL's CPU and on the rate.
 */
final class FleetScenario {

    static final int SENDERS = 32;
    /** Real instances the two cores hold beside PostgreSQL, PgBouncer, the sender and the harness. */
    static final int REAL = 10;
    /**
     * The fleets measured, in this order: listening instances, of them real. 100 with one real instance is what
     * PostgreSQL pays for listeners (the goal's measure: in production the other instances' JVMs run on other
     * machines); with real ones, their JVMs also take this machine's cores.
     */
    private static final List<Fleet> FLEETS = List.of(new Fleet(1, 1), new Fleet(100, 1), new Fleet(REAL, REAL),
            new Fleet(100, REAL));

    record Fleet(int instances, int real) {
    }

    /** What "quiet" means before a measurement: the machine less busy than this many cores, waited for at most ... */
    private static final double QUIET_CORES = 0.3;
    /** ... this many seconds. */
    private static final int QUIET_WAIT_SECONDS = 90;

    /**
     * One fleet size: how many instances listened, how many were real JVMs, the bus side, the head hints one stand-in
     * received, and the stand-ins' reads of the state row.
     */
    record Row(int instances, int real, StorageScenario.Side bus, long hints, long standInReads, RunStats latency) {
    }

    record Result(Disk disk, List<Row> rows) {

        Row at(int instances, int real) {
            return rows.stream().filter(r -> r.instances() == instances && r.real() == real).findFirst().orElse(null);
        }
    }

    /**
     * A listening instance without a JVM, whose listeners read other channels than the messages': a direct connection
     * that LISTENs on the bus's head channel and, as an instance does, reads the state row (once, with the statement an
     * instance's head watch runs) only for hints that name no channels.
     */
    static final class StandIn implements AutoCloseable {

        /** BusTable.head() for the default table. */
        private static final String HEAD = "SELECT epoch, last_position, epoch_base, (database_oid <> (SELECT oid"
                + " FROM pg_database WHERE datname = current_database()) OR xid_horizon >="
                + " pg_snapshot_xmax(pg_current_snapshot())) FROM imdispatcher_bus_state";

        private final Connection connection;
        private final Thread thread;
        private final AtomicLong reads;
        /** Head hints received. */
        final AtomicLong hints = new AtomicLong();
        private volatile boolean running = true;

        private StandIn(Connection connection, AtomicLong reads, int n) {
            this.connection = connection;
            this.reads = reads;
            this.thread = new Thread(this::listen, "fleet-stand-in-" + n);
            thread.setDaemon(true);
            thread.start();
        }

        static StandIn open(Servers servers, AtomicLong reads, int n) throws SQLException {
            Properties properties = new Properties();
            properties.setProperty("user", servers.user());
            properties.setProperty("password", servers.password());
            // Named as an instance's listening connection is, so that the sequencer counts it as one.
            properties.setProperty("ApplicationName", "imdispatcher");
            Connection connection = DriverManager.getConnection(servers.directUrl(), properties);
            try (Statement statement = connection.createStatement()) {
                statement.execute("LISTEN imdispatcher_bus_head");
            }
            return new StandIn(connection, reads, n);
        }

        private void listen() {
            try (Statement statement = connection.createStatement()) {
                PGConnection pg = connection.unwrap(PGConnection.class);
                while (running) {
                    var notifications = pg.getNotifications(500);
                    hints.addAndGet(notifications == null ? 0 : notifications.length);
                    if (notifications != null && Arrays.stream(notifications)
                            .anyMatch(hint -> !hint.getParameter().contains("\"c\""))) {
                        statement.executeQuery(HEAD).close();
                        reads.incrementAndGet();
                    }
                }
            } catch (SQLException e) {
                if (running) {
                    Progress.log("fleet stand-in %s: %s", thread.getName(), e.getMessage());
                }
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            thread.join(2_000);
            connection.close();
        }
    }

    private final Plan plan;

    FleetScenario(Plan plan) {
        this.plan = plan;
    }

    /** {@code receiver} is the first instance of the fleet (and its sequencer). */
    Result run(Disk disk, Stack stack, Apps apps, AppInstance sender, AppInstance receiver, AgroalDataSource pooled)
            throws Exception {
        StorageScenario storage = new StorageScenario(plan);
        List<AppInstance> real = new ArrayList<>();
        List<StandIn> standIns = new ArrayList<>();
        AtomicLong reads = new AtomicLong();
        List<Row> rows = new ArrayList<>();
        try {
            for (Fleet fleet : FLEETS) {
                boolean started = false;
                while (1 + real.size() < fleet.real()) {
                    real.add(apps.fleetMember(stack, "fleet-" + (real.size() + 2)));
                    started = true;
                }
                while (fleet.real() + standIns.size() < fleet.instances()) {
                    standIns.add(StandIn.open(stack.servers, reads, standIns.size() + 1));
                }
                while (fleet.real() + standIns.size() > fleet.instances()) {
                    standIns.remove(standIns.size() - 1).close();
                }
                int size = fleet.instances();
                // Instances just started compile their code for a while yet: a cost of their start, not of their
                // listening.
                if (!Spent.awaitQuiet(QUIET_CORES, QUIET_WAIT_SECONDS)) {
                    Progress.log("fleet of %d: the machine was not quiet after %d s; measuring anyway", size,
                            QUIET_WAIT_SECONDS);
                }
                // Warm-up at this size, not measured; as long as a measurement when instances just started, whose
                // code compiles as the hints come.
                storage.bus(sender, pooled, SENDERS, storage.messages(SENDERS) / (started ? 1 : 10));
                long readsBefore = reads.get();
                long hintsBefore = standIns.isEmpty() ? 0 : standIns.get(0).hints.get();
                StorageScenario.Side bus = storage.bus(sender, pooled, SENDERS, storage.messages(SENDERS));
                long hints = standIns.isEmpty() ? -1 : standIns.get(0).hints.get() - hintsBefore;
                long standInReads = reads.get() - readsBefore;
                Row row = new Row(size, 1 + real.size(), bus, hints, standInReads, latency(sender, receiver));
                Progress.log("fleet of %d (%d real): %s msg/s, PostgreSQL %.2f CPU s per 1,000 messages, %s B WAL,"
                        + " %.2f xids per message; delivery p50 at %d/s %s ms", size, row.real(), Fmt.rate(bus.rate()),
                        1_000 * bus.spent().postgresCpuSeconds() / bus.messages(), Fmt.number((long) bus
                                .walPerMessage()),
                        bus.xidsPerMessage(), GroupScenario.LATENCY_RATE, Fmt.ms(row.latency().p50()));
                rows.add(row);
            }
        } finally {
            for (StandIn standIn : standIns) {
                standIn.close();
            }
            for (AppInstance instance : real) {
                instance.close();
            }
        }
        return new Result(disk, rows);
    }

    /**
     * The delivery's median at {@link GroupScenario#LATENCY_RATE} messages a second, to the receiving application's
     * broadcast listener: what the sequencer's spacing of its runs for the fleet costs each message.
     */
    private RunStats latency(AppInstance sender, AppInstance receiver) throws Exception {
        // First a run not measured: the listener's path compiled, as the latency scenario does.
        offer(sender, receiver, Duration.ofSeconds(plan.quick() ? 1 : 5));
        return offer(sender, receiver, Duration.ofSeconds(plan.quick() ? 2 : 10));
    }

    private RunStats offer(AppInstance sender, AppInstance receiver, Duration duration) throws Exception {
        String run = Runs.next();
        Load.Result sent = Http.post(sender.url() + "/bench/send/open?run=" + run + "&channel=bench-latency&rate="
                + GroupScenario.LATENCY_RATE + "&seconds=" + duration.toMillis() / 1000.0 + "&threads="
                + plan.latencyThreads(), Load.Result.class);
        String receipts = receiver.url() + "/bench/count?run=broadcast-" + run;
        Await.count(sent.sent(), Await.drain(sent.sent()), Await.STALL, () -> Http.get(receipts, Integer.class));
        String url = receiver.url() + "/bench/stats?run=broadcast-" + run;
        RunStats stats = Http.get(url, RunStats.class);
        Http.delete(url);
        return stats;
    }

    static void goals(Report report, Result result) {
        Row alone = result == null ? null : result.at(1, 1);
        Row hundred = result == null ? null : result.at(100, 1);
        if (alone == null || hundred == null) {
            report.goal("With 100 listening instances, ≥ 0.8× the throughput without them", null, "not in this run");
            return;
        }
        double ratio = hundred.bus().rate() / alone.bus().rate();
        report.goal(result.disk().label + ", " + SENDERS + " senders: with 100 listening instances (one real, 99"
                + " stand-ins), ≥ 0.8× the throughput of one", ratio >= 0.8,
                String.format("%s against %s messages per second (%s)",
                        Fmt.rate(hundred.bus().rate()), Fmt.rate(alone.bus().rate()), Fmt.ratio(ratio)));
    }

    static void render(Report report, Result result) {
        if (result == null) {
            return;
        }
        Row alone = result.at(1, 1);
        List<List<String>> rows = new ArrayList<>();
        for (Row row : result.rows()) {
            StorageScenario.Side bus = row.bus();
            rows.add(List.of(Fmt.number(row.instances()), Fmt.number(row.real()), Fmt.rate(bus.rate()),
                    alone == null ? "—" : Fmt.ratio(bus.rate() / alone.bus().rate()),
                    String.format("%.2f", 1_000 * bus.spent().postgresCpuSeconds() / bus.messages()),
                    String.format("%.2f", 1_000 * bus.spent().cpuSeconds() / bus.messages()),
                    Fmt.number((long) bus.walPerMessage()), String.format("%.2f", bus.xidsPerMessage()),
                    row.hints() < 0 ? "—" : Fmt.rate(row.hints() / bus.seconds()),
                    row.hints() < 0 ? "—" : Fmt.rate(row.standInReads() / bus.seconds()),
                    row.latency() == null ? "—" : Fmt.ms(row.latency().p50())));
        }
        report.section("Fleet: what listening instances cost the bus — " + result.disk().label)
                .paragraph(String.format("%d senders in the sending application send %s-byte messages (`Bus.send`,"
                        + " autocommit) on a channel no instance reads, until the last is numbered, while fleets of"
                        + " listening instances run, in the order of the rows. The first instance is the receiving"
                        + " application, which sequences; the other real ones are instances of it (JVMs on this"
                        + " machine, sharing its two cores, so their own CPU slows everything here, which in"
                        + " production it would not: each fleet is measured once the machine is quiet after their"
                        + " start); the rest are stand-ins, a direct connection each that LISTENs on the head"
                        + " channel, named as an instance's listening connection is (so the sequencer counts it"
                        + " among the instances it spaces its runs for), and, as an instance whose listeners read"
                        + " other channels does, reads the state"
                        + " row only for head hints that name no channels: what PostgreSQL pays for a listening"
                        + " instance, without its JVM. PostgreSQL 15 signals every listening backend of the"
                        + " database at every NOTIFY, whatever its channel. CPU: PostgreSQL's processes, and the"
                        + " whole machine's. Then, with the same fleet, the sending application sends "
                        + GroupScenario.LATENCY_RATE + " messages a second for 10 s (after 5 s not measured) to a broadcast"
                        + " listener of the"
                        + " receiving application: the median from each message's scheduled send to the listener,"
                        + " what the sequencer's spacing of its runs (1 ms per listening instance) costs.", SENDERS,
                        Fmt.number(StorageScenario.SIZE)))
                .table(List.of("listening instances", "of them real", "bus msg/s", "÷ one instance",
                        "PostgreSQL CPU s per 1,000 msg", "machine CPU s per 1,000 msg", "WAL B/msg", "xids/msg",
                        "head hints/s (one stand-in)", "stand-ins' state reads/s",
                        "p50 ms at " + GroupScenario.LATENCY_RATE + "/s"), rows);
    }
}
