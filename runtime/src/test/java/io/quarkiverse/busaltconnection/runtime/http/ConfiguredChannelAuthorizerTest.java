package io.quarkiverse.busaltconnection.runtime.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;

/** The default authorizer: only configured public channels; nothing when none are configured. */
class ConfiguredChannelAuthorizerTest {

    @Test
    void nothingIsReadableByDefault() {
        ConfiguredChannelAuthorizer authorizer = new ConfiguredChannelAuthorizer(config(Optional.empty()));
        assertFalse(authorizer.mayRead("news", null));
        assertFalse(authorizer.mayRead("", null));
    }

    @Test
    void onlyTheListedChannels() {
        ConfiguredChannelAuthorizer authorizer = new ConfiguredChannelAuthorizer(config(Optional.of(List.of("news"))));
        assertTrue(authorizer.mayRead("news", null));
        assertFalse(authorizer.mayRead("News", null));
        assertFalse(authorizer.mayRead("news.private", null));
    }

    private static ImDispatcherConfig config(Optional<List<String>> publicChannels) {
        ImDispatcherConfig.Http http = (ImDispatcherConfig.Http) Proxy.newProxyInstance(
                ImDispatcherConfig.class.getClassLoader(), new Class<?>[] { ImDispatcherConfig.Http.class },
                (proxy, method, args) -> {
                    if (method.getName().equals("publicChannels")) {
                        return publicChannels;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        return (ImDispatcherConfig) Proxy.newProxyInstance(ImDispatcherConfig.class.getClassLoader(),
                new Class<?>[] { ImDispatcherConfig.class }, (proxy, method, args) -> {
                    if (method.getName().equals("http")) {
                        return http;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
