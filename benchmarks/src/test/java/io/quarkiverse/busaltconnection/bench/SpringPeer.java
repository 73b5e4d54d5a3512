package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import org.postgresql.jdbc.PgConnection;
import org.springframework.integration.jdbc.channel.PostgresChannelMessageTableSubscriber;
import org.springframework.integration.jdbc.channel.PostgresSubscribableChannel;
import org.springframework.integration.jdbc.store.JdbcChannelMessageStore;
import org.springframework.integration.jdbc.store.channel.PostgresChannelMessageStoreQueryProvider;
import org.springframework.messaging.support.MessageBuilder;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalPropertiesReader;

/**
 * The peer: Spring Integration's {@code PostgresSubscribableChannel}, a JDBC channel message store written through
 * PgBouncer and a {@code PostgresChannelMessageTableSubscriber} listening on a direct connection, as its documentation
 * sets it up.
 */
final class SpringPeer implements AutoCloseable {

    private final AgroalDataSource dataSource;
    private final PostgresChannelMessageTableSubscriber subscriber;
    private final PostgresSubscribableChannel channel;
    private volatile Receiver receiver = new Receiver();

    SpringPeer(Servers servers) throws Exception {
        createSchema(servers);
        java.util.Map<String, String> pool = new java.util.HashMap<>();
        pool.put(AgroalPropertiesReader.JDBC_URL, servers.pooledUrl());
        pool.put(AgroalPropertiesReader.PRINCIPAL, servers.user());
        pool.put(AgroalPropertiesReader.CREDENTIAL, servers.password());
        pool.put(AgroalPropertiesReader.MAX_SIZE, "20");
        dataSource = AgroalDataSource.from(new AgroalPropertiesReader().readProperties(pool));
        JdbcChannelMessageStore store = new JdbcChannelMessageStore(dataSource);
        store.setChannelMessageStoreQueryProvider(new PostgresChannelMessageStoreQueryProvider());
        store.setCheckDatabaseOnStart(false);
        // What a Spring context would call: builds the row mapper and the statement setter.
        store.afterPropertiesSet();
        subscriber = new PostgresChannelMessageTableSubscriber(() -> DriverManager.getConnection(servers.directUrl(),
                servers.user(), servers.password()).unwrap(PgConnection.class));
        subscriber.start();
        channel = new PostgresSubscribableChannel(store, "bench", subscriber);
        channel.setBeanName("peer");
        channel.afterPropertiesSet();
        channel.subscribe(message -> receiver.record((String) message.getPayload()));
    }

    Receiver run(String run, int count, int rate) throws Exception {
        receiver = new Receiver();
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if (rate > 0) {
                long wait = start + (long) (i * 1e9 / rate) - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            channel.send(MessageBuilder.withPayload(run + ":" + i + ":" + Latencies.nowMicros()).build());
        }
        receiver.await(count, Duration.ofMinutes(2).toMillis());
        return receiver;
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
        subscriber.stop();
        dataSource.close();
    }
}
