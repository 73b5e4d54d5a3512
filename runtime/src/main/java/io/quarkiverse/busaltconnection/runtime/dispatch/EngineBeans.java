package io.quarkiverse.busaltconnection.runtime.dispatch;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The engine's parts that others use, as beans: its status (also as the public {@code BusStatus}) and the live feed
 * that HTTP clients and the Dev UI follow.
 */
@Singleton
public class EngineBeans {

    @Produces
    @Singleton
    EngineStatus status(BusEngine engine) {
        return engine.status();
    }

    @Produces
    @Singleton
    LiveFeed liveFeed(BusEngine engine) {
        return engine.liveFeed();
    }
}
