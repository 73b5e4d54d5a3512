package io.quarkiverse.busaltconnection.bench;

import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalPropertiesReader;

/** An Agroal pool, as the extension's application has one: every send borrows a connection and gives it back. */
final class JdbcPool {

    private JdbcPool() {
    }

    static AgroalDataSource of(String url, Servers servers, int maxSize) throws SQLException {
        Map<String, String> pool = new HashMap<>();
        pool.put(AgroalPropertiesReader.JDBC_URL, url);
        pool.put(AgroalPropertiesReader.PRINCIPAL, servers.user());
        pool.put(AgroalPropertiesReader.CREDENTIAL, servers.password());
        pool.put(AgroalPropertiesReader.MAX_SIZE, String.valueOf(maxSize));
        pool.put(AgroalPropertiesReader.ACQUISITION_TIMEOUT_S, "30");
        return AgroalDataSource.from(new AgroalPropertiesReader().readProperties(pool));
    }
}
