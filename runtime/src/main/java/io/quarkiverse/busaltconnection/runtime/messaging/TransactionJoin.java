package io.quarkiverse.busaltconnection.runtime.messaging;

import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionScoped;
import jakarta.transaction.TransactionSynchronizationRegistry;

import io.quarkiverse.busaltconnection.runtime.dispatch.GroupDelivery;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Lets the application's transaction move a group's position: a Quarkus Messaging method runs on a worker thread of
 * its own, in the message's context, where its {@code @Transactional} transaction begins. The first transaction begun
 * in that context takes the message's {@link GroupDelivery} and moves the position just before it commits, so the
 * method's writes through the datasource and the move commit together, or neither does. A transaction that finds the
 * position moved by another instance rolls back.
 */
@Singleton
public class TransactionJoin {

    /** The context-local key of a grouped message's delivery, until a transaction takes it. */
    static final String DELIVERY = TransactionJoin.class.getName() + ".delivery";

    @Inject
    TransactionSynchronizationRegistry transactions;

    void began(@Observes @Initialized(TransactionScoped.class) Object transaction) {
        Context context = Vertx.currentContext();
        if (context == null || !VertxContext.isDuplicatedContext(context)
                || !(context.getLocal(DELIVERY) instanceof GroupDelivery delivery)) {
            return;
        }
        context.removeLocal(DELIVERY);
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
                if (transactions.getTransactionStatus() == Status.STATUS_ACTIVE) {
                    // Throws when another instance moved it: the transaction rolls back.
                    delivery.moveInCurrentTransaction();
                }
            }

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    delivery.committed();
                }
            }
        });
    }
}
