package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.BusListener;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkus.runtime.StartupEvent;

/**
 * The demo's durable consumer group with partitions, "tracking": each message of channel {@value #CHANNEL}, sent
 * with a parcel's id as its key, becomes a row of {@code parcel_events}, in the transaction the group's call runs in.
 * The group has four partitions (application.properties): the instances running it share them, and each parcel's
 * events stay in order.
 */
@Singleton
public class Tracking {

    public static final String CHANNEL = "parcels";

    @Inject
    AgroalDataSource dataSource;

    void createTable(@Observes StartupEvent started) {
        // No key on position: a message recorded twice would show as two rows; seq is the order of the commits.
        Ledger.createTable(dataSource, "parcel_events", "seq bigserial, parcel text, position bigint NOT NULL,"
                + " payload text NOT NULL, recorded_by bigint NOT NULL");
    }

    @BusListener(value = CHANNEL, group = "tracking")
    void record(String payload, BusMessage message) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO parcel_events (parcel, position,"
                        + " payload, recorded_by) VALUES (?, ?, ?, ?)")) {
            insert.setString(1, message.key());
            insert.setLong(2, message.position());
            insert.setString(3, payload);
            insert.setLong(4, ProcessHandle.current().pid());
            insert.executeUpdate();
        }
    }
}
