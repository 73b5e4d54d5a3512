package io.quarkiverse.busaltconnection.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.transaction.TransactionScoped;

import io.quarkiverse.busaltconnection.Bus;

/** A bean of one transaction that sends when the transaction's context ends and the bean is destroyed. */
@TransactionScoped
public class TransactionScopedSender {

    /** What each destruction's send did: "sent", or the exception it threw. */
    static final List<Object> OUTCOMES = new CopyOnWriteArrayList<>();

    @Inject
    Bus bus;

    private String payload;

    public void sendWhenDestroyed(String payload) {
        this.payload = payload;
    }

    @PreDestroy
    void destroyed() {
        if (payload == null) {
            return;
        }
        try {
            bus.send("greetings", payload);
            OUTCOMES.add("sent");
        } catch (RuntimeException e) {
            OUTCOMES.add(e);
        }
    }
}
