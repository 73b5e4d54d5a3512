package io.quarkiverse.busaltconnection.runtime.listen;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Optional;
import java.util.Properties;

import javax.net.ssl.TrustManagerFactory;

import io.quarkus.tls.TlsConfiguration;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SSLOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

/**
 * TLS of the direct connections, as pgjdbc does it: the mode from {@code quarkus.imdispatcher.ssl-mode} or the JDBC
 * URL, trust and key material from a TLS registry configuration, the URL's {@code sslrootcert}, or the JVM.
 */
final class DirectTls {

    /** The name JSSE gives the check that a certificate names the host (RFC 2818), as HTTPS clients do. */
    private static final String CHECK_HOST_NAME = "HTTPS";

    private DirectTls() {
    }

    static void configure(PgConnectOptions options, Optional<SslMode> configured, Properties jdbc,
            Optional<TlsConfiguration> tls) {
        SslMode mode = configured.or(() -> urlMode(jdbc)).orElseGet(() -> defaultMode(jdbc, tls));
        options.setSslMode(mode);
        tls.ifPresent(configuration -> useKeyMaterial(options, configuration));
        switch (mode) {
            case DISABLE -> {
            }
            // These modes encrypt without checking the server's certificate, as pgjdbc and libpq do.
            case ALLOW, PREFER, REQUIRE -> options.setTrustAll(true);
            case VERIFY_CA -> trust(options, jdbc, tls);
            case VERIFY_FULL -> {
                trust(options, jdbc, tls);
                String algorithm = options.getHostnameVerificationAlgorithm();
                if (algorithm == null || algorithm.isEmpty()) {
                    options.setHostnameVerificationAlgorithm(CHECK_HOST_NAME);
                }
            }
        }
    }

    private static Optional<SslMode> urlMode(Properties jdbc) {
        String mode = jdbc.getProperty("sslmode");
        if (mode == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(SslMode.of(mode));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("The JDBC URL's sslmode '" + mode + "' is not a PostgreSQL sslmode: use"
                    + " disable, allow, prefer, require, verify-ca or verify-full (or set quarkus.imdispatcher.ssl-mode)",
                    e);
        }
    }

    /** pgjdbc: {@code ssl=true} alone verifies fully; a named TLS configuration means the same; else prefer TLS. */
    private static SslMode defaultMode(Properties jdbc, Optional<TlsConfiguration> tls) {
        if (tls.isPresent()) {
            return tls.get().isTrustAll() ? SslMode.REQUIRE : SslMode.VERIFY_FULL;
        }
        return "true".equalsIgnoreCase(jdbc.getProperty("ssl")) ? SslMode.VERIFY_FULL : SslMode.PREFER;
    }

    /**
     * The client certificate and the handshake settings of the TLS configuration. Applied here rather than with
     * {@code TlsConfigUtils}, which also sets the socket option {@code ssl}: PostgreSQL negotiates TLS after a
     * clear-text request, and {@code ssl-mode} alone decides that here.
     */
    private static void useKeyMaterial(PgConnectOptions options, TlsConfiguration tls) {
        if (tls.getKeyStoreOptions() != null) {
            options.setKeyCertOptions(tls.getKeyStoreOptions());
        }
        tls.getHostnameVerificationAlgorithm().filter(algorithm -> !"NONE".equalsIgnoreCase(algorithm))
                .ifPresent(options::setHostnameVerificationAlgorithm);
        SSLOptions ssl = tls.getSSLOptions();
        if (ssl != null) {
            options.setSslHandshakeTimeout(ssl.getSslHandshakeTimeout());
            options.setSslHandshakeTimeoutUnit(ssl.getSslHandshakeTimeoutUnit());
            ssl.getEnabledCipherSuites().forEach(options::addEnabledCipherSuite);
            options.setEnabledSecureTransportProtocols(ssl.getEnabledSecureTransportProtocols());
        }
    }

    /** What verifies the server: the TLS configuration's trust store, else {@code sslrootcert}, else the JVM's CAs. */
    private static void trust(PgConnectOptions options, Properties jdbc, Optional<TlsConfiguration> tls) {
        if (tls.isPresent() && tls.get().isTrustAll()) {
            options.setTrustAll(true);
            return;
        }
        if (tls.isPresent() && tls.get().getTrustStoreOptions() != null) {
            options.setTrustOptions(tls.get().getTrustStoreOptions());
            return;
        }
        String rootCert = jdbc.getProperty("sslrootcert");
        if (rootCert != null && !rootCert.isEmpty()) {
            if (!Files.isReadable(Path.of(rootCert))) {
                throw new IllegalStateException("The JDBC URL's sslrootcert '" + rootCert + "' is not a readable"
                        + " file: give the PEM file of the CA that signed PostgreSQL's certificate, or set"
                        + " quarkus.imdispatcher.tls-configuration-name");
            }
            options.setTrustOptions(new PemTrustOptions().addCertPath(rootCert));
            return;
        }
        options.setTrustOptions(jvmTrust());
    }

    private static TrustOptions jvmTrust() {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init((KeyStore) null);
            return TrustOptions.wrap(factory);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("The JVM's trusted CAs cannot be read to verify PostgreSQL's certificate:"
                    + " set quarkus.imdispatcher.tls-configuration-name to a TLS configuration with a trust store", e);
        }
    }
}
