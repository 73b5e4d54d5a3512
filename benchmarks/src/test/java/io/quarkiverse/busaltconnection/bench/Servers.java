package io.quarkiverse.busaltconnection.bench;

import java.util.Map;
import java.util.Properties;

import org.postgresql.Driver;

/** The Dev Services servers of the run, from their configuration. */
record Servers(String host, int postgresPort, int pgbouncerPort, String database, String user, String password) {

    static Servers of(Map<String, String> devServices) {
        Properties pooled = Driver.parseURL(devServices.get("quarkus.datasource.jdbc.url"), null);
        return new Servers(devServices.get("quarkus.imdispatcher.db-host"),
                Integer.parseInt(devServices.get("quarkus.imdispatcher.db-port")),
                Integer.parseInt(pooled.getProperty("PGPORT")), pooled.getProperty("PGDBNAME"),
                devServices.get("quarkus.datasource.username"), devServices.get("quarkus.datasource.password"));
    }

    String directUrl() {
        return "jdbc:postgresql://" + host + ":" + postgresPort + "/" + database;
    }

    String pooledUrl() {
        return "jdbc:postgresql://" + host + ":" + pgbouncerPort + "/" + database + "?prepareThreshold=0";
    }
}
