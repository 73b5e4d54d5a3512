package io.quarkiverse.busaltconnection.deployment;

import io.quarkus.runtime.annotations.ConfigPhase;
import io.quarkus.runtime.annotations.ConfigRoot;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * HTTP delivery of bus messages: long-poll and Server-Sent Events endpoints.
 */
@ConfigMapping(prefix = "quarkus.imdispatcher.http")
@ConfigRoot(phase = ConfigPhase.BUILD_TIME)
public interface ImDispatcherHttpBuildConfig {

    /**
     * Whether the endpoints `<root-path>/poll` (long-poll) and `<root-path>/sse` (Server-Sent Events) exist. Their
     * channels are readable only as the application's `BusChannelAuthorizer` allows: by default, those of
     * `quarkus.imdispatcher.http.public-channels`, none unless configured. With HTTP delivery enabled, the instance
     * listens even without `@BusListener` methods.
     */
    @WithDefault("false")
    boolean enabled();

    /**
     * Path of the endpoints, under `quarkus.http.root-path`.
     */
    @WithDefault("/imdispatcher")
    String rootPath();
}
