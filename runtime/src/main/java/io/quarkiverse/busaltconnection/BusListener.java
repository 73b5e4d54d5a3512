package io.quarkiverse.busaltconnection;

import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;

/**
 * On a bean method, {@code @BusListener("orders")} makes the method receive every message committed on bus
 * channel {@code orders} with {@link Bus#send} after the application started, once per running instance, in position
 * order (see {@link BusMessage#position()}); a method that throws is not called again with that message. With
 * {@link #plainNotifications()} it also receives plain notifications sent on the
 * PostgreSQL channel of that name by anything else ({@code NOTIFY orders, '...'} from psql, a trigger calling
 * {@code pg_notify}). All listeners of an application instance share one direct LISTEN connection to PostgreSQL,
 * opened at startup.
 * <p>
 * The method takes up to two parameters, in any order: the payload ({@code String} for the raw text, or any type
 * Jackson can read the payload's JSON into) and a {@link BusMessage} (channel, position, time, raw payload). It returns
 * {@code void}, {@code Uni<?>} or {@code CompletionStage<?>}. It runs on a worker thread unless annotated
 * {@code @NonBlocking} (event loop) or {@code @RunOnVirtualThread}. Each listener receives the messages of its
 * channel one at a time: the next call waits until the previous one returned and, for a {@code Uni} or
 * {@code CompletionStage}, completed. A slow listener falls behind and reads its backlog from the bus table as it
 * drains; only a bounded page of messages is held in memory for it. A listener that throws is logged and skipped; the
 * bus and the other listeners go on.
 * <p>
 * The reactive client of the direct path is {@link BusDirect}.
 */
@Documented
@Retention(RUNTIME)
@Target(METHOD)
public @interface BusListener {

    /**
     * The bus channel to listen on: any non-empty text without NUL characters, case-sensitive; {@code ${key}} or
     * {@code ${key:default}} takes it from configuration at startup. When it is also a
     * valid PostgreSQL channel name (63 bytes or less in UTF-8), plain NOTIFYs on it are delivered too. Required.
     */
    String value() default "";

    /**
     * Also deliver plain {@code NOTIFY <channel>, '<payload>'} sent on the PostgreSQL channel of this name by anything
     * else, as a {@link BusMessage} with position 0. Off by default: anyone who can connect to the database can
     * NOTIFY on any channel, so a plain notification is unauthenticated input, never a bus message. Plain
     * notifications are not stored: one sent while the listener's connection is down is lost.
     */
    boolean plainNotifications() default false;

    /**
     * Makes the method a member of a durable consumer group: its position on the channel is stored in the database,
     * one instance of the fleet delivers at a time, each message's effects through the bus's datasource happen once,
     * and a message that keeps failing is retried, then parked on the dead-letter channel. With
     * {@code quarkus.imdispatcher.groups."<group>".partitions} above 1, messages sent with a key
     * ({@link Bus#send(String, String, String)}) are split in partitions by key, which the instances running the group
     * share, in order per key. Empty (the default): a
     * broadcast listener, called on every running instance, at most once, from where the instance started. See
     * {@code quarkus.imdispatcher.groups."<group>".*}.
     */
    String group() default "";
}
