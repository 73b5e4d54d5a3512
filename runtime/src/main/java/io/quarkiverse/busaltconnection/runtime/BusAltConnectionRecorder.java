package io.quarkiverse.busaltconnection.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusDirect;
import io.quarkiverse.busaltconnection.runtime.config.ChannelExpressions;
import io.quarkiverse.busaltconnection.runtime.config.DataSourceSettings;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusEngine;
import io.quarkiverse.busaltconnection.runtime.dispatch.BusListeners;
import io.quarkiverse.busaltconnection.runtime.dispatch.ListenerMethod;
import io.quarkiverse.busaltconnection.runtime.http.LongPollHandler;
import io.quarkiverse.busaltconnection.runtime.http.SseHandler;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnectOptions;
import io.quarkiverse.busaltconnection.runtime.listen.DirectConnector;
import io.quarkiverse.busaltconnection.runtime.listen.DirectCredentials;
import io.quarkiverse.busaltconnection.runtime.listen.ListenerConnection;
import io.quarkiverse.busaltconnection.runtime.messaging.IncomingChannels;
import io.quarkiverse.busaltconnection.runtime.observe.BusObservers;
import io.quarkiverse.busaltconnection.runtime.sequence.Sequencer;
import io.quarkiverse.busaltconnection.runtime.sequence.SequencerActivity;
import io.quarkiverse.busaltconnection.runtime.store.BusStartup;
import io.quarkiverse.busaltconnection.runtime.store.BusTable;
import io.quarkiverse.busaltconnection.runtime.store.GroupPositions;
import io.quarkus.arc.Arc;
import io.quarkus.arc.SyntheticCreationalContext;
import io.quarkus.runtime.RuntimeValue;
import io.quarkus.runtime.ShutdownContext;
import io.quarkus.runtime.annotations.Recorder;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import io.quarkus.virtual.threads.VirtualThreadsRecorder;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnectOptions;

/**
 * Creates the beans of the direct path from runtime configuration: the {@code @BusDirect} reactive client and the
 * engine with its listening connection.
 */
@Recorder
public class BusAltConnectionRecorder {

    private final RuntimeValue<ImDispatcherConfig> config;

    public BusAltConnectionRecorder(RuntimeValue<ImDispatcherConfig> config) {
        this.config = config;
    }

    public Function<SyntheticCreationalContext<Pool>, Pool> directPool(RuntimeValue<Vertx> vertx,
            ShutdownContext shutdown) {
        return context -> {
            ImDispatcherConfig.DirectClient client = config.getValue().client();
            DataSourceSettings dataSource = context.getInjectedReference(BusDataSource.class).settings();
            PgConnectOptions options = connectOptions(dataSource);
            // Tells the client's connections apart from the listener's in pg_stat_activity.
            options.getProperties().put("application_name", config.getValue().applicationName() + "-client");
            options.setMetricsName(DirectConnector.metricsName("client"));
            DirectCredentials credentials = DirectCredentials.of(options, config.getValue(), dataSource);
            Pool pool = PgBuilder.pool()
                    .with(new PoolOptions()
                            .setName("imdispatcher-direct")
                            .setMaxSize(client.maxSize())
                            .setIdleTimeout(Math.toIntExact(client.idleTimeout().toMillis()))
                            .setIdleTimeoutUnit(TimeUnit.MILLISECONDS))
                    // Asked for each new connection, so that rotated credentials are used; ssl-mode=prefer settled
                    // as for the listener (Vert.x's own leaves a half-open connection when the server declines TLS).
                    .connectingTo(() -> credentials.get().compose(given -> DirectConnector.settledTls(vertx.getValue(),
                            given)).map(SqlConnectOptions.class::cast))
                    .using(vertx.getValue())
                    .build();
            shutdown.addShutdownTask(pool::close);
            return pool;
        };
    }

    public Function<SyntheticCreationalContext<io.vertx.mutiny.sqlclient.Pool>, io.vertx.mutiny.sqlclient.Pool> mutinyDirectPool() {
        return context -> io.vertx.mutiny.sqlclient.Pool
                .newInstance(context.getInjectedReference(Pool.class, BusDirect.Literal.INSTANCE));
    }

    /**
     * The build-time list of listener methods as a bean, their channel expressions resolved now, and with Quarkus
     * Messaging the connector's incoming channels.
     */
    public Function<SyntheticCreationalContext<BusListeners>, BusListeners> listeners(List<ListenerMethod> listeners,
            boolean messaging) {
        return context -> {
            Config appConfig = ConfigProvider.getConfig();
            List<ListenerMethod> all = new ArrayList<>();
            listeners.forEach(listener -> all.add(withResolvedChannel(listener, appConfig)));
            if (messaging) {
                // Only here: without Quarkus Messaging, no class that names its types is loaded.
                all.addAll(IncomingChannels.listenerMethods(context));
            }
            return new BusListeners(all);
        };
    }

    /** A channel with {@code ${...}} gets its value from configuration, and the checks the build made of literals. */
    private static ListenerMethod withResolvedChannel(ListenerMethod listener, Config config) {
        if (!ChannelExpressions.isExpression(listener.channel)) {
            return listener;
        }
        String channel = ChannelExpressions.resolve(listener.channel, config, listener.description);
        MessageChecks.busChannelProblem(channel).ifPresent(problem -> {
            throw new IllegalStateException("@BusListener " + listener.description + " names its channel "
                    + listener.channel + ", which resolves to an invalid channel: " + problem);
        });
        if (listener.plainNotifications) {
            MessageChecks.channelProblem(channel).ifPresent(problem -> {
                throw new IllegalStateException("@BusListener " + listener.description + " asks for plain"
                        + " notifications, but its channel " + listener.channel + " resolves to '" + channel + "': "
                        + problem);
            });
        }
        return listener.withChannel(channel);
    }

    /**
     * @param listenWithoutListeners whether to listen even without {@code @BusListener} methods (HTTP delivery)
     */
    public Function<SyntheticCreationalContext<BusEngine>, BusEngine> engine(RuntimeValue<Vertx> vertx,
            boolean listenWithoutListeners, ShutdownContext shutdown) {
        return context -> {
            ImDispatcherConfig imdispatcher = config.getValue();
            BusDataSource busDataSource = context.getInjectedReference(BusDataSource.class);
            DataSourceSettings dataSource = busDataSource.settings();
            DirectCredentials credentials = DirectCredentials.of(connectOptions(dataSource), imdispatcher, dataSource);
            BusTable table = context.getInjectedReference(BusTable.class);
            // Always, even without listeners: senders need the table.
            BusStartup.Head head = BusStartup.prepare(vertx.getValue(),
                    credentials.await(imdispatcher.connectTimeout()), table,
                    imdispatcher.bus().schemaManagement() == ImDispatcherConfig.BusStore.SchemaManagement.CREATE,
                    imdispatcher.connectTimeout());
            ListenerConnection connection = new ListenerConnection(vertx.getValue(), credentials,
                    imdispatcher.reconnect());
            Optional<BusEngine.ProbeSettings> probe = imdispatcher.probe().enabled()
                    ? Optional.of(new BusEngine.ProbeSettings(busDataSource.get(), imdispatcher.probe().timeout()))
                    : Optional.empty();
            ImDispatcherConfig.BusStore bus = imdispatcher.bus();
            if (bus.listenerPageSize() < 1 || bus.listenerPageBytes().asLongValue() < 1) {
                throw new IllegalArgumentException("quarkus.imdispatcher.bus.listener-page-size and listener-page-bytes"
                        + " must be at least 1; they are " + bus.listenerPageSize() + " and "
                        + bus.listenerPageBytes().asLongValue());
            }
            if (bus.sweepInterval().isNegative() || bus.sweepInterval().toMillis() < 1) {
                throw new IllegalArgumentException("quarkus.imdispatcher.bus.sweep-interval must be at least 1ms; it is "
                        + bus.sweepInterval());
            }
            if (bus.sequencerLinger().isNegative() || bus.sequencerLinger().compareTo(Sequencer.MAX_LINGER) > 0) {
                throw new IllegalArgumentException("quarkus.imdispatcher.bus.sequencer-linger must be between 0 and "
                        + Sequencer.MAX_LINGER.toMillis() + "ms; it is " + bus.sequencerLinger());
            }
            BusEngine engine = BusEngine.start(new BusEngine.Setup(connection,
                    context.getInjectedReference(BusListeners.class).methods(),
                    table, head, listenWithoutListeners, probe, context.getInjectedReference(ObjectMapper.class),
                    vertx.getValue(), VirtualThreadsRecorder::getCurrent, bus.listenerPageSize(),
                    bus.listenerPageBytes().asLongValue(), bus.sweepInterval(), bus.sequencerStallTimeout(),
                    bus.sequencerLinger(),
                    dataSource.jdbcUrlKey(), context.getInjectedReference(BusObservers.class),
                    new BusEngine.GroupSettings(new GroupPositions(busDataSource.get(), table), imdispatcher::group,
                            context.getInjectedReference(Bus.class)),
                    context.getInjectedReference(SequencerActivity.class)),
                    imdispatcher.connectTimeout());
            shutdown.addShutdownTask(engine::close);
            context.getInjectedReference(BusLifecycle.class).started();
            return engine;
        };
    }

    public Handler<RoutingContext> longPollHandler() {
        return new LongPollHandler();
    }

    /** Puts Quarkus's configured body handler in front of a route, so its handler finds the body read. */
    public Consumer<Route> withBody(Handler<RoutingContext> bodyHandler) {
        return route -> route.handler(bodyHandler);
    }

    public Handler<RoutingContext> sseHandler() {
        return new SseHandler();
    }

    private PgConnectOptions connectOptions(DataSourceSettings dataSource) {
        ImDispatcherConfig imdispatcher = config.getValue();
        return DirectConnectOptions.resolve(imdispatcher, dataSource, imdispatcher.tlsConfigurationName()
                .map(BusAltConnectionRecorder::tlsConfiguration));
    }

    private static TlsConfiguration tlsConfiguration(String name) {
        return Arc.container().instance(TlsConfigurationRegistry.class).get().get(name)
                .orElseThrow(() -> new IllegalStateException("quarkus.imdispatcher.tls-configuration-name is '" + name
                        + "', but the TLS registry has no such configuration: configure quarkus.tls." + name
                        + ".* (a trust store, say), or name one that exists"));
    }
}
