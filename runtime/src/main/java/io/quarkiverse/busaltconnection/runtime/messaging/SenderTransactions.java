package io.quarkiverse.busaltconnection.runtime.messaging;

import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Destroyed;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Status;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;
import jakarta.transaction.TransactionScoped;

import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.spi.Connector;

import io.smallrye.mutiny.Multi;
import io.smallrye.reactive.messaging.SubscriberDecorator;

/**
 * Writes messages of the connector's outgoing channels in their sender's transaction, on the sender's thread. A
 * message reaches the connector on the thread that sent it, but with that thread's contexts replaced by those of the
 * subscription (Mutiny's context propagation, then Quarkus Messaging's own clearing for connectors): the sender's JTA
 * transaction is suspended there. So this bean remembers, per thread, the transactions begun on it and not yet ended,
 * and, closest to the sender in the channel's pipeline, hands the message to the channel with the sender's
 * transaction resumed for the time of the write.
 */
@ApplicationScoped
public class SenderTransactions implements SubscriberDecorator {

    /** The transactions begun on this thread and not ended, the latest first. */
    private static final ThreadLocal<ArrayDeque<Transaction>> BEGUN = ThreadLocal.withInitial(ArrayDeque::new);

    @Inject
    @Connector(BusConnector.NAME)
    BusConnector connector;

    @Inject
    TransactionManager transactionManager;

    void began(@Observes @Initialized(TransactionScoped.class) Object transaction) throws SystemException {
        Transaction begun = transactionManager.getTransaction();
        if (begun != null) {
            BEGUN.get().push(begun);
        }
    }

    void ended(@Observes @Destroyed(TransactionScoped.class) Object transaction) {
        ArrayDeque<Transaction> begun = BEGUN.get();
        // The ended one, and any that ended without telling this thread (completed elsewhere).
        begun.removeIf(SenderTransactions::over);
    }

    @Override
    public Multi<? extends Message<?>> decorate(Multi<? extends Message<?>> toBeSubscribed, List<String> channelName,
            boolean isConnector) {
        if (!isConnector || channelName.size() != 1 || !BusConnector.NAME.equals(ConfigProvider.getConfig()
                .getOptionalValue("mp.messaging.outgoing." + channelName.get(0) + ".connector", String.class)
                .orElse(null))) {
            return toBeSubscribed;
        }
        String name = channelName.get(0);
        return toBeSubscribed.map(message -> inSenderTransaction(message,
                sent -> connector.outgoing(name).inSenderTransaction(sent)));
    }

    /** Runs {@code write} with the sender's transaction (if any) associated with this thread, as when it was sent. */
    private Message<?> inSenderTransaction(Message<?> message, Function<Message<?>, Message<?>> write) {
        try {
            Transaction sender = BEGUN.get().peek();
            if (sender == null || over(sender) || transactionManager.getTransaction() != null) {
                return write.apply(message);
            }
            transactionManager.resume(sender);
            try {
                return write.apply(message);
            } finally {
                transactionManager.suspend();
            }
        } catch (Exception e) {
            return OutgoingChannel.refused(message, e);
        }
    }

    private static boolean over(Transaction transaction) {
        try {
            int status = transaction.getStatus();
            return status != Status.STATUS_ACTIVE && status != Status.STATUS_MARKED_ROLLBACK;
        } catch (SystemException e) {
            return true;
        }
    }

    @Override
    public int getPriority() {
        // Before Quarkus Messaging's clearing of contexts for connectors (-100): closest to the sender.
        return -1000;
    }
}
