package io.quarkiverse.busaltconnection.it;

import java.util.Map;

import io.quarkus.test.common.DevServicesContext;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Hands the Dev Services configuration of a @QuarkusIntegrationTest to the test, to start more JVMs or clients on it.
 */
public class DevServicesProperties implements QuarkusTestResourceLifecycleManager, DevServicesContext.ContextAware {

    private static volatile Map<String, String> properties = Map.of();

    public static Map<String, String> get() {
        return properties;
    }

    @Override
    public void setIntegrationTestContext(DevServicesContext context) {
        properties = Map.copyOf(context.devServicesProperties());
    }

    @Override
    public Map<String, String> start() {
        return Map.of();
    }

    @Override
    public void stop() {
    }
}
