package io.quarkiverse.busaltconnection.runtime.store;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The bus table, its companions, and everything said to PostgreSQL about them. Identifiers come from configuration and
 * are quoted as identifiers; channels and payloads are always bind parameters.
 * <p>
 * A sender inserts rows and nothing else: no lock, no NOTIFY in its transaction (a transaction that writes and
 * notifies holds PostgreSQL's cluster-wide NOTIFY lock through its commit flush, which serializes every such commit).
 * Each row records its transaction's id ({@code xid}, xid8). The one sequencer of the database gives the committed
 * rows their {@code position}: a number without gaps, in the order they became visible, and by transaction id and
 * then row id among rows that became visible together (see {@link #sequence()}).
 * <p>
 * Companions, named after the table with a suffix: {@code _state}, one row with the epoch and the last position handed
 * out; {@code _purged}, per channel the highest position retention deleted, so that a reader behind it learns what
 * it lost.
 */
public final class BusTable {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,49}");

    /** The schema whose tables keep the lock keys of versions that did not qualify the table with its schema. */
    private static final String DEFAULT_SCHEMA = "public";

    private final String schema;
    private final String table;
    private final String quotedTable;
    private final String quotedSequence;
    private final String quotedState;
    private final String quotedPurged;
    private final String quotedGroups;

    /**
     * @param schema the schema of the table and its companions (any name: it is quoted)
     * @throws IllegalArgumentException naming the key, for a name PostgreSQL would truncate or cannot hold
     */
    public BusTable(String schema, String table) {
        if (!NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("quarkus.imdispatcher.bus.table '" + table + "' must be 1 to 50 letters,"
                    + " digits or underscores, starting with a letter or underscore (PostgreSQL identifiers hold 63"
                    + " bytes, and the names of the table's companions and indexes add a suffix)");
        }
        if (schema.isEmpty() || schema.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63
                || schema.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("quarkus.imdispatcher.bus.schema '" + schema + "' must be 1 to 63 bytes"
                    + " without NUL characters");
        }
        this.schema = schema;
        this.table = table;
        this.quotedTable = qualified(table);
        this.quotedSequence = qualified(table + "_id_seq");
        this.quotedState = qualified(table + "_state");
        this.quotedPurged = qualified(table + "_purged");
        this.quotedGroups = qualified(table + "_groups");
    }

    /** The table name, without its schema. */
    public String name() {
        return table;
    }

    /** The schema of the table and its companions. */
    public String schema() {
        return schema;
    }

    /** Schema and table, for messages. */
    public String describe() {
        return schema + "." + table;
    }

    /**
     * The key of the table's advisory locks ({@link #schemaLockSql()}, {@link #sequencerLockSql()}): schema and table,
     * so that tables of the same name in two schemas are two buses with a sequencer each. In {@code public} it is the
     * table name alone, as in versions that did not qualify it: an instance of such a version and one of this version
     * running side by side during a rolling upgrade still share one sequencer.
     */
    public String lockKey() {
        return DEFAULT_SCHEMA.equals(schema) ? table : schema + "." + table;
    }

    /** Channel of the senders' wake-ups: "rows were committed", heard by the sequencer. */
    public String writtenChannel() {
        return table;
    }

    /** Channel of the sequencer's wake-ups: "positions up to N exist", heard by every instance. */
    public String headChannel() {
        return table + "_head";
    }

    /** Channel of the listener self-probe. */
    public String probeChannel() {
        return table + "_probe";
    }

    /**
     * The partitions of a group on a channel, locked until the transaction ends (JDBC parameters: group, channel).
     * Columns: partition, position, the number of partitions the group had when it was stored.
     */
    public String groupPartitions() {
        return "SELECT partition_no, position, partitions FROM " + quotedGroups
                + " WHERE group_name = ? AND channel = ? ORDER BY partition_no FOR UPDATE";
    }

    /**
     * A partition's first position, if it has none yet (JDBC parameters: group, channel, partition, partitions, the
     * position to start at or null, whether to start at the earliest message, channel again): the position given, else
     * the head, or just before the oldest message the table holds on the channel. Stored with the epoch.
     */
    public String groupStart() {
        return "INSERT INTO " + quotedGroups + " (group_name, channel, partition_no, partitions, position, epoch)"
                + " SELECT ?, ?, ?, ?, coalesce(?, CASE WHEN ? THEN coalesce((SELECT min(position) - 1 FROM "
                + quotedTable + " WHERE channel = ? AND position IS NOT NULL), s.last_position)"
                + " ELSE s.last_position END), s.epoch FROM " + quotedState + " s ON CONFLICT DO NOTHING";
    }

    /**
     * Puts every partition of a group on a channel at one position, for another number of partitions (JDBC
     * parameters: position, partitions, group, channel), and drops the partitions past the number (parameters:
     * group, channel, partitions): see {@link #groupDropPartitions()}.
     */
    public String groupRepartition() {
        return "UPDATE " + quotedGroups + " SET position = ?, partitions = ?, updated_at = now()"
                + " WHERE group_name = ? AND channel = ?";
    }

    /** The partitions past a number (JDBC parameters: group, channel, partitions). */
    public String groupDropPartitions() {
        return "DELETE FROM " + quotedGroups + " WHERE group_name = ? AND channel = ? AND partition_no >= ?";
    }

    /** The position a group's partition is done with on a channel (JDBC parameters: group, channel, partition). */
    public String groupPosition() {
        return "SELECT position FROM " + quotedGroups
                + " WHERE group_name = ? AND channel = ? AND partition_no = ?";
    }

    /**
     * Moves a group's position on, only from where the caller read it, with the number of partitions it read it with
     * (JDBC parameters: new position, group, channel, partition, old position, partitions): in the transaction of the call it
     * records, so that the call's effects and the move commit
     * together, and an instance that lost the group meanwhile finds the position moved and rolls back.
     */
    public String groupAdvance() {
        return "UPDATE " + quotedGroups + " SET position = ?, updated_at = now()"
                + " WHERE group_name = ? AND channel = ? AND partition_no = ? AND position = ? AND partitions = ?";
    }

    /**
     * The session advisory lock that makes one listening connection of the fleet the owner of a group's partition on
     * a channel (reactive parameter $1: {@link #groupPartitionLockKey}); apart from the sequencer's keys by its second
     * key.
     */
    public static String groupLockSql() {
        return "hashtext($1), 2";
    }

    /**
     * The shared session advisory lock every member of a group on a channel holds on its listening connection
     * (reactive parameter $1: {@link #groupMemberLockKey}): the members are its holders.
     */
    public static String groupMemberLockSql() {
        return "hashtext($1), 3";
    }

    /**
     * The text the lock of partition {@code partition} of {@code group} on {@code channel} is hashed from: {@link
     * #groupPartitionLockPrefix}, the partition, '/', the channel. Unambiguous, since a group name has no '/'.
     */
    public String groupPartitionLockKey(String group, int partition, String channel) {
        return groupPartitionLockPrefix(group) + partition + "/" + channel;
    }

    public String groupPartitionLockPrefix(String group) {
        return lockKey() + "/group/" + group + "/";
    }

    /** The text the membership lock of {@code group} on {@code channel} is hashed from. */
    public String groupMemberLockKey(String group, String channel) {
        return lockKey() + "/members/" + group + "/" + channel;
    }

    /**
     * Who is a member of a group on a channel and who owns which of its partitions, from {@code pg_locks} (reactive
     * parameters: $1 the {@link #groupMemberLockKey}, $2 the {@link #groupPartitionLockPrefix}, $3 the number of
     * partitions, $4 the channel). One row per partition: the partition, the pid of the backend that owns it (null if
     * none), that backend's state and seconds since its state last changed (null where {@code pg_stat_activity} shows
     * nothing to this role), this backend's pid, and the pids of the members.
     */
    public String groupAssignment() {
        return "WITH locks AS (SELECT l.pid, l.classid, l.objid FROM pg_locks l WHERE l.locktype = 'advisory'"
                + " AND l.granted AND l.objsubid = 2 AND l.objid IN (2, 3) AND l.database = (SELECT oid FROM"
                + " pg_database WHERE datname = current_database())), "
                + "owners AS (SELECT p, (SELECT k.pid FROM locks k WHERE k.objid = 2 AND k.classid = (hashtext($2::text"
                + " || p::text || '/' || $4::text)::bigint & 4294967295)::oid LIMIT 1) AS holder"
                + " FROM generate_series(0, $3::int - 1) AS p) "
                + "SELECT o.p, o.holder, a.state, extract(epoch FROM now() - a.state_change)::float8,"
                + " pg_backend_pid(), (SELECT array_agg(k.pid ORDER BY k.pid) FROM locks k WHERE k.objid = 3"
                + " AND k.classid = (hashtext($1::text)::bigint & 4294967295)::oid)"
                + " FROM owners o LEFT JOIN pg_stat_activity a ON a.pid = o.holder ORDER BY o.p";
    }

    /** Whether {@code channel} is one of the bus's own notification channels, never a listener's plain one. */
    public boolean reserved(String channel) {
        return channel.equals(writtenChannel()) || channel.equals(headChannel()) || channel.equals(probeChannel());
    }

    /**
     * Creates or upgrades the schema; every statement is idempotent. Run under {@link #schemaLockSql()}'s session lock,
     * so that instances starting together run them one after the other. A table of the previous version (ids in
     * commit order, written by a send function) keeps its rows: their ids become their positions.
     */
    public List<String> createSchema() {
        return List.of(
                "CREATE SEQUENCE IF NOT EXISTS " + quotedSequence,
                "CREATE TABLE IF NOT EXISTS " + quotedTable + " ("
                        + "id bigint PRIMARY KEY DEFAULT nextval(" + literal(quotedSequence) + "), "
                        + "xid xid8 DEFAULT pg_current_xact_id(), "
                        + "channel text NOT NULL, "
                        + "payload text NOT NULL, "
                        + "created_at timestamptz NOT NULL DEFAULT now(), "
                        + "position bigint, "
                        + "traceparent text, "
                        + "message_key text)",
                // Upgrade from the send-function version: its function took a lock and notified inside the sender's
                // transaction; an instance of that version still running now fails loudly instead of serializing.
                "DROP FUNCTION IF EXISTS " + qualified(table + "_send") + "(text[], text[])",
                "ALTER TABLE " + quotedTable + " ALTER COLUMN id SET DEFAULT nextval(" + literal(quotedSequence) + ")",
                "ALTER TABLE " + quotedTable + " ADD COLUMN IF NOT EXISTS position bigint",
                "ALTER TABLE " + quotedTable + " ADD COLUMN IF NOT EXISTS xid xid8",
                // The W3C trace context of a traced send (OpenTelemetry), for the listener's span to link to.
                "ALTER TABLE " + quotedTable + " ADD COLUMN IF NOT EXISTS traceparent text",
                // The key of a keyed send: a group with partitions delivers one key's messages in one partition.
                "ALTER TABLE " + quotedTable + " ADD COLUMN IF NOT EXISTS message_key text",
                "UPDATE " + quotedTable + " SET position = id, xid = '0' WHERE xid IS NULL",
                "ALTER TABLE " + quotedTable + " ALTER COLUMN xid SET DEFAULT pg_current_xact_id(),"
                        + " ALTER COLUMN xid SET NOT NULL",
                "CREATE UNIQUE INDEX IF NOT EXISTS " + quote(table + "_position_idx") + " ON " + quotedTable
                        + " (position) WHERE position IS NOT NULL",
                "CREATE INDEX IF NOT EXISTS " + quote(table + "_channel_position_idx") + " ON " + quotedTable
                        + " (channel, position) WHERE position IS NOT NULL",
                "CREATE INDEX IF NOT EXISTS " + quote(table + "_unpositioned_idx") + " ON " + quotedTable
                        + " (xid, id) WHERE position IS NULL",
                "CREATE INDEX IF NOT EXISTS " + quote(table + "_created_at_idx") + " ON " + quotedTable
                        + " (created_at)",
                "CREATE TABLE IF NOT EXISTS " + quotedState + " ("
                        + "singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), "
                        + "epoch bigint NOT NULL, "
                        + "last_position bigint NOT NULL, "
                        + "database_oid oid NOT NULL, "
                        + "xid_horizon xid8 NOT NULL, "
                        + "epoch_base bigint NOT NULL DEFAULT 0)",
                // Where the current epoch began: a reader of an older one goes back there.
                "ALTER TABLE " + quotedState + " ADD COLUMN IF NOT EXISTS epoch_base bigint NOT NULL DEFAULT 0",
                "INSERT INTO " + quotedState + " (epoch, last_position, database_oid, xid_horizon)"
                        + " SELECT " + NEW_EPOCH + ", coalesce(max(position), 0),"
                        + " (SELECT oid FROM pg_database WHERE datname = current_database()), pg_current_xact_id()"
                        + " FROM " + quotedTable + " ON CONFLICT DO NOTHING",
                "CREATE TABLE IF NOT EXISTS " + quotedPurged + " (channel text PRIMARY KEY, through bigint NOT NULL)",
                // Durable consumer groups: the last position each group is done with, per channel and partition.
                "CREATE TABLE IF NOT EXISTS " + quotedGroups + " ("
                        + "group_name text NOT NULL, "
                        + "channel text NOT NULL, "
                        + "partition_no integer NOT NULL DEFAULT 0, "
                        + "position bigint NOT NULL, "
                        + "epoch bigint NOT NULL, "
                        + "updated_at timestamptz NOT NULL DEFAULT now(), "
                        + "partitions integer NOT NULL DEFAULT 1, "
                        + "PRIMARY KEY (group_name, channel, partition_no))",
                // How many partitions the group had: another number of partitions starts them all anew.
                "ALTER TABLE " + quotedGroups + " ADD COLUMN IF NOT EXISTS partitions integer NOT NULL DEFAULT 1");
    }

    /**
     * Whether {@link #createSchema()} already ran to the end: its last objects exist. Checked before taking the
     * schema lock, because even an {@code IF NOT EXISTS} statement locks the table and would wait behind, and then
     * block, the application's transactions.
     */
    public String schemaIsCurrent() {
        return "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND (SELECT count(*) FROM (VALUES"
                + " ($3::text, 'traceparent'), ($3::text, 'message_key'), ($4::text, 'epoch_base'),"
                + " ($1::text, 'partitions')) AS c(rel, col) WHERE EXISTS (SELECT 1 FROM pg_attribute"
                + " WHERE attrelid = to_regclass(c.rel) AND attname = c.col AND NOT attisdropped)) = 4";
    }

    /** The parameters of {@link #schemaIsCurrent()}: the last objects {@link #createSchema()} creates. */
    public List<Object> lastSchemaObjects() {
        return List.of(quotedGroups, qualified(table + "_unpositioned_idx"), quotedTable, quotedState);
    }

    /**
     * Starts a new epoch if the state row is still in {@code $1} (reactive): after the database's history went back
     * (a restored or promoted copy), positions past the head would be handed out again, so cursors of the old epoch
     * must not be taken for positions of the new one. Returns the epoch and head now in force, whoever changed them.
     */
    public String newEpoch() {
        return "WITH changed AS (UPDATE " + quotedState + " SET epoch = " + NEW_EPOCH + ", epoch_base = last_position"
                + " WHERE epoch = $1 RETURNING epoch, last_position, epoch_base) SELECT * FROM changed UNION ALL"
                + " SELECT epoch, last_position, epoch_base FROM " + quotedState
                + " WHERE NOT EXISTS (SELECT 1 FROM changed)";
    }

    /** A random positive 52-bit number: safe in JavaScript, and two databases practically never share one. */
    private static final String NEW_EPOCH = "(floor(random() * 4503599627370495) + 1)::bigint";

    /** The session advisory lock that orders schema changes, with the {@link #lockKey()} as parameter 1. */
    public static String schemaLockSql() {
        return "hashtext($1)";
    }

    /**
     * The session advisory lock that makes one connection of the database its sequencer, with the {@link #lockKey()}
     * as parameter 1 (the two-key form, apart from {@link #schemaLockSql()}'s keys).
     */
    public static String sequencerLockSql() {
        return "hashtext($1), 1";
    }

    /**
     * The epoch, the last position, and whether the table was copied into another database or cluster (a
     * different database oid, or transaction ids behind those already seen: a dump restored elsewhere). A copy
     * must start a new epoch, or its positions would collide with the original's.
     */
    public String readState() {
        return "SELECT epoch, last_position, database_oid <> (SELECT oid FROM pg_database"
                + " WHERE datname = current_database()) OR xid_horizon > pg_current_xact_id() FROM " + quotedState;
    }

    /**
     * Starts a new epoch in a copy of the table (see {@link #readState()}). The rows still waiting for a position
     * carry transaction ids of the original cluster, which cannot be compared with this one's: they are numbered
     * first, by id.
     */
    public String startNewEpoch() {
        return "WITH fresh AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM " + quotedTable
                + " WHERE position IS NULL), "
                + "numbered AS (UPDATE " + quotedTable + " t SET position = s.last_position + fresh.rn FROM fresh, "
                + quotedState + " s WHERE t.id = fresh.id RETURNING 1) "
                + "UPDATE " + quotedState + " SET epoch = " + NEW_EPOCH + ", epoch_base = last_position, "
                + "last_position = last_position + (SELECT count(*) FROM numbered), "
                + "database_oid = (SELECT oid FROM pg_database WHERE datname = current_database()), "
                + "xid_horizon = pg_current_xact_id()";
    }

    /**
     * Writes one message (JDBC parameters: channel, payload, traceparent, key): cheaper to parse and plan than
     * {@link #insert()}.
     */
    public String insertOne() {
        return "INSERT INTO " + quotedTable + " (channel, payload, traceparent, message_key) VALUES (?, ?, ?, ?)";
    }

    /**
     * Writes a transaction's messages in one statement (JDBC parameters: channels, payloads, traceparents, keys). Row ids
     * are drawn in send order, which orders a transaction's messages among themselves.
     */
    public String insert() {
        return "INSERT INTO " + quotedTable + " (channel, payload, traceparent, message_key) SELECT c, p, t, k"
                + " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS m(c, p, t, k, n)"
                + " ORDER BY n";
    }

    /**
     * Gives positions to the committed rows that have none (reactive parameter $1: most rows at once), in one
     * statement that reads the state row without locking it: a statement that finds nothing writes nothing, and so
     * needs no commit flush. Run only by the holder of {@link #sequencerLockSql()}. Rows of transactions still in
     * progress are invisible to it and numbered by a later run; rows that became visible together are ordered by
     * transaction id, then id: a transaction that began after another committed has the larger transaction id, and
     * a transaction's rows follow their send order. Returns the last position, how many rows were numbered, some of
     * their channels (all of them when there are at most {@link #HEAD_CHANNELS}), and, for a small run, the rows as a
     * JSON array of {@code {"p": position, "c": channel, "d": payload, "t": created_at in microseconds,
     * "x": traceparent, "k": key}}; and whether the head is below $2, the highest head the sequencer's instance read, in which
     * case it numbers nothing: the database's history went back, and a new epoch must begin first.
     */
    public String sequence() {
        return "WITH s AS (SELECT last_position FROM " + quotedState + "), "
                + "fresh AS (SELECT id, row_number() OVER (ORDER BY xid, id) AS rn FROM " + quotedTable
                + " WHERE position IS NULL AND (SELECT last_position FROM s) >= $2 ORDER BY xid, id LIMIT $1), "
                + "numbered AS (UPDATE " + quotedTable + " t SET position = s.last_position + fresh.rn"
                + " FROM fresh, s WHERE t.id = fresh.id"
                + " RETURNING t.position, t.channel, t.payload, t.created_at, t.traceparent, t.message_key), "
                + "counted AS (SELECT count(*) AS n, coalesce(sum(octet_length(payload)), 0) AS bytes FROM numbered), "
                + "moved AS (UPDATE " + quotedState + " SET last_position = last_position + counted.n,"
                + " xid_horizon = pg_current_xact_id() FROM counted WHERE counted.n > 0 RETURNING last_position) "
                + "SELECT coalesce((SELECT last_position FROM moved), (SELECT last_position FROM s)),"
                + " (SELECT n FROM counted), (SELECT array_agg(channel) FROM (SELECT DISTINCT channel FROM numbered"
                + " LIMIT " + (HEAD_CHANNELS + 1) + ") c), "
                + "(SELECT json_agg(json_build_object('p', position, 'c', channel, 'd', payload, 't',"
                + " (extract(epoch FROM created_at) * 1000000)::bigint, 'x', traceparent, 'k', message_key)"
                + " ORDER BY position)"
                + " FROM numbered"
                + " WHERE (SELECT n <= " + RETURNED_ROWS + " AND bytes <= " + RETURNED_BYTES + " FROM counted)),"
                + " (SELECT last_position FROM s) < $2";
    }

    /**
     * A run that numbered at most this many rows, of at most {@link #RETURNED_BYTES} payload bytes, returns them (the
     * fourth column of {@link #sequence()}): the sequencer's own instance hands them to caught-up listeners without
     * reading them again.
     */
    public static final int RETURNED_ROWS = 100;
    public static final int RETURNED_BYTES = 64 * 1024;

    /**
     * Most channels a head wake-up names; a run that numbered messages of more channels wakes every reader (see
     * {@link #sequence()}, whose third column holds up to one more than this).
     */
    public static final int HEAD_CHANNELS = 32;

    /**
     * For an instance that is not the sequencer, whether the sequencer keeps up (reactive parameter $1: the table
     * {@link #lockKey()}): the head, whether committed rows wait for a position (cheap: the partial index of
     * unpositioned rows), the backend that holds the sequencer's lock (null if none), its role and
     * {@code application_name} (shown to every role), and whether this role may end it (a member of its role, or of
     * {@code pg_signal_backend}).
     */
    public String sequencerProgress() {
        return "SELECT (SELECT last_position FROM " + quotedState + "), EXISTS (SELECT 1 FROM " + quotedTable
                + " WHERE position IS NULL), h.pid, a.usename::text, a.application_name,"
                + " h.pid IS NOT NULL AND (coalesce(pg_has_role(a.usesysid, 'MEMBER'), false)"
                + " OR pg_has_role('pg_signal_backend', 'MEMBER'))"
                + " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT pid FROM pg_locks WHERE " + sequencerLockHeld()
                + " LIMIT 1) h ON true LEFT JOIN pg_stat_activity a ON a.pid = h.pid";
    }

    /**
     * Ends backend $2 if it still holds the sequencer's lock ($1: the {@link #lockKey()}), in one statement: a pid that
     * has let the lock go (or was reused by another session) is left alone. One row with whether PostgreSQL ended it,
     * or none when it no longer holds the lock.
     */
    public String endSequencerHolder() {
        return "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE " + sequencerLockHeld() + " AND pid = $2";
    }

    /** The rows of {@code pg_locks} that hold the {@link #sequencerLockSql()} lock, the key being $1. */
    private static String sequencerLockHeld() {
        return "locktype = 'advisory' AND granted AND objsubid = 2 AND objid = 1"
                + " AND classid = (hashtext($1)::bigint & 4294967295)::oid"
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    }

    /**
     * The oldest committed row still waiting for a position (its id), or null: cheap, from the partial index of
     * unpositioned rows. JDBC, no parameters.
     */
    String oldestUnnumbered() {
        return "SELECT min(id) FROM " + quotedTable + " WHERE position IS NULL";
    }

    /**
     * The backend that holds the sequencer's lock, with what {@code pg_stat_activity} shows of it (nulls where it
     * shows nothing to this role); no row when nobody sequences. Reactive parameter $1: the {@link #lockKey()}.
     */
    public String sequencerHolder() {
        return "SELECT l.pid, a.application_name, host(a.client_addr) FROM pg_locks l LEFT JOIN pg_stat_activity a"
                + " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.objid = 1"
                + " AND l.classid = (hashtext($1)::bigint & 4294967295)::oid"
                + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1";
    }

    /** The epoch and the last position handed out. */
    public String head() {
        return "SELECT epoch, last_position, epoch_base FROM " + quotedState;
    }

    /**
     * A page of the messages of some channels after a position, in position order, with the state read in the same
     * snapshot, for the reactive client. Parameters: $1 channels (text[]), $2 after, $3 most messages, $4 most payload
     * bytes (the first message always comes, whatever its size). Columns: epoch, last position, the highest position
     * retention deleted on those channels (null if none), then position, channel, payload, created_at, how many
     * rows there were before the byte limit cut (nulls when no message), the traceparent and the key.
     */
    public String pageOnChannels() {
        return page("channel = ANY ($1)", "b.channel = ANY ($1) AND b.position > $2", "$3", "$4");
    }

    /**
     * {@link #pageOnChannels()} for one partition of a group with partitions: $5 the number of partitions, $6 the
     * partition. Messages without a key are in partition 0.
     */
    public String pageOfPartition() {
        return page("channel = ANY ($1)", "b.channel = ANY ($1) AND b.position > $2 AND " + partitionOf("b.message_key",
                "$5") + " = $6", "$3", "$4");
    }

    /**
     * The partition of a message with key {@code key} among {@code partitions}: PostgreSQL's {@code hashtext} of the
     * key, made non-negative, modulo the number of partitions; 0 for no key. The same on every instance.
     */
    private static String partitionOf(String key, String partitions) {
        return "CASE WHEN " + key + " IS NULL THEN 0 ELSE (hashtext(" + key + ") & 2147483647) % " + partitions
                + " END";
    }

    /** {@link #pageOnChannels()} for JDBC: parameters channels, channels, after, most, bytes. */
    String pageOnChannelsJdbc() {
        return pageOnChannels().replaceAll("\\$\\d", "?");
    }

    /**
     * {@link #pageOnChannels()} for every channel: $1 after, $2 most messages, $3 most bytes; the third column is null.
     */
    public String pageOfAll() {
        return page("false", "b.position > $1", "$2", "$3");
    }

    private String page(String purgedFilter, String rowFilter, String most, String bytes) {
        // Innermost: at most `most` rows after the position; then their count and running byte total; outermost: the
        // rows that start within the byte budget (the first always does).
        return "SELECT s.epoch, s.last_position, (SELECT max(through) FROM " + quotedPurged + " WHERE " + purgedFilter
                + "), m.position, m.channel, m.payload, m.created_at, m.fetched, m.traceparent, m.message_key FROM "
                + quotedState + " s LEFT JOIN LATERAL (SELECT y.position, y.channel, y.payload, y.created_at,"
                + " y.fetched, y.traceparent, y.message_key FROM ("
                + "SELECT x.*, count(*) OVER () AS fetched,"
                + " sum(octet_length(x.payload)) OVER (ORDER BY x.position) AS running FROM ("
                + "SELECT b.position, b.channel, b.payload, b.created_at, b.traceparent, b.message_key FROM "
                + quotedTable + " b"
                + " WHERE " + rowFilter + " ORDER BY b.position LIMIT " + most + ") x) y"
                + " WHERE y.running - octet_length(y.payload) < " + bytes + ") m ON true"
                + " ORDER BY m.position";
    }

    /**
     * Deletes a batch of positioned rows older than a cutoff, skipping rows another instance is deleting, and records
     * per channel the highest position deleted. Rows without a position are never deleted: their readers have not
     * seen them yet. Nor are rows a durable consumer group has not passed, unless older than the second cutoff, or
     * the group's position has not moved for its expiry. JDBC parameters: cutoff, the groups' cutoff, the names of
     * the groups with their own expiry (text[]) and those expiries in seconds (bigint[]), the default expiry in
     * seconds, the batch size.
     */
    String deleteOlderThan() {
        return "WITH doomed AS (DELETE FROM " + quotedTable + " WHERE id IN (SELECT t.id FROM " + quotedTable + " t"
                + " WHERE t.created_at < ? AND t.position IS NOT NULL AND (t.created_at < ? OR NOT EXISTS (SELECT 1 FROM "
                + quotedGroups + " g WHERE g.channel = t.channel AND g.position < t.position AND g.updated_at > now()"
                + " - make_interval(secs => coalesce((SELECT x.e FROM unnest(?::text[], ?::bigint[]) AS x(n, e)"
                + " WHERE x.n = g.group_name), ?))))"
                + " ORDER BY t.created_at LIMIT ? FOR UPDATE SKIP LOCKED)"
                + " RETURNING channel, position), "
                + "recorded AS (INSERT INTO " + quotedPurged + " (channel, through)"
                + " SELECT channel, max(position) FROM doomed GROUP BY channel"
                + " ON CONFLICT (channel) DO UPDATE SET through = greatest(" + quotedPurged + ".through,"
                + " excluded.through)) "
                + "SELECT count(*) FROM doomed";
    }

    /** A name of the table's schema, quoted. */
    private String qualified(String name) {
        return quote(schema) + "." + quote(name);
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
