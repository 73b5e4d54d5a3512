package io.quarkiverse.busaltconnection.runtime.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;

/**
 * The application's {@link BusTable}, in the schema the senders write it in. Senders write through the bus's datasource
 * (PgBouncer), the sequencer and the readers use direct connections, and the two may see different search paths: a
 * role setting applies to both, but a {@code currentSchema} in the JDBC URL only to the datasource (if PgBouncer
 * passes it on at all). So the schema is {@code quarkus.imdispatcher.bus.schema}, or else asked once of the datasource,
 * and every statement on both paths names it.
 */
@Singleton
public class BusTableProducer {

    private static final Logger LOG = Logger.getLogger(BusTableProducer.class);

    /** Where the datasource's search path finds the table; for a table still to be created, its first schema. */
    static final String SCHEMA_OF_TABLE = "SELECT coalesce((SELECT n.nspname FROM pg_class c JOIN pg_namespace n"
            + " ON n.oid = c.relnamespace WHERE c.oid = to_regclass(?)), current_schema())";

    @Produces
    @Singleton
    BusTable busTable(ImDispatcherConfig config, BusDataSource dataSource) {
        String table = config.bus().table();
        String schema = config.bus().schema().orElseGet(() -> schemaOf(table, dataSource));
        BusTable busTable = new BusTable(schema, table);
        LOG.debugf("The bus table is %s", busTable.describe());
        return busTable;
    }

    private static String schemaOf(String table, BusDataSource dataSource) {
        String key = dataSource.settings().jdbcUrlKey();
        try (Connection connection = dataSource.get().getConnection();
                PreparedStatement query = connection.prepareStatement(SCHEMA_OF_TABLE)) {
            // The name as a quoted identifier: to_regclass would fold an unquoted one to lower case.
            query.setString(1, '"' + table + '"');
            try (ResultSet result = query.executeQuery()) {
                result.next();
                String schema = result.getString(1);
                if (schema == null) {
                    throw new IllegalStateException("Bus Alt Connection cannot place its table '" + table + "': the"
                            + " search_path of the datasource (" + key + ") names no schema that exists. Create the"
                            + " schema, fix the search_path, or set quarkus.imdispatcher.bus.schema");
                }
                return schema;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Bus Alt Connection cannot ask its datasource (" + key + ") which schema"
                    + " holds its table '" + table + "': " + e.getMessage() + ". Check the datasource (the pooled"
                    + " path, through PgBouncer), or set quarkus.imdispatcher.bus.schema", e);
        }
    }
}
