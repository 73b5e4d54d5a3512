package io.quarkiverse.busaltconnection;

import static java.lang.annotation.ElementType.FIELD;
import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.ElementType.PARAMETER;
import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;

import jakarta.enterprise.util.AnnotationLiteral;
import jakarta.inject.Qualifier;

/**
 * The reactive client of the bus's direct path: {@code @Inject @BusDirect Pool client} (or the Mutiny
 * {@code io.vertx.mutiny.sqlclient.Pool}) connects to PostgreSQL itself, never through the pooler, with the listener's
 * settings ({@code quarkus.imdispatcher.db-host}, credentials, TLS), for the rare work that needs a session: session
 * advisory locks, schema migrations, LISTEN of your own. At most {@code quarkus.imdispatcher.client.max-size}
 * connections.
 */
@Qualifier
@Documented
@Retention(RUNTIME)
@Target({ METHOD, FIELD, PARAMETER, TYPE })
public @interface BusDirect {

    /** Supports inline instantiation, e.g. {@code Arc.container().select(Pool.class, BusDirect.Literal.INSTANCE)}. */
    final class Literal extends AnnotationLiteral<BusDirect> implements BusDirect {

        public static final Literal INSTANCE = new Literal();

        private static final long serialVersionUID = 1L;
    }
}
