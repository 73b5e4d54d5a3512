package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.GroupPositions;
import io.quarkiverse.busaltconnection.runtime.store.Page;
import io.quarkiverse.busaltconnection.runtime.store.PageReader;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.narayana.jta.QuarkusTransactionException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * One partition of a group member's place on the bus: the {@code @BusListener(group = ...)} method of this instance,
 * delivering the partition for the whole fleet while it owns it. Ownership is a session advisory lock on the
 * instance's listening connection, taken and given back as {@link GroupMembership} decides: when the owner's
 * connection ends, PostgreSQL releases the lock and another member takes over. Each call runs in a JTA transaction that also
 * moves the group's stored position from
 * the one it read: a call that returns commits both, one that throws rolls both back, and an instance that lost the
 * group meanwhile finds the position moved and rolls back. (A Quarkus Messaging channel's method runs on a thread of
 * its own: there its own transaction moves the position, see {@link GroupDelivery}, and the call's does only if that
 * did not.) A failed call is retried with growing delays, the group
 * waiting, then given up as configured. State lives on the listener's own context; the calls of a page run one after
 * the other on one worker thread, which tells the context of each success without waiting for it.
 */
final class GroupCursor {

    private static final Logger LOG = Logger.getLogger(GroupCursor.class);

    private final ListenerInvoker invoker;
    private final String group;
    private final String channel;
    private final GroupPositions.Partition partition;
    private final String[] channels;
    private final PageReader pages;
    private final ListenerConnection connection;
    private final BusTable table;
    private final GroupPositions positions;
    private final ImDispatcherConfig.ConsumerGroup settings;
    private final Bus bus;
    private final ObjectMapper json;
    private final LossLog losses;
    private final KnownHead knownHead;
    private final Vertx vertx;
    private final Context context;

    /** The listening connection on which this instance holds the group's lock; null when it does not. */
    private SqlClient owner;
    private boolean acquiring;
    /** The membership gave the partition back: this instance lets it go once the call under way is over. */
    private boolean releasing;
    /** A page is read, messages delivered, a retry awaited, or the position loaded. */
    private boolean busy;
    /** Ends the run of deliveries on the worker after the call under way: set on the context, read by the worker. */
    private volatile boolean endRun;
    /** The run of deliveries whose progress counts; null when none runs, or its progress no longer counts. */
    private Run running;
    private boolean woken;
    private boolean caughtUp = true;
    private boolean closed;
    /** Where reading goes on: past messages of other channels and lost ranges, ahead of the stored position. */
    private long after;
    /** The group's stored position, as this owner last moved or read it; -1 while it does not own the group. */
    private volatile long stored = -1;
    private volatile long head;
    /** How far the group has looked: up to the message it delivers next, or up to where reading goes on. */
    private volatile long reached;
    private List<StoredMessage> page = List.of();
    private int index;
    /**
     * The read of the page after {@link #page}, started when that page came full, so that the worker finds the next
     * page read when it is done with this one (without, a partition's deliveries stopped for a read at every page end,
     * behind whatever else the listening connection was running): null when none, or from another owner or position.
     */
    private Future<Page> ahead;
    private long aheadFrom;
    private SqlClient aheadOwner;
    private int attempt;
    private volatile String stopped;
    /** When the position last moved, or the partition was last found caught up (System.nanoTime). */
    private volatile long progressAt = System.nanoTime();
    /** When the message the partition delivers next was committed; null when it has none. */
    private volatile Instant waitingSince;
    private volatile long retries;
    private volatile long deadLetters;

    GroupCursor(ListenerInvoker invoker, int partition, PageReader pages, ListenerConnection connection,
            BusTable table, GroupPositions positions, ImDispatcherConfig.ConsumerGroup settings, Bus bus,
            ObjectMapper json, LossLog losses, KnownHead knownHead, Vertx vertx) {
        this.invoker = invoker;
        this.group = invoker.method().group;
        this.channel = invoker.method().channel;
        this.partition = new GroupPositions.Partition(group, channel, partition, settings.partitions());
        this.channels = new String[] { channel };
        this.pages = pages;
        this.connection = connection;
        this.table = table;
        this.positions = positions;
        this.settings = settings;
        this.bus = bus;
        this.json = json;
        this.losses = losses;
        this.knownHead = knownHead;
        this.vertx = vertx;
        this.context = invoker.context();
        this.head = knownHead.get();
    }

    ListenerMethod method() {
        return invoker.method();
    }

    Context context() {
        return context;
    }

    /** Whether the partition is being given back; on the context. */
    boolean releasing() {
        return releasing;
    }

    /** Whether this instance owns the partition now; on the context. */
    boolean owns() {
        return owner != null;
    }

    BusStatus.GroupStatus status() {
        long position = stored;
        boolean owns = position >= 0;
        Instant oldest = owns ? waitingSince : null;
        boolean stuck = oldest != null && System.nanoTime() - progressAt > settings.stuckAfter().toNanos();
        return new BusStatus.GroupStatus(group, channel, partition.partition(), invoker.method().description, owns,
                position, owns ? Math.max(0, Math.max(head, knownHead.get()) - Math.max(position, reached)) : -1,
                retries, deadLetters, Optional.ofNullable(stopped), Optional.ofNullable(oldest), stuck);
    }

    /**
     * Every sweep: notice a lost connection, store how far reading got. Reading on is the sweep's look at the head's
     * to ask ({@link #wakeBelow}): a partition at the head has nothing to read. Any thread.
     */
    void sweep() {
        context.runOnContext(ignored -> {
            if (closed || stopped != null || owner == null) {
                return;
            }
            if (owner != connection.sqlClient()) {
                lose("its listening connection ended");
            } else {
                storeReached();
            }
        });
    }

    /**
     * With nothing of its own left to deliver, stores the position reading got to, past other partitions' messages
     * and lost ranges. Else a partition whose keys are rare would keep its last own message as its position: that
     * would hold retention back for the channel's other messages, make a change of the partition count start far
     * back, and, once retention had to go on, report their deletion as this partition's loss. At most one write per
     * sweep, and only while the channel moves. On the context.
     */
    private void storeReached() {
        if (busy || releasing || index < page.size() || !caughtUp || after <= stored) {
            return;
        }
        busy = true;
        long from = stored;
        long to = after;
        vertx.executeBlocking(() -> {
            positions.advance(partition, from, to);
            return null;
        }, false).onComplete(result -> context.runOnContext(ignored -> {
            busy = false;
            Throwable cause = result.failed() ? unwrap(result.cause()) : null;
            if (cause instanceof GroupPositions.PositionMoved moved) {
                LOG.infof("%s; it reads on from the stored position", capitalized(moved.getMessage()));
                reload();
                return;
            }
            if (cause != null) {
                LOG.debugf("Could not store position %d of %s: %s", to, partition, cause.getMessage());
            } else if (owner != null && stored == from) {
                stored = to;
                progressAt = System.nanoTime();
            }
            // A wake-up that came meanwhile reads now.
            next();
        }));
    }

    /** Messages of the channel may have been numbered. Any thread. */
    void wake() {
        context.runOnContext(ignored -> {
            woken = true;
            next();
        });
    }

    /**
     * The head read from the database is {@code head}: read on, unless reading got there already with nothing left to
     * deliver. Any thread.
     */
    void wakeBelow(long head) {
        context.runOnContext(ignored -> {
            if (!busy && caughtUp && index >= page.size() && after >= head) {
                this.head = Math.max(this.head, head);
                return;
            }
            woken = true;
            next();
        });
    }

    void close() {
        context.runOnContext(ignored -> {
            closed = true;
            endRun = true;
        });
    }

    /**
     * The database's history went back to {@code head}: the owner moves a stored position past it back (the messages
     * numbered there anew are new ones) and reads on from the stored position. Any thread.
     */
    void rewind(long head) {
        context.runOnContext(ignored -> {
            this.head = head;
            if (owner == null || closed) {
                return;
            }
            endRun = true;
            running = null;
            busy = true;
            vertx.executeBlocking(() -> positions.clampTo(partition, head), false)
                    .onComplete(result -> context.runOnContext(ignored2 -> {
                        busy = false;
                        if (result.succeeded() && result.result().isPresent()) {
                            LOG.errorf("%s was done up to position %d in the lost history; it goes on after %d, the"
                                    + " new head: messages numbered from %d on are new ones", partition,
                                    result.result().getAsLong(), head, head + 1);
                        }
                        attempt = 0;
                        load(() -> {
                        });
                    }));
        });
    }

    /** Takes the partition if it is free (the membership's share says this instance should). On the context. */
    void take() {
        SqlClient client = connection.sqlClient();
        if (client == null || acquiring || owner != null || closed || stopped != null) {
            return;
        }
        acquiring = true;
        client.preparedQuery("SELECT pg_try_advisory_lock(" + BusTable.groupLockSql() + ")")
                .execute(Tuple.of(lockKey()))
                .onComplete(result -> context.runOnContext(ignored -> {
                    acquiring = false;
                    if (result.failed()) {
                        LOG.debugf("Could not ask for the lock of %s: %s", partition, result.cause().getMessage());
                        return;
                    }
                    if (closed || !result.result().iterator().next().getBoolean(0)) {
                        return;
                    }
                    if (client != connection.sqlClient()) {
                        return;
                    }
                    owner = client;
                    releasing = false;
                    busy = true;
                    load(() -> LOG.infof("This instance delivers %s, after position %d", partition, stored));
                }));
    }

    /** Gives the partition back to the group, once the call under way (if any) is over. On the context. */
    void release() {
        if (owner == null) {
            return;
        }
        releasing = true;
        endRun = true;
        if (!busy) {
            next();
        }
    }

    private String lockKey() {
        return table.groupPartitionLockKey(group, partition.partition(), channel);
    }

    /** Reads the stored position (storing the first one if there is none), then reads on from it. */
    private void load(Runnable loaded) {
        busy = true;
        boolean earliest = settings.start() == ImDispatcherConfig.GroupStart.EARLIEST;
        vertx.executeBlocking(() -> positions.start(partition, earliest), false)
                .onComplete(result -> context.runOnContext(ignored -> {
                    busy = false;
                    if (result.failed()) {
                        LOG.warnf("Cannot read the position of %s (%s); it is tried again at the next sweep",
                                partition, result.cause().getMessage());
                        lose("its position could not be read");
                        return;
                    }
                    result.result().repartitioned().ifPresent(before -> LOG.warnf("Group '%s' had %d partition(s)"
                            + " on channel '%s' and has %d now: one key's messages are in another partition, so every"
                            + " partition starts again after position %d, the lowest of the old ones; messages after it"
                            + " that an old partition had delivered are delivered again", group, before, channel,
                            partition.partitions(), result.result().position()));
                    stored = result.result().position();
                    progressAt = System.nanoTime();
                    ahead = null;
                    after = stored;
                    reached = stored;
                    page = List.of();
                    index = 0;
                    caughtUp = false;
                    loaded.run();
                    next();
                }));
    }

    /** Another instance moved the position: read on from where it is, if this one still owns the group. */
    private void reload() {
        attempt = 0;
        if (owner != null) {
            load(() -> {
            });
        }
    }

    private void lose(String why) {
        if (owner != null) {
            LOG.infof("This instance no longer delivers %s: %s", partition, why);
            SqlClient previous = owner;
            owner = null;
            if (previous == connection.sqlClient()) {
                previous.preparedQuery("SELECT pg_advisory_unlock(" + BusTable.groupLockSql() + ")")
                        .execute(Tuple.of(lockKey()));
            }
        }
        releasing = false;
        endRun = true;
        attempt = 0;
        waitingSince = null;
        stored = -1;
        page = List.of();
        ahead = null;
        index = 0;
    }

    private void next() {
        if (closed || busy || owner == null || stopped != null) {
            return;
        }
        if (owner != connection.sqlClient()) {
            lose("its listening connection ended");
            return;
        }
        if (releasing) {
            lose("another member takes it, for its share of the partitions");
            return;
        }
        if (index < page.size()) {
            if (waitingSince == null) {
                // Work appeared (or the previous message was done): the stuck clock starts now.
                progressAt = System.nanoTime();
            }
            waitingSince = page.get(index).createdAt();
            deliver();
        } else if (woken || !caughtUp) {
            read();
        }
    }

    private void read() {
        busy = true;
        long from = after;
        Future<Page> reading;
        if (ahead != null && aheadFrom == from && aheadOwner == owner) {
            // Read ahead, perhaps before a wake-up that came since: that one still counts.
            reading = ahead;
        } else {
            woken = false;
            reading = readAfter(from);
        }
        ahead = null;
        reading.onComplete(result -> context.runOnContext(ignored -> {
            busy = false;
            if (result.failed()) {
                caughtUp = true;
                LOG.debugf("Could not read %s after position %d: %s", partition, from, result.cause().getMessage());
                return;
            }
            Page read = result.result();
            head = Math.max(head, read.head());
            knownHead.seen(read.head());
            read.lostAfter(from).ifPresent(through -> losses.report(capitalized(partition) + " ("
                    + invoker.method().label() + ")", channel, from, through));
            page = read.messages();
            index = 0;
            after = Math.max(after, read.positionAfter(from));
            caughtUp = read.complete();
            reached = page.isEmpty() ? after : page.get(0).position() - 1;
            if (page.isEmpty() && caughtUp) {
                waitingSince = null;
                progressAt = System.nanoTime();
            }
            if (!caughtUp && owner != null) {
                aheadFrom = after;
                aheadOwner = owner;
                ahead = readAfter(after);
            }
            next();
        }));
    }

    /** The page of the partition after {@code from}, read on the owner's connection. */
    private Future<Page> readAfter(long from) {
        return partition.partitions() == 1 ? pages.onChannels(owner, channels, from)
                : pages.ofPartition(owner, channels, from, partition.partitions(), partition.partition());
    }

    /**
     * Delivers the page from {@code index} on, one message after the other on one worker thread, each in a
     * transaction of its own; the run ends at the page's end, at a failure, or when the partition must stop. The
     * context learns of the successes as they happen (see {@link Run}), and of all of them when the run ends.
     */
    private void deliver() {
        busy = true;
        endRun = false;
        Run run = new Run(page.subList(index, page.size()), index);
        running = run;
        long from = stored;
        int firstAttempt = attempt + 1;
        invoker.onWorker(() -> deliverEach(run, from, firstAttempt)).whenComplete((ignored, failure) -> context.runOnContext(
                ignored2 -> {
                    takeProgress(run);
                    running = null;
                    busy = false;
                    if (owner == null) {
                        // Lost meanwhile: the next owner reads the position from the table.
                        return;
                    }
                    Throwable cause = unwrap(failure);
                    if (cause == null) {
                        next();
                    } else if (cause instanceof GroupPositions.PositionMoved moved) {
                        LOG.infof("%s; it reads on from the stored position", capitalized(moved.getMessage()));
                        reload();
                    } else {
                        failed(page.get(index), cause);
                    }
                }));
    }

    /**
     * A run of deliveries on the worker: its messages, where in the page it began, and how many are done, counted by
     * the worker. The worker tells the context at most every {@link #PROGRESS_EVERY_NANOS}, not after each call:
     * each task handed to an idle event loop wakes it, and in a CPU profile the hand-over alone took 6% of the
     * worker's time, the loop's wake-ups more on its side. The context thus sees the position a few milliseconds
     * late, never ahead; the run's end tells it all.
     */
    private static final class Run {

        final List<StoredMessage> messages;
        final int start;
        volatile int done;

        Run(List<StoredMessage> messages, int start) {
            this.messages = messages;
            this.start = start;
        }
    }

    private static final long PROGRESS_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** On the worker: the run's messages in order, each call committing with the move of the position past it. */
    private Void deliverEach(Run run, long from, int firstAttempt) throws Exception {
        long position = from;
        long toldAt = System.nanoTime() - PROGRESS_EVERY_NANOS;
        for (int i = 0; i < run.messages.size() && (i == 0 || !endRun); i++) {
            StoredMessage message = run.messages.get(i);
            GroupDelivery delivery = new GroupDelivery(positions, partition, position, message.position(),
                    i == 0 ? firstAttempt : 1);
            invoker.callAround(message.message(), delivery, call -> QuarkusTransaction.requiringNew().call(() -> {
                call.call();
                if (!delivery.moved()) {
                    delivery.moveInCurrentTransaction();
                }
                return null;
            }));
            position = message.position();
            run.done = i + 1;
            long now = System.nanoTime();
            if (now - toldAt >= PROGRESS_EVERY_NANOS) {
                toldAt = now;
                context.runOnContext(ignored -> takeProgress(run));
            }
        }
        return null;
    }

    /** Takes up what {@code run} has done so far, if it is still the run that counts. On the context. */
    private void takeProgress(Run run) {
        int done = run.done;
        if (owner == null || run != running || run.start + done <= index) {
            // Lost, rewound or reloaded meanwhile (the position is read from the table again), or nothing new.
            return;
        }
        index = run.start + done;
        passed(run.messages.get(done - 1));
    }

    /** The stored position moved past {@code message}, the page's last before {@code index}. On the context. */
    private void passed(StoredMessage message) {
        stored = message.position();
        progressAt = System.nanoTime();
        attempt = 0;
        waitingSince = index < page.size() ? page.get(index).createdAt() : null;
        reached = index < page.size() ? page.get(index).position() - 1 : after;
    }

    private void failed(StoredMessage message, Throwable failure) {
        attempt++;
        int attempts = settings.retry().maxAttempts();
        if (attempt < attempts) {
            retries++;
            long delay = FailedMessages.retryDelayMillis(settings.retry(), attempt);
            LOG.warnf("Group '%s' (%s) failed on message %d of channel '%s' (attempt %d of %d): %s; it"
                    + " tries again in %d ms, later messages waiting", group, invoker.method().label(),
                    message.position(), channel, attempt, attempts, FailedMessages.describe(failure), delay);
            busy = true;
            vertx.setTimer(delay, id -> context.runOnContext(ignored -> {
                busy = false;
                next();
            }));
            return;
        }
        switch (settings.failure()) {
            case STOP -> {
                stopped = "stopped on message " + message.position() + " after " + attempt + " attempts: "
                        + FailedMessages.describe(failure);
                LOG.errorf(failure, "Group '%s' (%s) stopped on message %d of channel '%s' after %d"
                        + " attempts (quarkus.imdispatcher.groups.\"%s\".failure=stop); readiness is DOWN until the"
                        + " application restarts", group, invoker.method().label(), message.position(), channel,
                        attempt, group);
            }
            case SKIP -> giveUp(message, failure, Optional.empty());
            case DEAD_LETTER -> giveUp(message, failure, Optional.of(deadLetterChannel()));
        }
    }

    /** Moves past the message, sending it to {@code deadLetters} first if present, in one transaction. */
    private void giveUp(StoredMessage message, Throwable failure, Optional<String> deadLetterChannel) {
        busy = true;
        long from = stored;
        vertx.executeBlocking(() -> QuarkusTransaction.requiringNew().call(() -> {
            deadLetterChannel.ifPresent(
                    dlq -> bus.send(dlq, FailedMessages.deadLetter(json, group, message.message(), failure, attempt)));
            positions.advance(partition, from, message.position());
            return null;
        }), false).onComplete(result -> context.runOnContext(ignored -> {
            busy = false;
            Throwable cause = result.failed() ? unwrap(result.cause()) : null;
            if (cause instanceof GroupPositions.PositionMoved) {
                reload();
                return;
            }
            if (cause != null) {
                LOG.warnf("Group '%s' could not give message %d of channel '%s' up (%s); it tries again",
                        group, message.position(), channel, cause.getMessage());
                busy = true;
                vertx.setTimer(FailedMessages.retryDelayMillis(settings.retry(), 1), id -> context.runOnContext(ignored2 -> {
                    busy = false;
                    giveUp(message, failure, deadLetterChannel);
                }));
                return;
            }
            if (deadLetterChannel.isPresent()) {
                deadLetters++;
                LOG.warnf("Group '%s' (%s) gave message %d of channel '%s' up after %d attempts (%s);"
                        + " it is on channel '%s'", group, invoker.method().label(), message.position(), channel,
                        attempt, FailedMessages.describe(failure), deadLetterChannel.get());
            } else {
                LOG.warnf("Group '%s' (%s) skipped message %d of channel '%s' after %d attempts: %s",
                        group, invoker.method().label(), message.position(), channel, attempt,
                        FailedMessages.describe(failure));
            }
            if (owner != null && stored == from) {
                index++;
                passed(message);
            }
            next();
        }));
    }

    private String deadLetterChannel() {
        return settings.deadLetterChannel().orElse(channel + "-dlq");
    }

    private static String capitalized(Object text) {
        String shown = text.toString();
        return Character.toUpperCase(shown.charAt(0)) + shown.substring(1);
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof QuarkusTransactionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

}
