package io.quarkiverse.busaltconnection.runtime.listen;

import static io.quarkus.credentials.CredentialsProvider.PASSWORD_PROPERTY_NAME;
import static io.quarkus.credentials.CredentialsProvider.USER_PROPERTY_NAME;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import io.quarkiverse.busaltconnection.runtime.config.DataSourceSettings;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkus.credentials.CredentialsProvider;
import io.quarkus.credentials.runtime.CredentialsProviderFinder;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;

/**
 * Options for each new direct connection: the resolved options, with the user and password a
 * {@link CredentialsProvider} gives at that moment when one applies, so that rotated credentials (Vault, say) are
 * used by the next reconnection.
 */
public final class DirectCredentials implements Supplier<Future<PgConnectOptions>> {

    private final PgConnectOptions base;
    private final Optional<Provider> provider;

    private record Provider(String credentials, String beanName, String key) {
    }

    private DirectCredentials(PgConnectOptions base, Optional<Provider> provider) {
        this.base = base;
        this.provider = provider;
    }

    /**
     * {@code quarkus.imdispatcher.credentials-provider} first; without it and without an own username or password,
     * the datasource's credentials provider.
     */
    public static DirectCredentials of(PgConnectOptions base, ImDispatcherConfig config, DataSourceSettings dataSource) {
        Optional<Provider> provider = config.credentialsProvider()
                .map(name -> new Provider(name, config.credentialsProviderName().orElse(null),
                        "quarkus.imdispatcher.credentials-provider"));
        if (provider.isEmpty() && config.username().isEmpty() && config.password().isEmpty()) {
            provider = dataSource.credentialsProvider()
                    .map(name -> new Provider(name, dataSource.credentialsProviderName().orElse(null),
                            dataSource.key("credentials-provider")));
        }
        return new DirectCredentials(base, provider);
    }

    /** The options as resolved from configuration, for descriptions (no password is ever shown). */
    public PgConnectOptions base() {
        return base;
    }

    /** Options for one new connection, asking the credentials provider again. */
    @Override
    public Future<PgConnectOptions> get() {
        if (provider.isEmpty()) {
            return Future.succeededFuture(new PgConnectOptions(base));
        }
        Provider from = provider.get();
        return Future.fromCompletionStage(ask(from).subscribeAsCompletionStage());
    }

    /** {@link #get()} on a thread that may block, at startup. */
    public PgConnectOptions await(Duration timeout) {
        if (provider.isEmpty()) {
            return new PgConnectOptions(base);
        }
        return ask(provider.get()).await().atMost(timeout);
    }

    private Uni<PgConnectOptions> ask(Provider from) {
        CredentialsProvider credentials;
        try {
            credentials = CredentialsProviderFinder.find(from.beanName());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(new IllegalStateException("No CredentialsProvider bean"
                    + (from.beanName() == null ? "" : " named '" + from.beanName() + "'") + " for " + from.key()
                    + ": add one, or set the credentials-provider-name of the provider to use", e));
        }
        return credentials.getCredentialsAsync(from.credentials()).map(values -> withCredentials(values, from));
    }

    private PgConnectOptions withCredentials(Map<String, String> values, Provider from) {
        PgConnectOptions options = new PgConnectOptions(base);
        String user = values.get(USER_PROPERTY_NAME);
        String password = values.get(PASSWORD_PROPERTY_NAME);
        if (user == null && password == null) {
            throw new IllegalStateException("The CredentialsProvider of " + from.key() + " gave neither '"
                    + USER_PROPERTY_NAME + "' nor '" + PASSWORD_PROPERTY_NAME + "' for '" + from.credentials() + "'");
        }
        if (user != null) {
            options.setUser(user);
        }
        if (password != null) {
            options.setPassword(password);
        }
        return options;
    }
}
