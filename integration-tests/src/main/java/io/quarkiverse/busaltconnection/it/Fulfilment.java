package io.quarkiverse.busaltconnection.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Outgoing;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.messaging.IncomingBusMetadata;
import io.quarkiverse.busaltconnection.messaging.OutgoingBusMetadata;
import io.quarkus.runtime.StartupEvent;

/**
 * The demo's Quarkus Messaging application, on the bus through the {@code bus-alt-connection} connector (see
 * application.properties): orders are sent with an {@code Emitter} in the caller's transaction; the group
 * "fulfilment" records each once, in its own transaction, which also moves the group's position; a processor turns
 * each order into an audit line on another bus channel, which a broadcast channel receives. An order whose item is
 * "poison" fails every time and ends on the dead-letter channel.
 */
@ApplicationScoped
public class Fulfilment {

    @Inject
    AgroalDataSource dataSource;

    @Inject
    @Channel("orders-out")
    Emitter<Order> orders;

    @Inject
    @Channel("bulk-out")
    Emitter<String> bulk;

    @Inject
    @Channel("untraced-out")
    Emitter<String> untraced;

    /**
     * Sends {@code count} messages on the channel with room for two waiting ones, outside a transaction, without
     * waiting for each; returns how many were acknowledged and how many were not, once all were one or the other.
     */
    public int[] sendBulk(String prefix, int count) {
        AtomicInteger acked = new AtomicInteger();
        AtomicInteger nacked = new AtomicInteger();
        List<CompletableFuture<Void>> outcomes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            CompletableFuture<Void> outcome = new CompletableFuture<>();
            outcomes.add(outcome);
            bulk.send(Message.of(prefix + ":" + i, () -> {
                acked.incrementAndGet();
                outcome.complete(null);
                return CompletableFuture.completedFuture(null);
            }, failure -> {
                nacked.incrementAndGet();
                outcome.complete(null);
                return CompletableFuture.completedFuture(null);
            }));
        }
        outcomes.forEach(CompletableFuture::join);
        return new int[] { acked.get(), nacked.get() };
    }

    /**
     * Sends {@code line} outside a transaction on the bulk channel, or on one whose tracing is disabled; returns once
     * it is written.
     */
    public void sendOne(String line, boolean traced) {
        (traced ? bulk : untraced).send(line).toCompletableFuture().join();
    }

    /** The audit lines received, with their metadata, as "line@channel#position". */
    private final List<String> audited = new CopyOnWriteArrayList<>();

    void createTable(@Observes StartupEvent started) {
        // No key on order_id: an order recorded twice would show as two rows. seq: the order rows were written in.
        // recorded_in: the transaction that wrote the row, which also moved the group's position.
        Ledger.createTable(dataSource, "fulfilled_orders", "seq bigserial, order_id bigint NOT NULL, item text NOT"
                + " NULL, recorded_in text NOT NULL DEFAULT pg_current_xact_id()::xid::text");
    }

    /** Sends {@code order} in a transaction that commits, or rolls back after the send when {@code rollBack}. */
    @Transactional
    public void place(Order order, boolean rollBack) {
        orders.send(Message.of(order).addMetadata(OutgoingBusMetadata.key(order.item())));
        if (rollBack) {
            throw new IllegalStateException("the order is withdrawn");
        }
    }

    @Incoming("orders-in")
    @Transactional
    void fulfil(Order order) throws SQLException {
        if ("poison".equals(order.item())) {
            throw new IllegalArgumentException("order " + order.id() + " cannot be fulfilled");
        }
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO fulfilled_orders (order_id, item) VALUES (?, ?)")) {
            insert.setLong(1, order.id());
            insert.setString(2, order.item());
            insert.executeUpdate();
        }
    }

    @Incoming("orders-audit")
    @Outgoing("audit-out")
    String audit(Order order) {
        return "order " + order.id() + " of " + order.item();
    }

    /** Refuses the audit line of a "poison" order: audit-in's failure-strategy is ignore, so later lines go on. */
    @Incoming("audit-in")
    CompletionStage<Void> audited(Message<String> line) {
        if (line.getPayload().endsWith(" of poison")) {
            return line.nack(new IllegalArgumentException("a poison order is not audited"));
        }
        IncomingBusMetadata metadata = line.getMetadata(IncomingBusMetadata.class).orElseThrow();
        audited.add(line.getPayload() + "@" + metadata.channel() + "#" + metadata.position());
        return line.ack();
    }

    public List<String> audited() {
        return List.copyOf(audited);
    }
}
