package io.quarkiverse.busaltconnection.runtime.send;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.runtime.NotifyLimits;

/**
 * {@link Bus} over the default datasource, i.e. through PgBouncer. {@code pg_notify} with bind parameters: channel
 * and payload never become SQL text. The connection is the caller's transactional one when a transaction is active
 * (Agroal enlists it), so delivery follows the transaction's outcome.
 */
@ApplicationScoped
public class PooledBus implements Bus {

    private static final String NOTIFY = "SELECT pg_notify(?, ?)";

    private final AgroalDataSource dataSource;
    private final ObjectMapper objectMapper;

    @Inject
    public PooledBus(AgroalDataSource dataSource, ObjectMapper objectMapper) {
        this.dataSource = dataSource;
        this.objectMapper = objectMapper;
    }

    @Override
    public void send(String channel, String payload) {
        NotifyLimits.channelProblem(channel).ifPresent(problem -> {
            throw new IllegalArgumentException("Cannot send on the bus: " + problem);
        });
        NotifyLimits.payloadProblem(payload).ifPresent(problem -> {
            throw new IllegalArgumentException("Cannot send on channel '" + channel + "': " + problem);
        });
        try (Connection connection = dataSource.getConnection();
                PreparedStatement notify = connection.prepareStatement(NOTIFY)) {
            notify.setString(1, channel);
            notify.setString(2, payload);
            notify.execute();
        } catch (SQLException e) {
            throw new BusException("Sending on channel '" + channel + "' failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void send(String channel, Object payload) {
        if (payload instanceof String text) {
            send(channel, text);
            return;
        }
        String json;
        try {
            json = objectMapper.writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Cannot send on channel '" + channel + "': the payload of type "
                    + (payload == null ? "null" : payload.getClass().getName()) + " cannot be written as JSON: "
                    + e.getOriginalMessage(), e);
        }
        send(channel, json);
    }
}
