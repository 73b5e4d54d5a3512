package io.quarkiverse.busaltconnection.bench;

/** Where a {@link Stack}'s servers listen, and who connects. */
record Servers(String host, int postgresPort, int pgbouncerPort, String database, String user, String password) {

    /** PostgreSQL itself: the listeners' path. */
    String directUrl() {
        return "jdbc:postgresql://" + host + ":" + postgresPort + "/" + database;
    }

    /**
     * Through PgBouncer: every sender's path. {@code prepareThreshold=0}: PgBouncer 1.18 in transaction mode cannot
     * keep pgjdbc's named server-side statements (the extension sets the same default on its datasource).
     */
    String pooledUrl() {
        return "jdbc:postgresql://" + host + ":" + pgbouncerPort + "/" + database + "?prepareThreshold=0";
    }
}
