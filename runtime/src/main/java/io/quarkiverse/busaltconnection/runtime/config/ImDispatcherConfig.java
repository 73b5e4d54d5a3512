package io.quarkiverse.busaltconnection.runtime.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import io.quarkus.runtime.annotations.ConfigDocMapKey;
import io.quarkus.runtime.annotations.ConfigDocSection;
import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithDefaults;
import io.vertx.pgclient.SslMode;

/**
 * The direct path: where the one listening connection of each application instance (and the
 * {@code @BusDirect} reactive client) connects, bypassing the pooler.
 * <p>
 * Every connection setting left unset falls back to the bus's datasource's (the default datasource, or the one
 * {@code quarkus.imdispatcher.datasource} names): its JDBC URL, username, password and credentials provider. When the
 * datasource goes through PgBouncer, set at least {@code db-host} and {@code db-port} to PostgreSQL itself: a LISTEN
 * through a transaction pooler succeeds and then never delivers anything.
 */
@ConfigMapping(prefix = "quarkus.imdispatcher")
@ConfigRoot(phase = ConfigPhase.RUN_TIME)
public interface ImDispatcherConfig {

    /**
     * Host of the PostgreSQL server the listener connects to directly (not PgBouncer). The environment variable
     * `IMDISPATCHER_DB_HOST` of the Odoo module `bus_alt_connection` sets it too: like any environment variable it
     * overrides `application.properties`, and `QUARKUS_IMDISPATCHER_DB_HOST` wins over it.
     * <p>
     * Defaults to the host of the bus's datasource's JDBC URL (its first host if it lists several).
     */
    Optional<String> dbHost();

    /**
     * Port of the PostgreSQL server the listener connects to directly. The environment variable
     * `IMDISPATCHER_DB_PORT` sets it too: like any environment variable it overrides `application.properties`, and
     * `QUARKUS_IMDISPATCHER_DB_PORT` wins over it.
     * <p>
     * Defaults to the port of the bus's datasource's JDBC URL, or 5432.
     */
    OptionalInt dbPort();

    /**
     * Database to listen in. Notifications are per database: this must be the database the application sends to.
     * <p>
     * Defaults to the database of the bus's datasource's JDBC URL.
     */
    Optional<String> dbName();

    /**
     * User of the direct connections. Defaults to the bus's datasource's username, then to the `user` parameter of
     * its JDBC URL.
     */
    Optional<String> username();

    /**
     * Password of the direct connections. Defaults to the bus's datasource's password, then to the `password`
     * parameter of its JDBC URL. Never logged.
     */
    Optional<String> password();

    /**
     * Name of the credentials a `CredentialsProvider` gives the direct connections (a Vault path, say), as
     * `quarkus.datasource.credentials-provider` does for a datasource. It wins over `username` and `password`, and is
     * asked again before every reconnection, so rotated credentials are picked up. When neither this nor `username` /
     * `password` is set, the bus's datasource's credentials provider is used, if it has one.
     */
    Optional<String> credentialsProvider();

    /**
     * Bean name of the `CredentialsProvider` (`@Named`) when the application has several.
     */
    Optional<String> credentialsProviderName();

    /**
     * TLS mode of the direct connections, as PostgreSQL's `sslmode`. Defaults to the `sslmode` parameter of the bus's
     * datasource's JDBC URL; then, as pgjdbc, to `verify-full` when the URL says `ssl=true`; then to `verify-full`
     * when `tls-configuration-name` is set (to `require` if that configuration trusts all); else to `prefer` (TLS
     * when the server offers it). `allow`, `prefer` and `require` do not check the server's certificate. `verify-ca`
     * checks that a trusted CA signed it, `verify-full` also that it names the host connected to.
     */
    Optional<SslMode> sslMode();

    /**
     * Name of a TLS configuration of the Quarkus TLS registry (`quarkus.tls.<name>.*`) whose trust store verifies the
     * server (`verify-ca`, `verify-full`) and whose key store, if any, gives the client certificate. PEM, PKCS12 and
     * JKS files all work there (`quarkus.tls.<name>.trust-store.pem.certs=ca.crt`, say). Without one, `verify-ca`
     * and `verify-full` trust the CA file named by the JDBC URL's `sslrootcert` parameter, else the JVM's trusted
     * CAs. A name the registry does not know fails startup.
     */
    Optional<String> tlsConfigurationName();

    /**
     * `application_name` of the listening connection, as shown in `pg_stat_activity`: find the listener of every
     * instance with `SELECT * FROM pg_stat_activity WHERE application_name = 'imdispatcher'`. Connections of the
     * direct reactive client carry this name with `-client` appended.
     */
    @WithDefault("imdispatcher")
    String applicationName();

    /**
     * How long opening the direct connection may take. At startup, the application fails with a message naming
     * `db-host` and `db-port` when the listener cannot connect and LISTEN within this time.
     */
    @WithDefault("10s")
    Duration connectTimeout();

    /**
     * The self-probe: a notification sent through the datasource (the pooled path) must come back on the listening
     * connection. It catches a listener that hears nothing: one connected through a transaction pooler, to another
     * server or database, or gone deaf.
     */
    @ConfigDocSection
    Probe probe();

    interface Probe {

        /**
         * Whether to probe. At startup, a listener that does not receive the probe within `timeout` fails the
         * startup with a message naming `db-host` / `db-port`; afterwards, every `interval`, a probe that was sent but
         * not heard forces the listener to reconnect and turns the readiness check DOWN until a probe comes back. A
         * probe that cannot be sent through the datasource reconnects nothing: the readiness data names the datasource.
         */
        @WithDefault("true")
        boolean enabled();

        /**
         * How long a probe may take to come back.
         */
        @WithDefault("5s")
        Duration timeout();

        /**
         * How often to probe while the application runs, as a quarkus-scheduler `every` value; `off` or `disabled`
         * keeps only the startup probe, and so does `quarkus.scheduler.enabled=false`.
         */
        @WithDefault("30s")
        String interval();
    }

    /**
     * Reconnection of the listening connection after it is lost.
     */
    @ConfigDocSection
    Reconnect reconnect();

    /**
     * The reactive client of the direct path, injected with `@Inject @BusDirect Pool`.
     */
    @ConfigDocSection
    DirectClient client();

    /**
     * The bus table, which keeps every message for replay and for HTTP clients.
     */
    @ConfigDocSection
    BusStore bus();

    /**
     * HTTP delivery (long-poll and Server-Sent Events), enabled with `quarkus.imdispatcher.http.enabled`.
     */
    @ConfigDocSection
    Http http();

    /**
     * PgBouncer's pool statistics (`SHOW POOLS`, `SHOW STATS` on its admin console), read on an interval when `host`
     * is set: gauges named as prometheus-community's pgbouncer_exporter names them (with Micrometer), and the
     * readiness check's details. Dev Services set them.
     */
    @ConfigDocSection
    PgBouncer pgbouncer();

    interface PgBouncer {

        /**
         * Host of PgBouncer. Setting it turns the statistics on.
         */
        Optional<String> host();

        /**
         * Port of PgBouncer.
         */
        @WithDefault("6432")
        int port();

        /**
         * A user listed in PgBouncer's `stats_users` or `admin_users`. Defaults to the bus's datasource's username.
         */
        Optional<String> user();

        /**
         * Its password. Defaults to the bus's datasource's password. Never logged.
         */
        Optional<String> password();

        /**
         * How often the statistics are read.
         */
        @WithDefault("15s")
        Duration interval();
    }

    /**
     * The bus's Micrometer meters, registered when the application has Micrometer (`quarkus-micrometer`).
     */
    @ConfigDocSection
    Metrics metrics();

    /**
     * Durable consumer groups (`@BusListener(group = "<group>")`), by group name.
     */
    @ConfigDocSection
    @ConfigDocMapKey("group")
    @WithDefaults
    Map<String, ConsumerGroup> groups();

    /** The settings of the group named {@code group}: its own, or the defaults. */
    default ConsumerGroup group(String group) {
        return groups().get(group);
    }

    interface ConsumerGroup {

        /**
         * Where a group that has no stored position yet starts on a channel: `latest`, with the messages committed
         * from then on, or `earliest`, with the oldest message retention kept.
         */
        @WithDefault("latest")
        GroupStart start();

        /**
         * What happens to a message whose calls failed `retry.max-attempts` times: `dead-letter` sends it to the
         * dead-letter channel and goes on; `stop` halts the group on it (readiness DOWN, naming group, channel and
         * position) until the application restarts; `skip` logs a WARN, counts it, and goes on.
         */
        @WithDefault("dead-letter")
        GroupFailure failure();

        /**
         * The channel failed messages go to with `failure=dead-letter`: by default the listener's channel followed by
         * `-dlq`.
         */
        Optional<String> deadLetterChannel();

        /**
         * A group whose position has not moved for this long (no instance runs it any more, say) stops holding
         * retention back.
         */
        @WithDefault("7d")
        Duration expireAfter();

        /**
         * How many partitions the group has on each of its channels. A message sent with a key
         * (`Bus.send(channel, key, payload)`) is in partition `hashtext(key) & 0x7fffffff` modulo this number,
         * a message without a key in partition 0. Partitions are delivered apart, each by one instance of the fleet
         * at a time, in order within each; the instances running the group share them. 1: total order, one
         * instance delivers.
         */
        @WithDefault("1")
        int partitions();

        /**
         * How long a member's listening connection may run nothing while it owns partitions before another member
         * ends that connection (`pg_terminate_backend`, allowed between backends of the same user) and takes them
         * over: its JVM is frozen (a long GC pause, SIGSTOP). A live member runs a statement on it at every sweep, so
         * at least three sweep intervals count.
         */
        @WithDefault("10s")
        Duration stallTimeout();

        /**
         * Readiness is DOWN while a partition this instance owns has work waiting and its position has not moved
         * for this long (a call that hangs, retries that go on): the group is stuck.
         */
        @WithDefault("5m")
        Duration stuckAfter();

        /**
         * Retries of a failed call. The group waits meanwhile: the next message is not delivered before this one
         * succeeded or was given up, so order holds.
         */
        GroupRetry retry();
    }

    interface GroupRetry {

        /** Calls of one message before it is given up (the first call included). */
        @WithDefault("5")
        int maxAttempts();

        /** The wait before the first retry; each further wait doubles, with a random part of +/-50%. */
        @WithDefault("1s")
        Duration initialDelay();

        /** The longest wait between two calls. */
        @WithDefault("60s")
        Duration maxDelay();
    }

    enum GroupStart {
        /** From the messages committed after the group first ran. */
        LATEST,
        /** From the oldest message the table still holds on the channel. */
        EARLIEST
    }

    enum GroupFailure {
        /** The message goes to the dead-letter channel; the group goes on. */
        DEAD_LETTER,
        /** The group stops on the message. */
        STOP,
        /** The message is skipped with a WARN; the group goes on. */
        SKIP
    }

    interface Metrics {

        /**
         * Whether the message meters carry a `channel` tag. Turn it off when channel names are made up at run time
         * and even `max-channel-tags` series per meter are too many.
         */
        @WithDefault("true")
        boolean channelTag();

        /**
         * Most distinct channel names the `channel` tag takes; messages of further channels are counted under
         * `other`, so that channels named at run time cannot multiply the time series without bound.
         */
        @WithDefault("100")
        int maxChannelTags();
    }

    interface Http {

        /**
         * How long a long-poll request waits for a message before it returns an empty list (Odoo's default).
         */
        @WithDefault("50s")
        Duration pollTimeout();

        /**
         * Channels any HTTP client may read, used by the default `BusChannelAuthorizer`. Channels not listed are
         * refused with 403 unless the application provides its own `BusChannelAuthorizer` bean.
         */
        Optional<List<String>> publicChannels();

        /**
         * Most channels one request may ask for; more is a 400.
         */
        @WithDefault("50")
        int maxChannels();

        /**
         * Longest channel name a request may ask for, in characters; longer is a 400.
         */
        @WithDefault("1000")
        int maxChannelLength();

        /**
         * Most messages in one long-poll answer or one backlog read; a client asks again from its cursor. Also the most
         * live messages held for one client while its backlog is read: beyond that its stream ends (SSE) or it is
         * answered at once (long-poll), and it resumes from its cursor.
         */
        @WithDefault("500")
        int maxMessages();

        /**
         * Interval of the comments that keep an idle Server-Sent Events stream open through proxies.
         */
        @WithDefault("20s")
        Duration sseKeepAlive();

        /**
         * Most HTTP clients (SSE streams and waiting long-polls) this instance follows at once; each holds up to
         * `max-messages` live messages while it catches up. Beyond it a long-poll is answered 503 with `Retry-After`,
         * and an SSE request gets a stream that ends at once asking the EventSource to come back after `busy-retry`
         * (`retry:`): a browser's EventSource gives up for good after an answer other than 200.
         */
        @WithDefault("10000")
        int maxClients();

        /**
         * Most clients reading their backlog from the bus table at once, through the application's datasource (and so
         * its connection pool). Beyond it a client behind the head is turned away as beyond `max-clients`: a storm of
         * reconnections after a deploy cannot take the pool the application shares. A client whose cursor is at the
         * head this instance has read goes live without reading anything.
         */
        @WithDefault("4")
        int maxBacklogReads();

        /** How long a client turned away is asked to wait before it comes back: `Retry-After`, and SSE's `retry:`. */
        @WithDefault("2s")
        Duration busyRetry();
    }

    interface BusStore {

        /**
         * Name of the bus table: 1 to 50 letters, digits or underscores, starting with a letter or underscore. Its
         * companions are named after it (TABLE standing for this name): the sequence `TABLE_id_seq`, the tables
         * `TABLE_state` (epoch and head) and `TABLE_purged` (what retention deleted), indexes `TABLE_*_idx`; its
         * wake-up notifications use the PostgreSQL channels `TABLE` (rows written) and `TABLE_head` (positions handed
         * out), the self-probe `TABLE_probe`.
         */
        @WithDefault("imdispatcher_bus")
        String table();

        /**
         * Schema of the bus table and its companions. By default the bus asks its datasource once at startup: the
         * schema in which the datasource's `search_path` finds the table, or, for a table still to be created, the
         * first schema of that `search_path` (`current_schema()`). Every statement then names the table with its
         * schema, on the pooled and on the direct path alike. Set it when the datasource cannot be asked at startup, or
         * to pin it: a `currentSchema` in the JDBC URL reaches PostgreSQL as a startup parameter, which PgBouncer 1.18
         * refuses, or drops when it is in `ignore_startup_parameters`.
         */
        Optional<String> schema();

        /**
         * `create`: create the table and its companions at startup if they are missing, or upgrade a table of an
         * earlier version (under an advisory lock on the direct connection, so that instances starting together do not
         * collide; nothing is locked when the schema is current). `none`: leave it to your migrations, with the SQL
         * given in the documentation.
         */
        @WithDefault("create")
        SchemaManagement schemaManagement();

        /**
         * How long messages stay in the table at least. It bounds how long a listener may be disconnected and still
         * receive everything, and how far back HTTP clients can resume. Retention empties whole slots of the table
         * (`TRUNCATE`), so a message goes between this and this plus a rotation period (a third of it plus two
         * `cleanup-interval`, at least a minute) plus a `cleanup-interval`.
         */
        @WithDefault("1h")
        Duration retention();

        /**
         * How long messages a durable consumer group has not passed yet are kept, beyond `retention`: retention waits
         * for the groups up to this age; past it the messages go, and the group reports the range it lost (ERROR,
         * readiness details).
         */
        @WithDefault("7d")
        Duration retentionMax();

        /**
         * How often retention runs, as a quarkus-scheduler `every` value: it empties the slots whose messages all
         * expired and moves the senders on to the next slot; `off` or `disabled` disables it. Several instances may
         * run it at once.
         */
        @WithDefault("5m")
        String cleanupInterval();

        /**
         * Most messages one `@BusListener` holds in memory at once: it reads a page of this many from the table,
         * delivers them one by one, then reads the next. A slow listener falls behind and catches up from the table;
         * its memory does not grow with the backlog. A group's partition reads its next page while it delivers one,
         * and so holds up to twice this many.
         */
        @WithDefault("100")
        int listenerPageSize();

        /**
         * Payload bytes after which a page ends early (a page always holds at least one message, whatever its
         * size). With `listener-page-size` it bounds the memory of each listener, and of the instance's feed of HTTP
         * clients.
         */
        @WithDefault("1M")
        MemorySize listenerPageBytes();

        /**
         * How often each instance looks at the bus without being woken: the sequencer numbers rows whose wake-up
         * was lost (a sender that stopped between its commit and its wake-up), an instance that is not the
         * sequencer tries to become it (so another takes over within this interval when the sequencer's connection
         * ends), and readers catch up with a head whose wake-up they missed.
         */
        @WithDefault("1s")
        Duration sweepInterval();

        /**
         * How long the head may stand still while committed messages wait for a position before the other instances
         * end the sequencer's connection (`pg_terminate_backend`, allowed between backends of the same user) so that
         * one of them takes over: a sequencer whose instance is wedged but whose connection is alive would otherwise
         * hold up delivery everywhere.
         */
        @WithDefault("10s")
        Duration sequencerStallTimeout();

        /**
         * The longest the sequencer lets messages gather before a run while they come fast: when 16 would come within
         * this time (400 a second and more with the default), the next run waits until about 16 have, so that they
         * share one run's transaction id and commit flush, and delivery waits up to this long. `0` turns it off: every
         * run as soon as it can, a lower latency at high rates for more transaction ids and flushes. At most `400ms`.
         */
        @WithDefault("40ms")
        Duration sequencerLinger();

        /**
         * Readiness is DOWN while a committed message has waited longer than this for its position: no instance
         * sequences the bus (none with `@BusListener` methods or HTTP delivery runs), or the sequencer cannot write.
         * Checked through the datasource, also by instances that only send.
         */
        @WithDefault("30s")
        Duration unnumberedTimeout();

        /** Schema management of the bus table. */
        enum SchemaManagement {
            /** Create the table, sequence and index at startup when missing. */
            CREATE,
            /** Leave the schema to the application's migrations. */
            NONE
        }
    }

    interface Reconnect {

        /**
         * Delay before the first reconnection attempt. Each further attempt doubles it, up to `max-delay`, with
         * random jitter so that many instances do not reconnect in lockstep. Attempts never stop while the
         * application runs.
         */
        @WithDefault("200ms")
        Duration initialDelay();

        /**
         * Longest delay between two reconnection attempts.
         */
        @WithDefault("10s")
        Duration maxDelay();
    }

    interface DirectClient {

        /**
         * Most connections the direct reactive client opens. They bypass the pooler, so keep this small: the
         * client is for session work (session advisory locks, migrations), not for ordinary queries. Connections
         * are opened only when the client is used.
         */
        @WithDefault("2")
        int maxSize();

        /**
         * How long an unused connection of the direct client stays open.
         */
        @WithDefault("1m")
        Duration idleTimeout();
    }
}
