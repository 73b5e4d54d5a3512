package io.quarkiverse.busaltconnection.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import jakarta.inject.Inject;
import jakarta.transaction.RollbackException;
import jakarta.transaction.TransactionManager;

import org.junit.jupiter.api.Test;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.Bus;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;

/**
 * What {@code Bus.send} refuses, and how it takes part in the caller's transaction: a refused payload writes
 * nothing; a send in a transaction marked for rollback is refused; a write that fails just before commit rolls the
 * caller's own work back with it.
 */
@QuarkusTest
class BusSendContractTest {

    @Inject
    Bus bus;

    @Inject
    TransactionManager transactionManager;

    @Inject
    AgroalDataSource dataSource;

    /** Jackson cannot write it: its getter throws. */
    public static class Unwritable {
        public String getValue() {
            throw new IllegalStateException("no value");
        }
    }

    @Test
    void aNullPayloadIsRefusedSayingWhatToSend() throws SQLException {
        String channel = DeliveryTest.unique("null");
        IllegalArgumentException text = assertThrows(IllegalArgumentException.class,
                () -> bus.send(channel, (String) null));
        assertTrue(text.getMessage().contains("the payload is null; send an empty string"), text.getMessage());
        IllegalArgumentException object = assertThrows(IllegalArgumentException.class,
                () -> bus.send(channel, (Object) null));
        assertTrue(object.getMessage().contains("the payload is null"), object.getMessage());
        assertEquals(0, rowsOn(channel));
    }

    @Test
    void anUnwritableObjectIsRefusedNamingItsType() throws SQLException {
        String channel = DeliveryTest.unique("unwritable");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> bus.send(channel, new Unwritable()));
        assertTrue(error.getMessage().contains(Unwritable.class.getName()) && error.getMessage().contains("JSON"),
                error.getMessage());
        assertEquals(0, rowsOn(channel));
    }

    @Test
    void aTransactionMarkedForRollbackRefusesTheSend() throws Exception {
        String channel = DeliveryTest.unique("rollback-only");
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> QuarkusTransaction.requiringNew().run(() -> {
                    try {
                        transactionManager.setRollbackOnly();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    bus.send(channel, "never");
                }));
        assertTrue(error.getMessage().contains("marked for rollback and will not commit"), error.getMessage());
        assertEquals(0, rowsOn(channel));
    }

    @Test
    void aWriteThatFailsBeforeCommitRollsTheCallerBack() throws Exception {
        String channel = DeliveryTest.unique("refused");
        String table = "caller_work_" + Long.toHexString(System.nanoTime());
        try (Connection direct = DurableBusTest.direct(); Statement statement = direct.createStatement()) {
            statement.execute("CREATE TABLE " + table + " (note text)");
        }
        try (RefusedChannel refused = new RefusedChannel(channel)) {
            transactionManager.begin();
            try (Connection connection = dataSource.getConnection();
                    PreparedStatement work = connection.prepareStatement("INSERT INTO " + table + " VALUES (?)")) {
                work.setString(1, "the caller's own work");
                work.executeUpdate();
            }
            bus.send(channel, "refused at commit");
            assertThrows(RollbackException.class, transactionManager::commit);
            try (Connection connection = dataSource.getConnection();
                    Statement statement = connection.createStatement();
                    ResultSet count = statement.executeQuery("SELECT count(*) FROM " + table)) {
                count.next();
                assertEquals(0, count.getInt(1), "the caller's work committed without its message");
            }
            assertEquals(0, rowsOn(channel));
        } finally {
            try (Connection direct = DurableBusTest.direct(); Statement statement = direct.createStatement()) {
                statement.execute("DROP TABLE " + table);
            }
        }
    }

    static int rowsOn(String channel) throws SQLException {
        try (Connection direct = DurableBusTest.direct();
                PreparedStatement count = direct.prepareStatement("SELECT count(*) FROM imdispatcher_bus WHERE channel = ?")) {
            count.setString(1, channel);
            try (ResultSet result = count.executeQuery()) {
                result.next();
                return result.getInt(1);
            }
        }
    }
}
