package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;

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
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * One group member's place on the bus: the {@code @BusListener(group = ...)} method of this instance, delivering for
 * the whole fleet while it owns the group on its channel. Ownership is a session advisory lock on the instance's
 * listening connection, tried at every sweep: when the owner's connection ends, PostgreSQL releases the lock and
 * another instance takes over. Each call runs in a JTA transaction that also moves the group's stored position from
 * the one it read: a call that returns commits both, one that throws rolls both back, and an instance that lost the
 * group meanwhile finds the position moved and rolls back. A failed call is retried with growing delays, the group
 * waiting, then given up as configured. State lives on the listener's own context.
 */
final class GroupCursor {

    private static final Logger LOG = Logger.getLogger(GroupCursor.class);

    private final ListenerInvoker invoker;
    private final String group;
    private final String channel;
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
    /** A page is read, a message delivered, a retry awaited, or the position loaded. */
    private boolean busy;
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
    private int attempt;
    private volatile String stopped;
    private volatile long retries;
    private volatile long deadLetters;

    GroupCursor(ListenerInvoker invoker, PageReader pages, ListenerConnection connection, BusTable table,
            GroupPositions positions, ImDispatcherConfig.ConsumerGroup settings, Bus bus, ObjectMapper json,
            LossLog losses, KnownHead knownHead, Vertx vertx) {
        this.invoker = invoker;
        this.group = invoker.method().group;
        this.channel = invoker.method().channel;
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

    BusStatus.GroupStatus status() {
        long position = stored;
        return new BusStatus.GroupStatus(group, channel, invoker.method().description, position >= 0, position,
                position >= 0 ? Math.max(0, Math.max(head, knownHead.get()) - Math.max(position, reached)) : -1,
                retries, deadLetters, Optional.ofNullable(stopped));
    }

    /** Every sweep: take the group if it is free, notice a lost connection, read on. Any thread. */
    void sweep() {
        context.runOnContext(ignored -> {
            if (closed || stopped != null) {
                return;
            }
            if (owner != null && owner != connection.sqlClient()) {
                lose("its listening connection ended");
            }
            if (owner == null) {
                acquire();
            } else {
                woken = true;
                next();
            }
        });
    }

    /** Messages of the channel may have been numbered. Any thread. */
    void wake() {
        context.runOnContext(ignored -> {
            woken = true;
            next();
        });
    }

    void close() {
        context.runOnContext(ignored -> closed = true);
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
            busy = true;
            vertx.executeBlocking(() -> positions.clampTo(group, channel, head), false)
                    .onComplete(result -> context.runOnContext(ignored2 -> {
                        busy = false;
                        if (result.succeeded() && result.result().isPresent()) {
                            LOG.errorf("Group '%s' was done with channel '%s' up to position %d in the lost history;"
                                    + " it goes on after %d, the new head: messages numbered from %d on are new ones",
                                    group, channel, result.result().getAsLong(), head, head + 1);
                        }
                        attempt = 0;
                        load(() -> {
                        });
                    }));
        });
    }

    private void acquire() {
        SqlClient client = connection.sqlClient();
        if (client == null || acquiring) {
            return;
        }
        acquiring = true;
        client.preparedQuery("SELECT pg_try_advisory_lock(" + BusTable.groupLockSql() + ")")
                .execute(Tuple.of(table.groupLockKey(group, channel)))
                .onComplete(result -> context.runOnContext(ignored -> {
                    acquiring = false;
                    if (result.failed()) {
                        LOG.debugf("Group '%s' could not ask for its lock on channel '%s': %s", group, channel,
                                result.cause().getMessage());
                        return;
                    }
                    if (closed || !result.result().iterator().next().getBoolean(0)) {
                        return;
                    }
                    if (client != connection.sqlClient()) {
                        return;
                    }
                    owner = client;
                    busy = true;
                    load(() -> LOG.infof("This instance delivers group '%s' on channel '%s', after position %d",
                            group, channel, stored));
                }));
    }

    /** Reads the stored position (storing the first one if there is none), then reads on from it. */
    private void load(Runnable loaded) {
        busy = true;
        boolean earliest = settings.start() == ImDispatcherConfig.GroupStart.EARLIEST;
        vertx.executeBlocking(() -> positions.start(group, channel, earliest), false)
                .onComplete(result -> context.runOnContext(ignored -> {
                    busy = false;
                    if (result.failed()) {
                        LOG.warnf("Group '%s' cannot read its position on channel '%s' (%s); it tries again at the next"
                                + " sweep", group, channel, result.cause().getMessage());
                        lose("its position could not be read");
                        return;
                    }
                    stored = result.result();
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
            LOG.infof("This instance no longer delivers group '%s' on channel '%s': %s", group, channel, why);
            SqlClient previous = owner;
            owner = null;
            if (previous == connection.sqlClient()) {
                previous.preparedQuery("SELECT pg_advisory_unlock(" + BusTable.groupLockSql() + ")")
                        .execute(Tuple.of(table.groupLockKey(group, channel)));
            }
        }
        stored = -1;
        page = List.of();
    }

    private void next() {
        if (closed || busy || owner == null || stopped != null) {
            return;
        }
        if (owner != connection.sqlClient()) {
            lose("its listening connection ended");
            return;
        }
        if (index < page.size()) {
            deliver(page.get(index));
        } else if (woken || !caughtUp) {
            read();
        }
    }

    private void read() {
        busy = true;
        woken = false;
        long from = after;
        pages.onChannels(owner, channels, from).onComplete(result -> context.runOnContext(ignored -> {
            busy = false;
            if (result.failed()) {
                caughtUp = true;
                LOG.debugf("Group '%s' could not read channel '%s' after position %d: %s", group, channel, from,
                        result.cause().getMessage());
                return;
            }
            Page read = result.result();
            head = Math.max(head, read.head());
            knownHead.seen(read.head());
            read.lostAfter(from).ifPresent(through -> losses.report("Group '" + group + "' (@BusListener "
                    + invoker.method().description + ")", channel, from, through));
            page = read.messages();
            index = 0;
            after = Math.max(after, read.positionAfter(from));
            caughtUp = read.complete();
            reached = page.isEmpty() ? after : page.get(0).position() - 1;
            next();
        }));
    }

    private void deliver(StoredMessage message) {
        busy = true;
        long from = stored;
        invoker.invokeAround(message.message(), call -> QuarkusTransaction.requiringNew().call(() -> {
            call.call();
            positions.advance(group, channel, from, message.position());
            return null;
        })).whenComplete((ignored, failure) -> context.runOnContext(ignored2 -> {
            busy = false;
            Throwable cause = unwrap(failure);
            if (cause == null) {
                delivered(message);
            } else if (cause instanceof GroupPositions.PositionMoved moved) {
                LOG.infof("Group '%s': %s; it reads on from the stored position", group, moved.getMessage());
                reload();
            } else {
                failed(message, cause);
            }
        }));
    }

    private void delivered(StoredMessage message) {
        if (owner == null) {
            // Lost meanwhile: the next owner reads the position from the table.
            return;
        }
        stored = message.position();
        index++;
        attempt = 0;
        reached = index < page.size() ? page.get(index).position() - 1 : after;
        next();
    }

    private void failed(StoredMessage message, Throwable failure) {
        attempt++;
        int attempts = settings.retry().maxAttempts();
        if (attempt < attempts) {
            retries++;
            long delay = backoff(attempt);
            LOG.warnf("Group '%s' (@BusListener %s) failed on message %d of channel '%s' (attempt %d of %d): %s; it"
                    + " tries again in %d ms, later messages waiting", group, invoker.method().description,
                    message.position(), channel, attempt, attempts, describe(failure), delay);
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
                        + describe(failure);
                LOG.errorf(failure, "Group '%s' (@BusListener %s) stopped on message %d of channel '%s' after %d"
                        + " attempts (quarkus.imdispatcher.groups.\"%s\".failure=stop); readiness is DOWN until the"
                        + " application restarts", group, invoker.method().description, message.position(), channel,
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
            deadLetterChannel.ifPresent(dlq -> bus.send(dlq, deadLetter(message, failure)));
            positions.advance(group, channel, from, message.position());
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
                vertx.setTimer(backoff(1), id -> context.runOnContext(ignored2 -> {
                    busy = false;
                    giveUp(message, failure, deadLetterChannel);
                }));
                return;
            }
            if (deadLetterChannel.isPresent()) {
                deadLetters++;
                LOG.warnf("Group '%s' (@BusListener %s) gave message %d of channel '%s' up after %d attempts (%s);"
                        + " it is on channel '%s'", group, invoker.method().description, message.position(), channel,
                        attempt, describe(failure), deadLetterChannel.get());
            } else {
                LOG.warnf("Group '%s' (@BusListener %s) skipped message %d of channel '%s' after %d attempts: %s",
                        group, invoker.method().description, message.position(), channel, attempt, describe(failure));
            }
            delivered(message);
        }));
    }

    private String deadLetterChannel() {
        return settings.deadLetterChannel().orElse(channel + "-dlq");
    }

    /** The dead letter's JSON: where the message was, what it said, and why it was given up. */
    private String deadLetter(StoredMessage message, Throwable failure) {
        return json.createObjectNode()
                .put("group", group)
                .put("channel", channel)
                .put("position", message.position())
                .put("time", message.message().time().toString())
                .put("payload", message.message().payload())
                .put("error", failure.getClass().getName())
                .put("message", String.valueOf(failure.getMessage()))
                .put("attempts", attempt)
                .toString();
    }

    /** Exponential, capped, with a random part of +/-50% so that members retrying together spread out. */
    private long backoff(int attempt) {
        long initial = settings.retry().initialDelay().toMillis();
        long max = settings.retry().maxDelay().toMillis();
        long delay = Math.min(max, initial << Math.min(attempt - 1, 30));
        return Math.max(1, (long) (delay * (0.5 + ThreadLocalRandom.current().nextDouble())));
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof QuarkusTransactionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static String describe(Throwable failure) {
        return failure.getClass().getSimpleName() + ": " + failure.getMessage();
    }
}
