package io.quarkiverse.busaltconnection.runtime.pgbouncer;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.quarkiverse.busaltconnection.runtime.BusDataSource;
import io.quarkiverse.busaltconnection.runtime.config.DataSourceSettings;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnector;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

/**
 * Reads {@code SHOW POOLS} and {@code SHOW STATS} from PgBouncer's admin console every
 * {@code quarkus.imdispatcher.pgbouncer.interval}, when {@code quarkus.imdispatcher.pgbouncer.host} is set. The
 * console speaks only the simple query protocol and refuses startup parameters it does not track, so it is asked with
 * {@code query()} and with nothing but the client encoding and the application name. One connection is kept between
 * readings and made again after a failure: PgBouncer sees one client, and Vert.x registers the client meters of a
 * connection once, not at every reading.
 */
@Singleton
public class PgBouncerConsole {

    private static final Logger LOG = Logger.getLogger(PgBouncerConsole.class);

    private final Optional<PgConnectOptions> options;
    private final ImDispatcherConfig.PgBouncer config;
    private final List<Consumer<PoolStatistics>> readers = new CopyOnWriteArrayList<>();
    private volatile PoolStatistics last;
    private volatile String failure;
    private long timer = -1;
    private Vertx vertx;
    private DirectConnector connector;
    /** The console connection between readings; null until the first and after a failure. On the event loop. */
    private volatile PgConnection connection;
    private volatile boolean stopped;

    @Inject
    public PgBouncerConsole(ImDispatcherConfig imdispatcher, BusDataSource busDataSource) {
        this.config = imdispatcher.pgbouncer();
        DataSourceSettings dataSource = busDataSource.settings();
        this.options = config.host().map(host -> new PgConnectOptions()
                .setHost(host)
                .setPort(config.port())
                .setDatabase("pgbouncer")
                .setUser(config.user().or(dataSource::username).orElse(null))
                .setPassword(config.password().or(dataSource::password).orElse(null))
                .setSslMode(SslMode.PREFER)
                .setTrustAll(true)
                .setProperties(Map.of("client_encoding", "UTF8", "application_name", imdispatcher.applicationName()
                        + "-stats")));
    }

    void start(@Observes StartupEvent started, Vertx vertx) {
        if (options.isEmpty()) {
            return;
        }
        this.vertx = vertx;
        PgConnectOptions connect = options.get();
        this.connector = new DirectConnector(vertx, "pgbouncer-console", () -> Future.succeededFuture(connect));
        read();
        timer = vertx.setPeriodic(config.interval().toMillis(), id -> read());
    }

    /** When the application stops, before Vert.x does: a reading under way ends without a word. */
    void stop(@Observes ShutdownEvent stopping) {
        stopped = true;
        if (vertx != null && timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (connector != null) {
            // Closes the console connection too.
            connector.close();
        }
    }

    /** Whether the statistics are read at all. */
    public boolean enabled() {
        return options.isPresent();
    }

    /** The last reading, if one succeeded. */
    public Optional<PoolStatistics> last() {
        return Optional.ofNullable(last);
    }

    /** Why the last reading failed, while it does. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** {@code reader} gets each new reading, on an event loop. */
    public void onReading(Consumer<PoolStatistics> reader) {
        readers.add(reader);
    }

    private void read() {
        PgConnectOptions connect = options.get();
        connection()
                .compose(console -> console.query("SHOW POOLS").execute()
                        .compose(pools -> console.query("SHOW STATS").execute()
                                .map(stats -> new PoolStatistics(Instant.now(), pools(pools), stats(stats))))
                        .onFailure(broken -> drop(console)))
                .onSuccess(this::read)
                .onFailure(error -> {
                    if (stopped) {
                        return;
                    }
                    if (failure == null) {
                        LOG.warnf("Cannot read PgBouncer's statistics at %s:%d as %s: %s. Check"
                                + " quarkus.imdispatcher.pgbouncer.* (the user must be in PgBouncer's stats_users or"
                                + " admin_users)", connect.getHost(), connect.getPort(), connect.getUser(),
                                error.getMessage());
                    }
                    failure = "PgBouncer's statistics cannot be read: " + error.getMessage();
                });
    }

    private Future<PgConnection> connection() {
        PgConnection current = connection;
        if (current != null) {
            return Future.succeededFuture(current);
        }
        return connector.connect().onSuccess(connected -> {
            connection = connected;
            connected.closeHandler(closed -> {
                if (connection == connected) {
                    connection = null;
                }
            });
        });
    }

    private void drop(PgConnection console) {
        if (connection == console) {
            connection = null;
        }
        console.close();
    }

    private void read(PoolStatistics statistics) {
        if (failure != null) {
            LOG.infof("PgBouncer's statistics are read again");
        }
        failure = null;
        last = statistics;
        readers.forEach(reader -> reader.accept(statistics));
    }

    private static Map<PoolStatistics.Pool, Map<String, Double>> pools(RowSet<Row> rows) {
        Map<PoolStatistics.Pool, Map<String, Double>> pools = new HashMap<>();
        for (Row row : rows) {
            pools.put(new PoolStatistics.Pool(row.getString("database"), row.getString("user")), numbers(row));
        }
        return Map.copyOf(pools);
    }

    private static Map<String, Map<String, Double>> stats(RowSet<Row> rows) {
        Map<String, Map<String, Double>> stats = new HashMap<>();
        for (Row row : rows) {
            stats.put(row.getString("database"), numbers(row));
        }
        return Map.copyOf(stats);
    }

    private static Map<String, Double> numbers(Row row) {
        Map<String, Double> numbers = new HashMap<>();
        for (int i = 0; i < row.size(); i++) {
            Object value = row.getValue(i);
            if (value instanceof Number number) {
                numbers.put(row.getColumnName(i), number.doubleValue());
            } else if (value instanceof String text && text.matches("-?\\d+(\\.\\d+)?")) {
                numbers.put(row.getColumnName(i), Double.parseDouble(text));
            }
        }
        return Map.copyOf(numbers);
    }
}
