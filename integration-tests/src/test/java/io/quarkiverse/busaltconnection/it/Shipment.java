package io.quarkiverse.busaltconnection.it;

import jakarta.enterprise.inject.spi.CDI;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.PostPersist;
import jakarta.persistence.PreUpdate;

import io.quarkiverse.busaltconnection.Bus;

/**
 * An entity that publishes its own domain events from JPA callbacks, as applications do: Hibernate ORM runs them
 * when it flushes, which for a transaction's last changes is as the transaction completes.
 */
@Entity
public class Shipment {

    @Id
    @GeneratedValue
    public Long id;

    /** What the events carry, to tell the test's shipments apart. */
    public String label;

    public String status = "new";

    @PostPersist
    void persisted() {
        CDI.current().select(Bus.class).get().send("greetings", "persisted:" + label);
    }

    @PreUpdate
    void updating() {
        CDI.current().select(Bus.class).get().send("greetings", "updated:" + label + ":" + status);
    }
}
