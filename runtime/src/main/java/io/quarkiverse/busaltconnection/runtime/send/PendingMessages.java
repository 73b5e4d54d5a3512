package io.quarkiverse.busaltconnection.runtime.send;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.runtime.store.BusWriter;
import io.quarkiverse.busaltconnection.runtime.store.BusWriter.Outgoing;

/**
 * The messages a JTA transaction sent, written in one statement just before it commits, on its own connection; a
 * write that fails makes the transaction roll back, so a transaction never commits without its messages. After the
 * commit the sequencer is woken. A transaction that rolls back writes nothing.
 */
final class PendingMessages implements Synchronization {

    private static final Object KEY = PendingMessages.class;

    private final TransactionSynchronizationRegistry transactions;
    private final AgroalDataSource dataSource;
    private final BusWriter writer;
    private final Consumer<List<Outgoing>> committed;
    private final List<Outgoing> messages = new ArrayList<>();

    private PendingMessages(TransactionSynchronizationRegistry transactions, AgroalDataSource dataSource,
            BusWriter writer, Consumer<List<Outgoing>> committed) {
        this.transactions = transactions;
        this.dataSource = dataSource;
        this.writer = writer;
        this.committed = committed;
    }

    /**
     * The messages of the current transaction, registering for its completion on first use.
     *
     * @param committed what to do with the messages once the transaction committed (wake the sequencer, count them)
     */
    static PendingMessages of(TransactionSynchronizationRegistry transactions, AgroalDataSource dataSource,
            BusWriter writer, Consumer<List<Outgoing>> committed) {
        PendingMessages pending = (PendingMessages) transactions.getResource(KEY);
        if (pending == null) {
            pending = new PendingMessages(transactions, dataSource, writer, committed);
            transactions.putResource(KEY, pending);
            transactions.registerInterposedSynchronization(pending);
        }
        return pending;
    }

    void add(Outgoing message) {
        messages.add(message);
    }

    @Override
    public void beforeCompletion() {
        if (transactions.getTransactionStatus() != Status.STATUS_ACTIVE) {
            return;
        }
        try (Connection connection = dataSource.getConnection()) {
            writer.write(connection, messages);
        } catch (SQLException e) {
            throw new BusException("Writing " + messages.size() + " bus message(s) before commit failed: "
                    + e.getMessage() + "; the transaction rolls back", e);
        }
    }

    @Override
    public void afterCompletion(int status) {
        // A rolled-back transaction took its rows with it: nothing to undo, nobody to wake.
        if (status == Status.STATUS_COMMITTED) {
            committed.accept(messages);
        }
    }

    static String describe(int status) {
        return switch (status) {
            case Status.STATUS_MARKED_ROLLBACK -> "marked for rollback";
            case Status.STATUS_ROLLING_BACK, Status.STATUS_ROLLEDBACK -> "rolling back";
            case Status.STATUS_COMMITTING, Status.STATUS_PREPARING, Status.STATUS_PREPARED -> "completing";
            default -> "in status " + status;
        };
    }
}
