package io.quarkiverse.busaltconnection.runtime.send;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;

/**
 * The messages a JTA transaction sent, written in one INSERT just before it commits, on its connection; a write
 * that fails makes the transaction roll back, so a transaction never commits without its messages. The sequencer is
 * woken by the commit itself when the INSERT carried the wake-up ({@link WrittenHint#carry()}), else after it. A transaction
 * that rolls back writes nothing. The INSERT writes rows and nothing else (see
 * {@link BusTable}); outside a transaction {@link #insert} is a transaction of its own.
 * <p>
 * Synchronizations run one after the other before the commit, and those registered after this one (in the interposed
 * group, where this one is, or by an observer of {@code TransactionPhase.BEFORE_COMPLETION}) may still send once the
 * batch is written: such a message is written at once, while the transaction can still take it, and a failure marks
 * the transaction for rollback even if the sender catches the exception.
 */
final class PendingMessages implements Synchronization {

    private static final Object KEY = PendingMessages.class;

    private final TransactionSynchronizationRegistry transactions;
    private final AgroalDataSource dataSource;
    private final BusTable table;
    private final WrittenHint hint;
    private final BusObservers observers;
    private final List<Outgoing> messages = new ArrayList<>();
    /** How many of {@link #messages} are written; all of them once the batch went out before completion. */
    private int written;
    /** Whether the transaction may carry the sequencer's wake-up, carries it, and whether its write notified. */
    private final boolean mayCarry;
    private boolean carrying;
    private boolean notified;
    private boolean completing;

    private PendingMessages(TransactionSynchronizationRegistry transactions, AgroalDataSource dataSource,
            BusTable table, WrittenHint hint, BusObservers observers, boolean mayCarry) {
        this.mayCarry = mayCarry;
        this.transactions = transactions;
        this.dataSource = dataSource;
        this.table = table;
        this.hint = hint;
        this.observers = observers;
    }

    /**
     * The messages of the current transaction, registering for its completion on first use.
     *
     * @param hint woken once the transaction committed
     * @param observers told of each message once the transaction committed
     * @param mayCarry whether the INSERT may carry the wake-up ({@link WrittenHint#carry()}): not when the transaction
     *        may be prepared (XA), which PostgreSQL refuses for one that notified
     */
    static PendingMessages of(TransactionSynchronizationRegistry transactions, AgroalDataSource dataSource,
            BusTable table, WrittenHint hint, BusObservers observers, boolean mayCarry) {
        PendingMessages pending = (PendingMessages) transactions.getResource(KEY);
        if (pending == null) {
            pending = new PendingMessages(transactions, dataSource, table, hint, observers, mayCarry);
            transactions.putResource(KEY, pending);
            transactions.registerInterposedSynchronization(pending);
        }
        return pending;
    }

    /** Adds a message; written with the others before completion, or at once if they already were. */
    void add(Outgoing message) {
        messages.add(message);
        if (completing) {
            writePending("Writing a bus message sent while its transaction completes failed");
        }
    }

    @Override
    public void beforeCompletion() {
        if (transactions.getTransactionStatus() != Status.STATUS_ACTIVE) {
            return;
        }
        completing = true;
        writePending("Writing " + messages.size() + " bus message(s) before commit failed");
    }

    private void writePending(String failure) {
        List<Outgoing> unwritten = messages.subList(written, messages.size());
        // The first write of the transaction carries its wake-up, if any does: one goes out at the commit for all.
        boolean carries = written == 0 && mayCarry && hint.carry();
        carrying |= carries;
        try (Connection connection = dataSource.getConnection()) {
            notified |= insert(table, connection, unwritten, carries ? hint : null, false);
        } catch (SQLException e) {
            // The sender may be another synchronization that catches this: the transaction must not commit anyway.
            markRollbackOnly();
            throw new BusException(failure + ": " + e.getMessage() + "; the transaction rolls back", e);
        }
        written = messages.size();
    }

    private void markRollbackOnly() {
        try {
            transactions.setRollbackOnly();
        } catch (IllegalStateException e) {
            // Already completing or without a transaction: the exception thrown to the caller is all there is.
        }
    }

    @Override
    public void afterCompletion(int status) {
        if (carrying) {
            hint.carriedEnded();
        }
        // A rolled-back transaction took its rows with it: nothing to undo, nobody to wake.
        if (status == Status.STATUS_COMMITTED) {
            hint.request(notified);
            messages.forEach(message -> observers.sent(message.channel()));
        }
    }

    /**
     * Writes {@code messages} in one INSERT on {@code connection}, in its transaction if it has one; carrying the
     * sequencer's wake-up when {@code carrying} is given ({@link WrittenHint#carry()} said so); one message in a
     * statement that is a transaction of its own ({@code alone}) is numbered by that statement if it can
     * ({@link BusTable#insertOneNumbering()}; a batch is left to the sequencer).
     *
     * @param carrying told the wake-up's answer; null when the INSERT carries none
     * @param alone whether the connection is in autocommit: the INSERT commits by itself
     * @return whether the sequencer needs no wake-up after the commit: the INSERT notified, or numbered its messages
     */
    static boolean insert(BusTable table, Connection connection, List<Outgoing> messages, WrittenHint carrying,
            boolean alone) throws SQLException {
        if (messages.isEmpty()) {
            return false;
        }
        boolean carried = carrying != null;
        if (messages.size() == 1) {
            boolean numbering = carried && alone;
            try (PreparedStatement insert = connection.prepareStatement(numbering ? table.insertOneNumbering()
                    : carried ? table.insertOneWaking() : table.insertOne())) {
                insert.setString(1, messages.get(0).channel());
                insert.setString(2, messages.get(0).payload());
                insert.setString(3, messages.get(0).traceparent());
                insert.setString(4, messages.get(0).key());
                return execute(insert, table, carrying, numbering);
            }
        }
        String[] channels = new String[messages.size()];
        String[] payloads = new String[messages.size()];
        String[] traceparents = new String[messages.size()];
        String[] keys = new String[messages.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = messages.get(i).channel();
            payloads[i] = messages.get(i).payload();
            traceparents[i] = messages.get(i).traceparent();
            keys[i] = messages.get(i).key();
        }
        try (PreparedStatement insert = connection.prepareStatement(carried ? table.insertWaking() : table.insert())) {
            insert.setArray(1, connection.createArrayOf("text", channels));
            insert.setArray(2, connection.createArrayOf("text", payloads));
            insert.setArray(3, connection.createArrayOf("text", traceparents));
            insert.setArray(4, connection.createArrayOf("text", keys));
            return execute(insert, table, carrying, false);
        }
    }

    private static boolean execute(PreparedStatement insert, BusTable table, WrittenHint carrying, boolean numbering)
            throws SQLException {
        if (carrying == null) {
            insert.executeUpdate();
            return false;
        }
        insert.setString(5, table.writtenChannel());
        if (numbering) {
            insert.setString(6, table.headChannel());
            insert.setLong(7, carrying.knownHead());
        }
        long asked = System.nanoTime();
        try (ResultSet answer = insert.executeQuery()) {
            return numbering ? carrying.numberedOrAnswered(asked, answer) : carrying.answered(asked, answer);
        }
    }

    /** Why a send in a transaction of this status cannot be written, and what to do instead. */
    static String refusal(int status) {
        return switch (status) {
            case Status.STATUS_MARKED_ROLLBACK -> "is marked for rollback and will not commit";
            case Status.STATUS_ROLLING_BACK -> "is rolling back";
            case Status.STATUS_COMMITTING, Status.STATUS_PREPARING, Status.STATUS_PREPARED ->
                "is committing and can take no more writes; send before the commit (in the transaction, or from"
                        + " beforeCompletion), or after it (afterCompletion)";
            default -> "is in JTA status " + status + " and can take no writes";
        };
    }
}
