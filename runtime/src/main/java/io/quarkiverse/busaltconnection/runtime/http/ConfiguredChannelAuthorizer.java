package io.quarkiverse.busaltconnection.runtime.http;

import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.quarkiverse.busaltconnection.BusChannelAuthorizer;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkus.arc.DefaultBean;
import io.vertx.core.http.HttpServerRequest;

/**
 * The default {@link BusChannelAuthorizer}: the channels of {@code quarkus.imdispatcher.http.public-channels} and
 * nothing else. With nothing configured, HTTP clients read nothing.
 */
@DefaultBean
@ApplicationScoped
public class ConfiguredChannelAuthorizer implements BusChannelAuthorizer {

    private final Set<String> publicChannels;

    @Inject
    public ConfiguredChannelAuthorizer(ImDispatcherConfig config) {
        this.publicChannels = Set.copyOf(config.http().publicChannels().orElse(List.of()));
    }

    @Override
    public boolean mayRead(String channel, HttpServerRequest request) {
        return publicChannels.contains(channel);
    }
}
