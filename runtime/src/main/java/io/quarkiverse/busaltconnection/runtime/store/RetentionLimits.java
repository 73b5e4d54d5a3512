package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;

/**
 * What retention keeps, as the parameters 1 to 5 of its statements ({@link BusTable#deleteOlderThan()},
 * {@link BusTable#slotExpiry}): messages numbered within {@code age}, and those a durable consumer group has not passed,
 * up to {@code quarkus.imdispatcher.bus.retention-max}, unless the group has not moved for its expiry.
 */
public record RetentionLimits(Duration age, Duration held, String[] groups, Long[] expiries, long defaultExpirySeconds) {

    public static RetentionLimits of(ImDispatcherConfig config, Duration age) {
        // Groups configured with an expiry of their own; any other group has the default one.
        List<Map.Entry<String, ImDispatcherConfig.ConsumerGroup>> configured = List.copyOf(config.groups().entrySet());
        return new RetentionLimits(age, config.bus().retentionMax(),
                configured.stream().map(Map.Entry::getKey).toArray(String[]::new),
                configured.stream().map(group -> group.getValue().expireAfter().toSeconds()).toArray(Long[]::new),
                config.group("").expireAfter().toSeconds());
    }

    /** Sets parameters 1 to 5 of {@code statement}. */
    void bind(Connection connection, PreparedStatement statement) throws SQLException {
        statement.setDouble(1, seconds(age));
        statement.setDouble(2, seconds(held));
        statement.setArray(3, connection.createArrayOf("text", groups));
        statement.setArray(4, connection.createArrayOf("bigint", expiries));
        statement.setLong(5, defaultExpirySeconds);
    }

    static double seconds(Duration duration) {
        return duration.getSeconds() + duration.getNano() / 1e9;
    }
}
