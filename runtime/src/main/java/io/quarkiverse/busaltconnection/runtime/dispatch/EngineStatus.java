package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerProbe;
import io.quarkiverse.busaltconnection.runtime.sequence.Sequencer;

/**
 * {@link BusStatus} read from the parts of the {@link BusEngine}; with the few readings only the extension's health
 * checks and meters use.
 */
public final class EngineStatus implements BusStatus {

    private final BooleanSupplier active;
    private final ListenerConnection connection;
    private final Sequencer sequencer;
    private final KnownHead knownHead;
    private final List<ListenerCursor> cursors;
    private final List<GroupCursor> groups;
    private final LiveFeed liveFeed;
    private final ChannelRouter router;
    private final Optional<ListenerProbe> probe;
    private final LossLog losses;
    private final BusSweep sweep;

    EngineStatus(BooleanSupplier active, ListenerConnection connection, Sequencer sequencer, KnownHead knownHead,
            List<ListenerCursor> cursors, List<GroupCursor> groups, LiveFeed liveFeed, ChannelRouter router,
            Optional<ListenerProbe> probe, LossLog losses, BusSweep sweep) {
        this.groups = groups;
        this.active = active;
        this.connection = connection;
        this.sequencer = sequencer;
        this.knownHead = knownHead;
        this.cursors = cursors;
        this.liveFeed = liveFeed;
        this.router = router;
        this.probe = probe;
        this.losses = losses;
        this.sweep = sweep;
    }

    @Override
    public boolean active() {
        return active.getAsBoolean();
    }

    @Override
    public boolean listening() {
        return connection.listening();
    }

    @Override
    public boolean sequencing() {
        return sequencer.sequencing();
    }

    /** The listening instances the sequencer counted, when this instance sequences; else 0. */
    public long listeningInstances() {
        return sequencer.listeningInstances();
    }

    /** Seconds the sequencer waits after a run that numbered messages, for the listening instances' sake. */
    public double runSpacingSeconds() {
        return sequencer.runSpacing().toNanos() / 1e9;
    }

    @Override
    public long epoch() {
        return knownHead.epoch();
    }

    @Override
    public long head() {
        return knownHead.get();
    }

    @Override
    public boolean epochChanged() {
        return knownHead.historyChanges() > 0;
    }

    @Override
    public String server() {
        return DirectConnectOptions.describe(connection.options());
    }

    @Override
    public int backendPid() {
        return connection.backendPid();
    }

    @Override
    public long reconnections() {
        return connection.reconnections();
    }

    @Override
    public List<String> channels() {
        return router.channels();
    }

    @Override
    public List<ListenerStatus> listeners() {
        return cursors.stream().map(c -> new ListenerStatus(c.method().description, c.method().channel, c.position(),
                c.lag(), c.invoker().succeeded(), c.invoker().failed())).toList();
    }

    @Override
    public List<GroupStatus> groups() {
        return groups.stream().map(GroupCursor::status).toList();
    }

    @Override
    public int httpClients() {
        return liveFeed.subscribers();
    }

    @Override
    public Optional<Instant> lastNotification() {
        return router.lastNotification();
    }

    @Override
    public Optional<Instant> lastProbe() {
        return probe.flatMap(ListenerProbe::lastHeard);
    }

    @Override
    public Optional<String> probeFailure() {
        return probe.flatMap(ListenerProbe::sendFailure);
    }

    @Override
    public long losses() {
        return losses.count();
    }

    /** The losses themselves, the last few with their ranges. */
    public LossLog lossLog() {
        return losses;
    }

    /** Reads PostgreSQL's notification queue usage at every sweep from now on, for a meter. */
    public void watchNotificationQueue() {
        sweep.watchNotificationQueue();
    }

    /** The fraction of PostgreSQL's notification queue in use at the last sweep; NaN before the first. */
    public double notificationQueueUsage() {
        return sweep.notificationQueueUsage();
    }
}
