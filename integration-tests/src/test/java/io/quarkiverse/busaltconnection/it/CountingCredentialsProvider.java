package io.quarkiverse.busaltconnection.it;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Named;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.ConfigProvider;

import io.quarkus.credentials.CredentialsProvider;

/**
 * Hands out the Dev Services credentials, as Vault would hand out rotated ones, and counts how often it is asked.
 * Used only where a test names it ({@link CredentialsProviderTest}).
 */
@Singleton
@Named("counting-credentials")
public class CountingCredentialsProvider implements CredentialsProvider {

    final AtomicInteger asked = new AtomicInteger();
    volatile String lastCredentialsName;

    @Override
    public Map<String, String> getCredentials(String credentialsProviderName) {
        asked.incrementAndGet();
        lastCredentialsName = credentialsProviderName;
        var config = ConfigProvider.getConfig();
        return Map.of(USER_PROPERTY_NAME, config.getValue("quarkus.datasource.username", String.class),
                PASSWORD_PROPERTY_NAME, config.getValue("quarkus.datasource.password", String.class));
    }
}
