package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.StoredMessage;
import io.quarkiverse.busaltconnection.runtime.store.WakeUp;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * Turns wake-up notifications and reconnections into the stream of committed bus messages, each exactly once and in
 * commit order. Ids follow commit order (see {@code BusWriter}), so one number is enough: the last id delivered.
 * A wake-up whose ids follow it directly is delivered from its inline messages; one that leaves a gap (messages
 * committed while this instance was not listening, or too large to ride inline) is completed from the table; after
 * every LISTEN, everything after the last id is read from the table. Work runs one item at a time, on the listening
 * connection's event loop, in arrival order.
 */
final class BusFeed {

    private static final Logger LOG = Logger.getLogger(BusFeed.class);
    private static final int PAGE = 500;

    private final BusTable table;
    private final ObjectMapper json;
    private final Supplier<SqlClient> connection;
    private final Consumer<StoredMessage> sink;
    private final Deque<Supplier<Future<Void>>> work = new ArrayDeque<>();
    private boolean working;
    private volatile long lastId;

    /**
     * @param connection the listening connection (null while it is down)
     * @param lastId deliver messages after this id
     */
    BusFeed(BusTable table, ObjectMapper json, Supplier<SqlClient> connection, Consumer<StoredMessage> sink,
            long lastId) {
        this.table = table;
        this.json = json;
        this.connection = connection;
        this.sink = sink;
        this.lastId = lastId;
    }

    long lastId() {
        return lastId;
    }

    /** A notification on the table's channel. */
    void onWakeUp(String payload) {
        WakeUp wakeUp;
        try {
            wakeUp = WakeUp.decode(json, payload);
        } catch (IllegalArgumentException e) {
            LOG.warnf("Ignored a notification on the bus channel '%s' that the bus did not send: %s", table.name(),
                    e.getMessage());
            return;
        }
        enqueue(() -> handle(wakeUp));
    }

    /** LISTEN went through (again): read what was committed while nobody listened. */
    void onListening() {
        enqueue(() -> readAfter(Long.MAX_VALUE));
    }

    private Future<Void> handle(WakeUp wakeUp) {
        if (wakeUp.last() <= lastId) {
            return Future.succeededFuture();
        }
        if (wakeUp.first() <= lastId + 1 && !wakeUp.messages().isEmpty()) {
            wakeUp.messages().stream().filter(message -> message.id() > lastId).forEach(this::deliver);
            return Future.succeededFuture();
        }
        return readAfter(wakeUp.last());
    }

    /** Delivers the table's rows after the last id, up to {@code upTo}, page by page. */
    private Future<Void> readAfter(long upTo) {
        SqlClient client = connection.get();
        if (client == null) {
            // Not connected: the catch-up after the next LISTEN reads these.
            return Future.succeededFuture();
        }
        return client.preparedQuery(table.rowsAfter()).execute(Tuple.of(lastId, upTo, PAGE)).compose(rows -> {
            for (Row row : rows) {
                deliver(new StoredMessage(row.getLong(0), row.getString(1), row.getString(2),
                        row.getOffsetDateTime(3).toInstant()));
            }
            return rows.size() == PAGE ? readAfter(upTo) : Future.succeededFuture();
        });
    }

    private void deliver(StoredMessage message) {
        lastId = message.id();
        sink.accept(message);
    }

    private void enqueue(Supplier<Future<Void>> item) {
        work.add(item);
        if (!working) {
            next();
        }
    }

    private void next() {
        Supplier<Future<Void>> item = work.poll();
        if (item == null) {
            working = false;
            return;
        }
        working = true;
        Future<Void> done;
        try {
            done = item.get();
        } catch (RuntimeException e) {
            done = Future.failedFuture(e);
        }
        done.onComplete(result -> {
            if (result.failed()) {
                // The messages stay in the table; the catch-up after the next LISTEN delivers them.
                LOG.warnf("Reading the bus table '%s' failed (%s); delivery resumes from message %d after the"
                        + " listener reconnects", table.name(), result.cause().getMessage(), lastId);
            }
            next();
        });
    }
}
