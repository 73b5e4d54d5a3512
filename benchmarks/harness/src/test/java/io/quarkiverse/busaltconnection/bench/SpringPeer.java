package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;

import org.postgresql.jdbc.PgConnection;
import org.springframework.integration.jdbc.channel.PostgresChannelMessageTableSubscriber;
import org.springframework.integration.jdbc.channel.PostgresSubscribableChannel;
import org.springframework.integration.jdbc.store.JdbcChannelMessageStore;
import org.springframework.integration.jdbc.store.channel.PostgresChannelMessageStoreQueryProvider;
import org.springframework.messaging.support.MessageBuilder;

import io.agroal.api.AgroalDataSource;

/**
 * The peer: Spring Integration's {@code PostgresSubscribableChannel} as its documentation sets it up. Sends store the
 * message in a JDBC channel message store (an INSERT whose trigger calls pg_notify: row and NOTIFY in one
 * transaction) through PgBouncer, on a pool as large as the sender count so every sender borrows per send; a
 * {@code PostgresChannelMessageTableSubscriber} listens on a direct connection, during the peer's own runs only, and the
 * channel then polls the store.
 * Sending and receiving share this JVM, as the channel object is both ends.
 */
final class SpringPeer implements Contender, AutoCloseable {

    static final String LABEL = "Spring Integration";

    private final AgroalDataSource dataSource;
    private final JdbcChannelMessageStore store;
    private final Servers servers;

    SpringPeer(Servers servers, int poolSize) throws Exception {
        createSchema(servers);
        this.servers = servers;
        dataSource = JdbcPool.of(servers.pooledUrl(), servers, poolSize);
        store = new JdbcChannelMessageStore(dataSource);
        store.setChannelMessageStoreQueryProvider(new PostgresChannelMessageStoreQueryProvider());
        store.setCheckDatabaseOnStart(false);
        // What a Spring context would call: builds the row mapper and the statement setter.
        store.afterPropertiesSet();
    }

    @Override
    public String label() {
        return LABEL;
    }

    @Override
    public Delivery closed(String run, int senders, Duration duration) throws Exception {
        try (Listening channel = listen(run)) {
            Load.Result sent = Load.closed(run, senders, duration, 0, 100, channel::send);
            return new Delivery(sent, channel.receiver.await(sent.sent()));
        }
    }

    @Override
    public Delivery open(String run, int rate, Duration duration, int threads) throws Exception {
        try (Listening channel = listen(run)) {
            Load.Result sent = Load.open(run, rate, duration, threads, 100, channel::send);
            return new Delivery(sent, channel.receiver.await(sent.sent()));
        }
    }

    /**
     * The peer's listening side, for one run only: a backend that LISTENs is signalled by every notification of the
     * database, whatever its channel, so an idle peer left listening would slow the other systems' runs.
     */
    private Listening listen(String run) throws Exception {
        Receiver current = new Receiver(run);
        PostgresChannelMessageTableSubscriber subscriber = new PostgresChannelMessageTableSubscriber(
                () -> DriverManager.getConnection(servers.directUrl(), servers.user(), servers.password())
                        .unwrap(PgConnection.class));
        subscriber.start();
        PostgresSubscribableChannel channel = new PostgresSubscribableChannel(store, "bench", subscriber);
        channel.setBeanName("peer");
        channel.afterPropertiesSet();
        channel.subscribe(message -> current.record((String) message.getPayload()));
        return new Listening(subscriber, channel, current);
    }

    private record Listening(PostgresChannelMessageTableSubscriber subscriber, PostgresSubscribableChannel channel,
            Receiver receiver) implements AutoCloseable {

        void send(String payload) {
            if (!channel.send(MessageBuilder.withPayload(payload).build())) {
                throw new IllegalStateException("the channel refused the message");
            }
        }

        @Override
        public void close() {
            subscriber.stop();
        }
    }

    /** The peer's table and its notify trigger, which its schema script ships commented out. */
    private static void createSchema(Servers servers) throws Exception {
        try (Connection connection = DriverManager.getConnection(servers.directUrl(), servers.user(),
                servers.password()); Statement statement = connection.createStatement()) {
            statement.execute("CREATE SEQUENCE IF NOT EXISTS INT_MESSAGE_SEQ START WITH 1 INCREMENT BY 1 NO CYCLE");
            statement.execute("CREATE TABLE IF NOT EXISTS INT_CHANNEL_MESSAGE (MESSAGE_ID CHAR(36) NOT NULL,"
                    + " GROUP_KEY CHAR(36) NOT NULL, CREATED_DATE BIGINT NOT NULL, MESSAGE_PRIORITY BIGINT,"
                    + " MESSAGE_SEQUENCE BIGINT NOT NULL DEFAULT nextval('INT_MESSAGE_SEQ'), MESSAGE_BYTES BYTEA,"
                    + " REGION VARCHAR(100) NOT NULL, constraint INT_CHANNEL_MESSAGE_PK primary key (REGION, GROUP_KEY,"
                    + " CREATED_DATE, MESSAGE_SEQUENCE))");
            statement.execute("CREATE INDEX IF NOT EXISTS INT_CHANNEL_MSG_DELETE_IDX ON INT_CHANNEL_MESSAGE"
                    + " (REGION, GROUP_KEY, MESSAGE_ID)");
            statement.execute("CREATE OR REPLACE FUNCTION INT_CHANNEL_MESSAGE_NOTIFY_FCT() RETURNS TRIGGER AS $BODY$"
                    + " BEGIN PERFORM pg_notify('int_channel_message_notify', NEW.REGION || ' ' || NEW.GROUP_KEY);"
                    + " RETURN NEW; END; $BODY$ LANGUAGE PLPGSQL");
            statement.execute("DROP TRIGGER IF EXISTS INT_CHANNEL_MESSAGE_NOTIFY_TRG ON INT_CHANNEL_MESSAGE");
            statement.execute("CREATE TRIGGER INT_CHANNEL_MESSAGE_NOTIFY_TRG AFTER INSERT ON INT_CHANNEL_MESSAGE"
                    + " FOR EACH ROW EXECUTE PROCEDURE INT_CHANNEL_MESSAGE_NOTIFY_FCT()");
        }
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
