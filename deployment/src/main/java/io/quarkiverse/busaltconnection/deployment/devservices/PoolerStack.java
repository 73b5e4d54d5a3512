package io.quarkiverse.busaltconnection.deployment.devservices;

import io.quarkus.deployment.builditem.Startable;

/**
 * A PostgreSQL with a PgBouncer in front of it, as the application reaches them from the host.
 */
interface PoolerStack extends Startable {

    String host();

    int postgresPort();

    int pgbouncerPort();
}
