package io.quarkiverse.busaltconnection.runtime.messaging;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.dispatch.ListenerMethod;
import io.quarkus.arc.SyntheticCreationalContext;
import io.smallrye.reactive.messaging.providers.impl.ConnectorConfig;
import io.vertx.core.Vertx;

/**
 * The connector's incoming channels, found in runtime configuration ({@code mp.messaging.incoming.<name>.connector =
 * bus-alt-connection}, which Quarkus Messaging also sets for channels it attaches to the connector on its own): the
 * engine needs them when it starts, whether or not Quarkus Messaging has subscribed yet.
 */
@Singleton
public class IncomingChannels {

    private static final String PREFIX = "mp.messaging.incoming.";
    private static final Pattern CONNECTOR_KEY = Pattern.compile(Pattern.quote(PREFIX) + "(\"[^\"]+\"|[^.]+)\\.connector");

    private final Map<String, IncomingChannel> channels = new LinkedHashMap<>();

    @Inject
    IncomingChannels(Vertx vertx, Bus bus, ObjectMapper json, Instance<BusStatus> status) {
        Config config = ConfigProvider.getConfig();
        for (String name : names(config)) {
            ChannelConfig channelConfig = new ChannelConfig(config, name);
            if (!channelConfig.getOptionalValue("enabled", Boolean.class).orElse(true)) {
                continue;
            }
            IncomingSettings settings = IncomingSettings.of(channelConfig);
            channels.put(name, new IncomingChannel(settings, vertx, bus, json, () -> status.get().epoch()));
        }
    }

    /** The engine's listeners for the channels of the bean {@code context} injects. */
    public static List<ListenerMethod> listenerMethods(SyntheticCreationalContext<?> context) {
        return context.getInjectedReference(IncomingChannels.class).channels.values().stream()
                .map(IncomingChannel::listenerMethod).toList();
    }

    /**
     * @throws IllegalStateException if {@code name} is not one of the connector's channels in configuration
     */
    IncomingChannel get(String name) {
        IncomingChannel channel = channels.get(name);
        if (channel == null) {
            throw new IllegalStateException("The incoming channel '" + name + "' of the " + BusConnector.NAME
                    + " connector was not in the configuration when the bus started (" + PREFIX + name
                    + ".connector): set it in application.properties, not later");
        }
        return channel;
    }

    /** The application stops: nothing waits for Quarkus Messaging any more. */
    @PreDestroy
    void close() {
        channels.values().forEach(IncomingChannel::close);
    }

    Collection<IncomingChannel> all() {
        return channels.values();
    }

    private static TreeSet<String> names(Config config) {
        TreeSet<String> names = new TreeSet<>();
        for (String key : config.getPropertyNames()) {
            Matcher matcher = CONNECTOR_KEY.matcher(key);
            if (matcher.matches() && BusConnector.NAME.equals(config.getOptionalValue(key, String.class).orElse(""))) {
                names.add(matcher.group(1).replace("\"", ""));
            }
        }
        return names;
    }

    /** A channel's attributes, its own first, then the connector's ({@code mp.messaging.connector.<name>.*}). */
    private static final class ChannelConfig extends ConnectorConfig {

        ChannelConfig(Config overall, String channel) {
            super(PREFIX, overall, BusConnector.NAME, channel);
        }
    }
}
