package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerProbe;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.sequence.Sequencer;
import io.quarkiverse.busaltconnection.runtime.sequence.SequencerActivity;
import io.quarkiverse.busaltconnection.runtime.store.BusStartup;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.GroupPositions;
import io.quarkiverse.busaltconnection.runtime.store.PageReader;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;

/**
 * The instance's side of the bus, put together on its one listening connection: the {@link Sequencer} (numbers
 * committed messages when this instance holds the lock), the {@link ChannelRouter} (turns wake-ups into reads), a
 * {@link ListenerCursor} per {@code @BusListener} and the {@link LiveFeed} of HTTP clients (read pages and hand them
 * over), the {@link BusSweep} and the self-probe. It starts them, stops them, and shows them through
 * {@link EngineStatus}. Notifications are only hints: what is delivered is always read from the table.
 */
public final class BusEngine {

    private static final Logger LOG = Logger.getLogger(BusEngine.class);
    /** Each partition is a cursor, a lock and a row: a few per instance is what partitions are for. */
    static final int MAX_PARTITIONS = 256;

    private final ListenerConnection connection;
    private final List<ListenerCursor> cursors = new ArrayList<>();
    private final List<GroupCursor> groups = new ArrayList<>();
    private final List<GroupMembership> memberships = new ArrayList<>();
    private final LiveFeed liveFeed;
    private final Optional<ListenerProbe> probe;
    private final BusSweep sweep;
    /** Set after the router, which hands it the head hints it hears. */
    private HeadWatch head;
    private final EngineStatus status;
    private final Vertx vertx;
    private long sweepTimer = -1;
    private volatile boolean active;

    /** What the engine needs to start. */
    public record Setup(ListenerConnection connection, List<ListenerMethod> listeners, BusTable table,
            BusStartup.Head head, boolean listenWithoutListeners, Optional<ProbeSettings> probe, ObjectMapper json,
            Vertx vertx, Supplier<Executor> virtualThreads, int pageSize, long pageBytes, Duration sweepInterval,
            Duration sequencerStallTimeout, Duration sequencerLinger, String dataSourceUrlKey, BusObservers observers,
            GroupSettings groups,
            SequencerActivity activity) {
    }

    /** What group members need besides the listener's own parts. */
    public record GroupSettings(GroupPositions positions, Function<String, ImDispatcherConfig.ConsumerGroup> settings,
            Bus bus) {

        /** A connector channel's own settings, else the group's from configuration. */
        ImDispatcherConfig.ConsumerGroup of(ListenerMethod listener) {
            return listener.channelSettings().flatMap(ListenerMethod.ChannelSettings::group)
                    .orElseGet(() -> settings.apply(listener.group));
        }
    }

    /** The self-probe's settings: it notifies through {@code dataSource}, the pooled path. */
    public record ProbeSettings(javax.sql.DataSource dataSource, Duration timeout) {
    }

    /**
     * Builds the engine, connects its listening connection and LISTENs; returns when PostgreSQL has confirmed LISTEN for
     * every channel, so nothing committed after startup is missed.
     *
     * @throws IllegalStateException naming the configuration to check, if the connection cannot be made in time
     */
    public static BusEngine start(Setup setup, Duration timeout) {
        BusEngine engine = new BusEngine(setup);
        if (setup.listeners().isEmpty() && !setup.listenWithoutListeners()) {
            // Its messages wait for a sequencer elsewhere: say which, so that nobody waits in silence.
            LOG.infof("This instance has no @BusListener methods and no HTTP delivery: it sends on the bus '%s' but"
                    + " opens no listening connection and does not number messages. %s", setup.table().describe(),
                    setup.head().sequencer().map(holder -> "The sequencer of the database numbers them: " + holder + ".")
                            .orElse("No instance sequences the bus now: messages sent wait, unnumbered, until an"
                                    + " instance with @BusListener methods or HTTP delivery runs; readiness is DOWN"
                                    + " after quarkus.imdispatcher.bus.unnumbered-timeout."));
            return engine;
        }
        setup.connection().start(timeout);
        engine.active = true;
        engine.probe.map(ListenerProbe::check).ifPresent(probed -> engine.checkProbe(probed, setup));
        engine.sweepTimer = setup.vertx().setPeriodic(setup.sweepInterval().toMillis(), id -> engine.sweep.run());
        // Group members need not wait a sweep to take their partitions.
        engine.memberships.forEach(GroupMembership::sweep);
        LOG.infof("Bus listener connected to %s (backend pid %d), listening for %d listener(s) on %d channel(s)",
                DirectConnectOptions.describe(setup.connection().options()), setup.connection().backendPid(),
                setup.listeners().size(), engine.status.channels().size());
        return engine;
    }

    private BusEngine(Setup setup) {
        this.connection = setup.connection();
        this.vertx = setup.vertx();
        BusTable table = setup.table();
        LossLog losses = new LossLog();
        KnownHead knownHead = new KnownHead(setup.head().epoch(), setup.head().position());
        Supplier<SqlClient> sql = connection::sqlClient;
        PageReader busPages = new PageReader(table, setup.pageSize(), setup.pageBytes());
        for (ListenerMethod listener : setup.listeners()) {
            PageReader pages = listener.channelSettings().map(ListenerMethod.ChannelSettings::pageSize)
                    .filter(size -> size > 0).map(size -> new PageReader(table, size, setup.pageBytes()))
                    .orElse(busPages);
            ListenerInvoker invoker = new ListenerInvoker(listener, setup.json(), vertx, setup.virtualThreads(),
                    setup.observers());
            if (listener.grouped()) {
                GroupSettings grouping = setup.groups();
                ImDispatcherConfig.ConsumerGroup settings = grouping.of(listener);
                if (settings.partitions() < 1 || settings.partitions() > MAX_PARTITIONS) {
                    throw new IllegalArgumentException((listener.channelSettings().isPresent()
                            ? listener.description + ": partitions"
                            : "quarkus.imdispatcher.groups.\"" + listener.group + "\".partitions") + " is "
                            + settings.partitions() + "; set it between 1 and " + MAX_PARTITIONS);
                }
                List<GroupCursor> partitions = new ArrayList<>();
                for (int partition = 0; partition < settings.partitions(); partition++) {
                    partitions.add(new GroupCursor(invoker, partition, pages, connection, table, grouping.positions(),
                            settings, grouping.bus(), setup.json(), losses, knownHead, vertx));
                }
                groups.addAll(partitions);
                // A live member runs a statement on its listening connection at every sweep: one that ran nothing
                // for a few sweeps is frozen, whatever the stall timeout says.
                Duration stallTimeout = settings.stallTimeout().compareTo(setup.sweepInterval().multipliedBy(3)) > 0
                        ? settings.stallTimeout()
                        : setup.sweepInterval().multipliedBy(3);
                memberships.add(new GroupMembership(partitions, connection, table, stallTimeout));
            } else {
                cursors.add(new ListenerCursor(invoker, pages, sql, losses, knownHead));
            }
        }
        this.liveFeed = new LiveFeed(vertx, busPages, sql, knownHead);
        ChannelRouter router = new ChannelRouter(cursors, groups, liveFeed, knownHead, connection, table,
                channels -> head.check(channels));
        this.head = new HeadWatch(connection, table, router, knownHead);
        Sequencer sequencer = new Sequencer(vertx, table, connection, setup.sequencerStallTimeout(),
                setup.sequencerLinger(), router::numbered,
                knownHead::get, head::checkAll, setup.activity());
        this.probe = setup.probe().map(settings -> new ListenerProbe(table.probeChannel(), settings.dataSource(),
                settings.timeout(), connection));
        List<PageLoop> readers = new ArrayList<>(cursors);
        readers.add(liveFeed);
        this.sweep = new BusSweep(connection, sequencer, readers, memberships, head);
        connection.onListening(head::checkServer);
        this.status = new EngineStatus(() -> active, connection, sequencer, knownHead, cursors, groups, liveFeed, router,
                probe, losses, sweep);
    }

    private void checkProbe(ListenerProbe.Result probed, Setup setup) {
        if (probed.outcome() == ListenerProbe.Outcome.NOT_SENT) {
            close();
            throw new IllegalStateException("Bus Alt Connection cannot check its listener: "
                    + probed.reason().orElse("") + ". Check " + setup.dataSourceUrlKey() + " and its credentials"
                    + " (the pooled path, through PgBouncer).");
        }
        if (probed.outcome() == ListenerProbe.Outcome.NOT_HEARD) {
            close();
            throw new IllegalStateException("Bus Alt Connection's listener at "
                    + DirectConnectOptions.describe(connection.options()) + " does not hear the application: "
                    + probed.reason().orElse("") + ". The datasource (" + setup.dataSourceUrlKey() + ") and the"
                    + " listener (quarkus.imdispatcher.db-host / db-port / db-name) must reach the same PostgreSQL"
                    + " database, the listener directly, not through a transaction pooler. Set"
                    + " quarkus.imdispatcher.probe.enabled=false only if notifications sent through the datasource"
                    + " cannot reach the listener by design.");
        }
    }

    /** How the bus is doing on this instance. */
    public EngineStatus status() {
        return status;
    }

    /** The new messages of every channel, for HTTP clients and the Dev UI. */
    public LiveFeed liveFeed() {
        return liveFeed;
    }

    /** The self-probe, when enabled; for the periodic check. */
    public Optional<ListenerProbe> probe() {
        return probe;
    }

    /** Closes the listening connection; no listener is invoked afterwards. */
    public void close() {
        active = false;
        if (sweepTimer >= 0) {
            vertx.cancelTimer(sweepTimer);
        }
        cursors.forEach(PageLoop::close);
        groups.forEach(GroupCursor::close);
        memberships.forEach(GroupMembership::close);
        liveFeed.close();
        connection.close();
    }
}
