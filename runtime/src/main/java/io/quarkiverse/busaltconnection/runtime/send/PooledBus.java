package io.quarkiverse.busaltconnection.runtime.send;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.sql.XADataSource;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Status;
import jakarta.transaction.TransactionSynchronizationRegistry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkiverse.busaltconnection.runtime.BusLifecycle;
import io.quarkiverse.busaltconnection.runtime.MessageChecks;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.sequence.SequencerActivity;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkus.runtime.BlockingOperationControl;
import io.quarkus.runtime.BlockingOperationNotAllowedException;

/**
 * {@link Bus} over the bus's datasource, i.e. through PgBouncer. Inside a JTA transaction the messages are collected
 * and written just before it commits ({@link PendingMessages}); outside one, by one autocommitted INSERT.
 * Each commit wakes the sequencer, carrying the wake-up or followed by one ({@link WrittenHint}). Channel and payload are
 * always bind parameters.
 */
@ApplicationScoped
public class PooledBus implements Bus {

    private final AgroalDataSource dataSource;
    private final ObjectMapper objectMapper;
    private final TransactionSynchronizationRegistry transactions;
    private final BusTable table;
    private final WrittenHint hint;
    /**
     * Whether the datasource takes part in two-phase commits: PostgreSQL cannot prepare a transaction that notified, so
     * its JTA transactions carry no wake-up ({@link WrittenHint#carry()}).
     */
    private final boolean xa;
    private final BusObservers observers;
    /** Writes the rare sends that come after their transaction completed: see {@link #writeAfterCompletion}. */
    private final ExecutorService afterCompletion = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "imdispatcher-after-completion-send");
        thread.setDaemon(true);
        return thread;
    });

    @Inject
    public PooledBus(BusDataSource dataSource, ObjectMapper objectMapper,
            TransactionSynchronizationRegistry transactions, BusTable table, BusObservers observers,
            BusLifecycle lifecycle, SequencerActivity activity) {
        this.observers = observers;
        this.dataSource = dataSource.get();
        this.objectMapper = objectMapper;
        this.transactions = transactions;
        this.table = table;
        this.hint = new WrittenHint(this.dataSource, table, lifecycle::stopping, activity);
        Class<?> provider = this.dataSource.getConfiguration().connectionPoolConfiguration()
                .connectionFactoryConfiguration().connectionProviderClass();
        this.xa = provider != null && XADataSource.class.isAssignableFrom(provider);
    }

    @PreDestroy
    void close() {
        hint.close();
        afterCompletion.shutdown();
    }

    @Override
    public void send(String channel, String payload) {
        send(channel, null, payload);
    }

    @Override
    public void send(String channel, Object payload) {
        send(channel, null, payload);
    }

    @Override
    public void send(String channel, String key, String payload) {
        MessageChecks.requireSendable(channel, key, payload);
        if (!BlockingOperationControl.isBlockingAllowed()) {
            throw new BlockingOperationNotAllowedException("Cannot send on channel '" + channel + "' from the event loop"
                    + " (thread " + Thread.currentThread().getName() + "): Bus.send writes through JDBC and blocks."
                    + " Send from a worker or virtual thread (@Blocking, @RunOnVirtualThread, Vertx.executeBlocking)");
        }
        Outgoing message = new Outgoing(channel, key, payload, observers.sending(channel));
        int status = transactions.getTransactionStatus();
        if (status == Status.STATUS_NO_TRANSACTION) {
            writeAlone(message);
        } else if (status == Status.STATUS_COMMITTED || status == Status.STATUS_ROLLEDBACK) {
            writeAfterCompletion(message);
        } else if (status == Status.STATUS_ACTIVE) {
            PendingMessages.of(transactions, dataSource, table, hint, observers, !xa).add(message);
        } else {
            throw new IllegalStateException("Cannot send on channel '" + channel + "': the current transaction "
                    + PendingMessages.refusal(status));
        }
    }

    @Override
    public void send(String channel, String key, Object payload) {
        if (payload == null || payload instanceof String) {
            // A null object is refused as a null text is, rather than sent as the JSON literal null.
            send(channel, key, (String) payload);
            return;
        }
        send(channel, key, json(channel, payload));
    }

    /**
     * {@code payload} as JSON, by the application's {@code ObjectMapper}.
     *
     * @throws IllegalArgumentException if it cannot be written as JSON
     */
    String json(String channel, Object payload) {
        try {
            return objectMapper.writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Cannot send on channel '" + channel + "': the payload of type "
                    + payload.getClass().getName() + " cannot be written as JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    /**
     * {@code payload} (text, or an object sent as JSON) checked and encoded as a message of {@code channel}, with the
     * trace context current now.
     *
     * @throws IllegalArgumentException naming what to change, for a message that cannot be sent
     */
    public Outgoing prepare(String channel, String key, Object payload) {
        String text = payload instanceof String || payload == null ? (String) payload : json(channel, payload);
        MessageChecks.requireSendable(channel, key, text);
        return new Outgoing(channel, key, text, observers.sending(channel));
    }

    /**
     * Writes {@code messages} in one statement outside any transaction (a transaction of its own, one round trip),
     * which wakes the sequencer at its commit or is followed by a wake-up ({@link WrittenHint}): for a writer that sends many
     * messages at once and acknowledges them together, as
     * the Quarkus Messaging connector's outgoing channels do.
     */
    public void writeTogether(List<Outgoing> messages) {
        boolean notified;
        boolean carries = hint.carry();
        try (Connection connection = dataSource.getConnection()) {
            notified = PendingMessages.insert(table, connection, messages, carries ? hint : null,
                    connection.getAutoCommit());
        } catch (SQLException e) {
            String what = messages.size() == 1 ? "Sending on channel '" + messages.get(0).channel() + "'"
                    : "Sending " + messages.size() + " messages (the first on channel '" + messages.get(0).channel()
                            + "')";
            throw new BusException(what + " failed: " + e.getMessage(), e);
        } finally {
            if (carries) {
                hint.carriedEnded();
            }
        }
        hint.request(notified);
        messages.forEach(message -> observers.sent(message.channel()));
    }

    /**
     * Whether a reactive write should carry the sequencer's wake-up in its own statement
     * ({@link BusTable#insertOneReactiveWaking()}; see {@link WrittenHint#carry()}). A caller told yes calls
     * {@link #carriedEnded()} once the write's transaction ended, however.
     */
    boolean carry() {
        return hint.carry();
    }

    /** The transaction that {@link #carry()} said should carry the wake-up committed or rolled back. */
    void carriedEnded() {
        hint.carriedEnded();
    }

    /** The highest head this instance read from the database: see {@link SequencerActivity#knownHead()}. */
    long knownHead() {
        return hint.knownHead();
    }

    /**
     * Reads the answer of a reactive write that carried the wake-up, asked at {@code asked} (nanoTime): {@code position}
     * the last position it gave its messages (null when it did not number them: {@link BusTable#insertOneNumbering()}),
     * {@code awakeMillis} null when it notified, else how many ms the sequencer still looks on its own.
     *
     * @return whether the sequencer needs no wake-up after the commit
     */
    boolean answered(long asked, Long position, Double awakeMillis) {
        return position != null || hint.answered(asked, awakeMillis);
    }

    /**
     * Messages of {@code channel} were committed (not in a JTA transaction): wake the sequencer unless their write's
     * statement {@code notified}, count them.
     */
    void written(String channel, boolean notified) {
        hint.request(notified);
        observers.sent(channel);
    }

    /** Outside a transaction: the INSERT is a transaction of its own (one round trip). */
    private void writeAlone(Outgoing message) {
        writeTogether(List.of(message));
    }

    /**
     * A send from {@code afterCompletion} (a synchronization's, a {@code @TransactionScoped} bean's destruction): the
     * thread's transaction has completed but is still associated with it, and the datasource would try to enlist in
     * it. Written alone, as outside any transaction, on a thread without one.
     */
    private void writeAfterCompletion(Outgoing message) {
        try {
            CompletableFuture.runAsync(() -> writeAlone(message), afterCompletion).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException failure ? failure : e;
        }
    }
}
