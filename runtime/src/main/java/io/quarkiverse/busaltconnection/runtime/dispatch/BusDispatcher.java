package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerProbe;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.sequence.HeadHint;
import io.quarkiverse.busaltconnection.runtime.sequence.Numbered;
import io.quarkiverse.busaltconnection.runtime.sequence.Sequencer;
import io.quarkiverse.busaltconnection.runtime.store.BusStartup;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.PageReader;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

/**
 * The instance's side of the bus, on its one listening connection: it competes to be the database's
 * {@link Sequencer}, turns the sequencer's wake-ups into reads by every {@code @BusListener}'s {@link ListenerCursor}
 * and by the {@link LiveFeed} of HTTP clients, and delivers plain notifications to the listeners that asked for them.
 * Notifications are only hints: what is delivered is always read from the table. Injectable, to see how the listener
 * is doing.
 */
public class BusDispatcher {

    private static final Logger LOG = Logger.getLogger(BusDispatcher.class);

    private final ListenerConnection connection;
    private final BusTable table;
    private final long epoch;
    private final List<ListenerCursor> cursors = new ArrayList<>();
    private final Map<String, List<ListenerCursor>> cursorsByChannel = new LinkedHashMap<>();
    private final AtomicReference<Instant> lastNotification = new AtomicReference<>();
    private final Sequencer sequencer;
    private final LiveFeed liveFeed;
    private final LossLog losses = new LossLog();
    private final Optional<ListenerProbe> probe;
    private final Vertx vertx;
    private volatile long head;
    private long sweepTimer = -1;
    private volatile boolean active;
    private volatile boolean epochChangeReported;

    /** What the dispatcher needs to start. */
    public record Setup(ListenerConnection connection, List<ListenerMethod> listeners, BusTable table,
            BusStartup.Head head, boolean listenWithoutListeners, Optional<ListenerProbe> probe, ObjectMapper json,
            Vertx vertx, Supplier<Executor> virtualThreads, int pageSize, long pageBytes, Duration sweepInterval,
            Duration sequencerStallTimeout, String dataSourceUrlKey, BusObservers observers) {
    }

    /**
     * Builds the dispatcher, connects its listening connection and LISTENs; returns when PostgreSQL has confirmed
     * LISTEN for every channel, so nothing committed after startup is missed.
     *
     * @throws IllegalStateException naming the configuration to check, if the connection cannot be made in time
     */
    public static BusDispatcher start(Setup setup, Duration timeout) {
        BusDispatcher dispatcher = new BusDispatcher(setup);
        if (setup.listeners().isEmpty() && !setup.listenWithoutListeners()) {
            // Its messages wait for a sequencer elsewhere: say which, so that nobody waits in silence.
            LOG.infof("This instance has no @BusListener methods and no HTTP delivery: it sends on the bus '%s' but"
                    + " opens no listening connection and does not number messages. %s", setup.table().describe(),
                    setup.head().sequencer().map(holder -> "The sequencer of the database numbers them: " + holder + ".")
                            .orElse("No instance sequences the bus now: messages sent wait, unnumbered, until an"
                                    + " instance with @BusListener methods or HTTP delivery runs; readiness is DOWN"
                                    + " after quarkus.imdispatcher.bus.unnumbered-timeout."));
            return dispatcher;
        }
        setup.connection().start(timeout);
        dispatcher.active = true;
        Optional<ListenerProbe.Result> probed = dispatcher.probe.map(ListenerProbe::check);
        if (probed.isPresent() && probed.get().outcome() == ListenerProbe.Outcome.NOT_SENT) {
            dispatcher.close();
            throw new IllegalStateException("Bus Alt Connection cannot check its listener: "
                    + probed.get().reason().orElse("") + ". Check " + setup.dataSourceUrlKey() + " and its credentials"
                    + " (the pooled path, through PgBouncer).");
        }
        if (probed.isPresent() && probed.get().outcome() == ListenerProbe.Outcome.NOT_HEARD) {
            dispatcher.close();
            throw new IllegalStateException("Bus Alt Connection's listener at "
                    + DirectConnectOptions.describe(setup.connection().options()) + " does not hear the application: "
                    + probed.get().reason().orElse("") + ". The datasource (" + setup.dataSourceUrlKey() + ") and the"
                    + " listener (quarkus.imdispatcher.db-host / db-port / db-name) must reach the same PostgreSQL"
                    + " database, the listener directly, not through a transaction pooler. Set"
                    + " quarkus.imdispatcher.probe.enabled=false only if notifications sent through the datasource"
                    + " cannot reach the listener by design.");
        }
        dispatcher.sweepTimer = setup.vertx().setPeriodic(setup.sweepInterval().toMillis(), id -> dispatcher.sweep());
        LOG.infof("Bus listener connected to %s (backend pid %d), listening for %d listener(s) on %d channel(s)",
                DirectConnectOptions.describe(setup.connection().options()), setup.connection().backendPid(),
                setup.listeners().size(), dispatcher.cursorsByChannel.size());
        return dispatcher;
    }

    private volatile boolean watchQueue;
    private volatile double queueUsage = Double.NaN;

    private BusDispatcher(Setup setup) {
        this.connection = setup.connection();
        this.table = setup.table();
        this.epoch = setup.head().epoch();
        this.head = setup.head().position();
        this.vertx = setup.vertx();
        Supplier<SqlClient> sql = connection::sqlClient;
        PageReader pages = new PageReader(table, setup.pageSize(), setup.pageBytes());
        for (ListenerMethod listener : setup.listeners()) {
            ListenerCursor cursor = new ListenerCursor(
                    new ListenerInvoker(listener, setup.json(), setup.vertx(), setup.virtualThreads(),
                            setup.observers()),
                    pages, sql,
                    losses, this::headSeen, head);
            cursors.add(cursor);
            cursorsByChannel.computeIfAbsent(listener.channel, c -> new ArrayList<>()).add(cursor);
        }
        this.liveFeed = new LiveFeed(setup.vertx(), pages, sql, this::headSeen, head);
        this.sequencer = new Sequencer(setup.vertx(), table, sql, setup.sequencerStallTimeout(), this::numbered);
        this.probe = setup.probe();
        connection.listen(table.headChannel(), payload -> {
            noticed();
            // Only a hint: its head is never taken as a position, and a forged one costs reads that find nothing.
            wake(HeadHint.decode(payload).channels());
        });
        connection.listen(table.writtenChannel(), payload -> sequencer.onWritten());
        connection.onListening(() -> {
            sequencer.onListening();
            // Whatever was committed while nobody listened is in the table: every reader reads on.
            wake(Optional.empty());
        });
        probe.ifPresent(p -> connection.listen(p.channel(), p::onNotification));
        cursorsByChannel.forEach((channel, listeners) -> {
            List<ListenerCursor> plain = listeners.stream().filter(c -> c.method().plainNotifications).toList();
            // Plain NOTIFY interop, opt-in per listener, for channels PostgreSQL can carry.
            if (!plain.isEmpty() && MessageChecks.channelProblem(channel).isEmpty() && !reserved(channel)) {
                connection.listen(channel, payload -> {
                    noticed();
                    BusMessage message = new BusMessage(channel, 0, Instant.now(), payload == null ? "" : payload);
                    plain.forEach(cursor -> cursor.deliverPlain(message));
                });
            }
        });
    }

    private boolean reserved(String channel) {
        return channel.equals(table.writtenChannel()) || channel.equals(table.headChannel())
                || channel.equals(table.probeChannel());
    }

    private void noticed() {
        lastNotification.set(Instant.now());
    }

    /** A head read from the database (never one from a notification). */
    private synchronized void headSeen(long position) {
        if (position > head) {
            head = position;
        }
    }

    /**
     * This instance's own sequencer numbered messages: verified facts. A listener whose channel had none moves past
     * them at once; one that had some and waits at the run's start takes them from the run, without reading them
     * again; any other reads.
     */
    private void numbered(Numbered run) {
        headSeen(run.head());
        if (run.channels().isEmpty()) {
            wake(Optional.empty());
            return;
        }
        for (ListenerCursor cursor : cursors) {
            String channel = cursor.method().channel;
            if (run.channels().get().contains(channel)) {
                cursor.offer(run.before(), run.head(), run.messagesOf(channel));
            } else {
                cursor.offer(run.before(), run.head(), Optional.of(List.of()));
            }
        }
        liveFeed.wake();
    }

    /** Messages of {@code channels} (empty: of any channel) may have been numbered: their readers read on. */
    private void wake(Optional<Set<String>> channels) {
        if (channels.isEmpty()) {
            cursors.forEach(ListenerCursor::wake);
        } else {
            for (String channel : channels.get()) {
                cursorsByChannel.getOrDefault(channel, List.of()).forEach(ListenerCursor::wake);
            }
        }
        liveFeed.wake();
    }

    /**
     * Every sweep interval: the sequencer's sweep, another try for readers whose last read failed, and a look at the
     * head in case a wake-up was lost.
     */
    private void sweep() {
        sequencer.sweep();
        cursors.forEach(ListenerCursor::retryIfFailed);
        SqlClient client = connection.sqlClient();
        if (client == null) {
            return;
        }
        if (watchQueue) {
            client.query("SELECT pg_notification_queue_usage()").execute()
                    .onSuccess(rows -> queueUsage = rows.iterator().next().getDouble(0));
        }
        client.query(table.head()).execute().onSuccess(rows -> {
            Row row = rows.iterator().next();
            if (row.getLong(0) != epoch) {
                if (epochChangeReported) {
                    return;
                }
                // Once: the sweep comes every second, and the cure (a restart) is the same each time.
                epochChangeReported = true;
                LOG.errorf("The bus table '%s' changed its epoch while this instance ran (it was replaced by a"
                        + " restored copy?); restart the application to deliver from the new epoch", table.describe());
                return;
            }
            if (row.getLong(1) > head) {
                headSeen(row.getLong(1));
                wake(Optional.empty());
            }
        });
    }

    /**
     * {@code subscriber} receives every committed bus message from now on, in position order, on a feed's context:
     * it must not block.
     */
    public void subscribe(Consumer<BusMessage> subscriber) {
        liveFeed.subscribe(subscriber, head);
    }

    public void unsubscribe(Consumer<BusMessage> subscriber) {
        liveFeed.unsubscribe(subscriber);
    }

    /** How many HTTP clients (long-polls waiting, SSE streams) follow the bus on this instance. */
    public int subscribers() {
        return liveFeed.subscribers();
    }

    /** Whether the dispatcher opened a listening connection (it has listeners, or HTTP delivery is enabled). */
    public boolean active() {
        return active;
    }

    /** Whether the listening connection is up and LISTEN went through. */
    public boolean listening() {
        return connection.listening();
    }

    /**
     * Sends a probe through the datasource and waits for it on the listener (blocking). A probe that was sent but does
     * not come back means the listener hears nothing although its connection looks alive: it is made again. A probe
     * that could not be sent says nothing about the listener (PgBouncer may be down): it is not reconnected.
     *
     * @param stopping whether the application is stopping: then the datasource and the listener close under the probe,
     *        and its outcome says nothing
     * @return empty if the probe came back, else why not
     */
    public Optional<String> probe(BooleanSupplier stopping) {
        if (probe.isEmpty() || !active) {
            return Optional.empty();
        }
        ListenerProbe.Result result = probe.get().check();
        if (stopping.getAsBoolean()) {
            return Optional.empty();
        }
        if (result.outcome() == ListenerProbe.Outcome.NOT_HEARD) {
            LOG.errorf("Bus listener at %s is deaf: %s; reconnecting it",
                    DirectConnectOptions.describe(connection.options()), result.reason().orElse(""));
            connection.reconnect();
        } else if (result.outcome() == ListenerProbe.Outcome.NOT_SENT) {
            LOG.warnf("The bus listener could not be probed: %s", result.reason().orElse(""));
        }
        return result.reason();
    }

    /** Why the last probe could not be sent through the datasource, while that lasts. */
    public Optional<String> probeSendFailure() {
        return probe.flatMap(ListenerProbe::sendFailure);
    }

    /** When a probe last came back, if probing is enabled. */
    public Optional<Instant> lastProbe() {
        return probe.flatMap(ListenerProbe::lastHeard);
    }

    /** Host, port, database and user of the listening connection (never the password). */
    public String server() {
        return DirectConnectOptions.describe(connection.options());
    }

    /** The channels of the {@code @BusListener} methods. */
    public List<String> channels() {
        return List.copyOf(cursorsByChannel.keySet());
    }

    /** The bus's epoch: positions are comparable only within one. */
    public long epoch() {
        return epoch;
    }

    /** The highest position this instance knows was handed out. */
    public long head() {
        return head;
    }

    /** Each listener's description, position and lag. */
    public List<ListenerState> listenerStates() {
        return cursors.stream().map(c -> new ListenerState(c.method().description, c.method().channel, c.position(),
                c.lag(), c.delivered())).toList();
    }

    /** One {@code @BusListener}'s place on the bus. */
    public record ListenerState(String listener, String channel, long position, long lag, long delivered) {
    }

    /** Messages that readers of this instance needed and retention had deleted. */
    public LossLog losses() {
        return losses;
    }

    /** Whether this instance is the database's sequencer right now. */
    public boolean sequencing() {
        return sequencer.sequencing();
    }

    /** When the last notification was received. */
    public Optional<Instant> lastNotificationTime() {
        return Optional.ofNullable(lastNotification.get());
    }

    /** How many times the listening connection came back after being lost. */
    public long reconnections() {
        return connection.reconnections();
    }

    /** PostgreSQL backend pid of the listening connection, or -1 while it is not connected. */
    public int backendPid() {
        return connection.backendPid();
    }

    /**
     * Asks the sweep to read {@code pg_notification_queue_usage()} too, for {@link #notificationQueueUsage()}: only
     * when something shows it.
     */
    public void watchNotificationQueue() {
        watchQueue = true;
    }

    /** The fraction of PostgreSQL's notification queue in use at the last sweep; NaN before the first. */
    public double notificationQueueUsage() {
        return queueUsage;
    }

    /**
     * Whether the bus table changed its epoch while this instance ran (a restored copy replaced it): this instance's
     * positions mean nothing there, and only a restart makes it deliver again.
     */
    public boolean epochChanged() {
        return epochChangeReported;
    }

    /** Closes the listening connection; no listener is invoked afterwards. */
    public void close() {
        active = false;
        if (sweepTimer >= 0) {
            vertx.cancelTimer(sweepTimer);
        }
        cursors.forEach(ListenerCursor::close);
        connection.close();
    }
}
