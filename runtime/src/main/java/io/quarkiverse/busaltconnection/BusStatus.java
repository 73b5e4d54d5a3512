package io.quarkiverse.busaltconnection;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * How the bus is doing on this instance, read-only: what the health checks, the meters and the Dev UI show. Inject it
 * to look at the bus from the application (to wait for a listener to catch up in a test, say).
 */
public interface BusStatus {

    /**
     * Whether this instance opened a listening connection: it does when it has {@code @BusListener} methods or HTTP
     * delivery; an instance that only sends does not.
     */
    boolean active();

    /** Whether the listening connection is up and LISTEN went through. */
    boolean listening();

    /** Whether this instance is the database's sequencer right now (numbers committed messages). */
    boolean sequencing();

    /** The bus's epoch: positions are comparable only within one. */
    long epoch();

    /** The highest position this instance read from the database (never one taken from a notification). */
    long head();

    /**
     * Whether the database's history changed while this instance ran (a restored or promoted copy, behind what the
     * instance had seen, or another epoch): the instance went on in the new epoch, from its head.
     */
    boolean epochChanged();

    /** Host, port, database and user of the listening connection (never the password). */
    String server();

    /** PostgreSQL backend pid of the listening connection, or -1 while it is not connected. */
    int backendPid();

    /** How many times the listening connection came back after being lost. */
    long reconnections();

    /** The channels of the {@code @BusListener} methods. */
    List<String> channels();

    /** Each {@code @BusListener} method's place on the bus. */
    List<ListenerStatus> listeners();

    /** Each durable consumer group member of this instance ({@code @BusListener(group = ...)}). */
    List<GroupStatus> groups();

    /** How many HTTP clients (long-polls waiting, SSE streams) and Dev UI feeds follow the bus on this instance. */
    int httpClients();

    /** When the last notification (a head hint or a plain one) was received. */
    Optional<Instant> lastNotification();

    /** When a listener self-probe last came back, if probing is enabled. */
    Optional<Instant> lastProbe();

    /** Why the last self-probe could not be sent through the datasource, while that lasts. */
    Optional<String> probeFailure();

    /** How many times a reader of this instance found messages it needed deleted by retention. */
    long losses();

    /**
     * One {@code @BusListener} method's place on the bus.
     *
     * @param listener the method, as {@code Class#method}
     * @param position the last position it is done with
     * @param lag positions between it and the head it last saw: 0 when it has everything
     * @param delivered calls that succeeded: the method returned, and its {@code Uni} or {@code CompletionStage}
     *        completed, normally (the {@code imdispatcher.messages.delivered} meter's {@code outcome=success})
     * @param failed calls that failed: the method threw, its result failed, or the payload did not fit its parameter
     *        ({@code outcome=failure})
     */
    record ListenerStatus(String listener, String channel, long position, long lag, long delivered, long failed) {
    }

    /**
     * One partition of a durable consumer group on one channel, as this instance sees it.
     *
     * @param partition the partition; 0 for a group without partitions
     * @param owner whether this instance delivers for the group now (one instance of the fleet does)
     * @param position the group's stored position, as the owner last moved it; -1 on an instance that is not the owner
     * @param lag positions between the head and where the group is on the channel (past the positions of other
     *        channels it has looked at); 0 when caught up; -1 on an instance that is not the owner
     * @param retries calls retried on this instance
     * @param deadLetters messages this instance gave up to the dead-letter channel
     * @param stopped why the group stopped ({@code failure=stop}), if it did
     * @param oldestUnfinished on the owner, when the oldest message the partition has not finished was committed
     *        (empty when it has finished everything it has read, and on the other instances)
     * @param stuck on the owner, whether work waits and the position has not moved for the group's
     *        {@code stuck-after}
     */
    record GroupStatus(String group, String channel, int partition, String listener, boolean owner, long position,
            long lag, long retries, long deadLetters, Optional<String> stopped, Optional<Instant> oldestUnfinished,
            boolean stuck) {
    }
}
