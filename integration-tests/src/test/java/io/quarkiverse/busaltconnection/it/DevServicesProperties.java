package io.quarkiverse.busaltconnection.it;

import java.util.Map;

import io.quarkus.test.common.DevServicesContext;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Hands the Dev Services configuration of a @QuarkusIntegrationTest to the test, to start more JVMs or clients on it.
 * Test classes declare it with {@code scope = MATCHING_RESOURCES}: those that declare nothing else share one packaged
 * application and one PostgreSQL + PgBouncer instead of starting both for each class (about 20 s each on two cores);
 * a test that needs a database of its own takes a {@link FreshDatabase}.
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
