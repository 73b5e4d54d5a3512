package io.quarkiverse.busaltconnection.runtime.store;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The bus table, its companions, and everything said to PostgreSQL about them. Identifiers come from configuration and
 * are quoted as identifiers; channels and payloads are always bind parameters.
 * <p>
 * Each message is written once. A sender inserts a row into the bus table and nothing else: no lock, no NOTIFY in its
 * transaction (a transaction that writes and notifies holds PostgreSQL's cluster-wide NOTIFY lock through its commit
 * flush, which serializes every such commit). Each row records its transaction's id ({@code xid}, xid8); the table's
 * one index is on {@code (xid, id)}. The one sequencer of the database gives the committed rows their positions by
 * inserting a narrow row per message into {@code _positions} (position, channel, the message's xid and id, when it was
 * numbered): numbers without gaps, in the order the messages became visible, and by transaction id and then row id
 * among messages that became visible together (see {@link #sequence()}). The state row remembers the snapshot of the
 * last run that numbered messages: the messages of transactions it does not see are the ones still to number, found
 * through the index on {@code xid}, so no row is ever rewritten to mark it numbered.
 * <p>
 * The message table and {@code _positions} are partitioned alike into {@link #SLOTS} slots by the message id
 * ({@link #slotOf}): a message and its position are in the same slot, the tables named after the table with the
 * suffixes {@code _k} and {@code _positions_k}. Senders write one slot at a time, and retention empties the others
 * whole ({@link BusSlots}).
 * <p>
 * Companions, named after the table with a suffix: {@code _positions}; {@code _state}, one row with the epoch, the last
 * position handed out and that snapshot; {@code _purged}, per channel the highest position retention deleted, so that a
 * reader behind it learns what it lost; {@code _groups}, the positions of durable consumer groups.
 */
public final class BusTable {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,49}");

    /** The schema whose tables keep the lock keys of versions that did not qualify the table with its schema. */
    private static final String DEFAULT_SCHEMA = "public";

    private final String schema;
    private final String table;
    private final String quotedTable;
    private final String quotedSequence;
    private final String quotedPositions;
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
        this.quotedPositions = qualified(table + "_positions");
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
                + quotedPositions + " WHERE channel = ?), s.last_position)"
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
     * so that instances starting together run them one after the other. Tables of earlier versions keep their rows
     * and positions: see {@link #adoptEarlierVersions()}.
     */
    public List<String> createSchema() {
        List<String> statements = new ArrayList<>(List.of(
                "CREATE SEQUENCE IF NOT EXISTS " + quotedSequence,
                "CREATE TABLE IF NOT EXISTS " + quotedTable + " ("
                        + "id bigint NOT NULL DEFAULT nextval(" + literal(quotedSequence) + "), "
                        + "xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
                        + "channel text NOT NULL, "
                        + "payload text NOT NULL, "
                        + "created_at timestamptz NOT NULL DEFAULT now(), "
                        + "traceparent text, "
                        + "message_key text)",
                // Upgrade from the send-function version: its function took a lock and notified inside the sender's
                // transaction; an instance of that version still running now fails loudly instead of serializing.
                "DROP FUNCTION IF EXISTS " + qualified(table + "_send") + "(text[], text[])",
                "ALTER TABLE " + quotedTable + " ALTER COLUMN id SET DEFAULT nextval(" + literal(quotedSequence) + ")",
                "ALTER TABLE " + quotedTable + " ADD COLUMN IF NOT EXISTS xid xid8",
                // The W3C trace context of a traced send (OpenTelemetry), for the listener's span to link to.
                "ALTER TABLE " + quotedTable + " ADD COLUMN IF NOT EXISTS traceparent text",
                // The key of a keyed send: a group with partitions delivers one key's messages in one partition.
                "ALTER TABLE " + quotedTable + " ADD COLUMN IF NOT EXISTS message_key text",
                "CREATE TABLE IF NOT EXISTS " + quotedPositions + " ("
                        + "position bigint PRIMARY KEY, "
                        + "channel text NOT NULL, "
                        + "xid xid8 NOT NULL, "
                        + "id bigint NOT NULL, "
                        + "numbered_at timestamptz NOT NULL DEFAULT now(), "
                        + "key_hash integer)",
                // The key's hash, written by the sequencer, so that a partition's reader skips the other partitions'
                // messages without reading their rows (null: numbered by an earlier version, the key is read).
                "ALTER TABLE " + quotedPositions + " ADD COLUMN IF NOT EXISTS key_hash integer",
                "CREATE INDEX IF NOT EXISTS " + quote(table + "_positions_channel_idx") + " ON " + quotedPositions
                        + " (channel, position)",
                "CREATE TABLE IF NOT EXISTS " + quotedState + " ("
                        + "singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), "
                        + "epoch bigint NOT NULL, "
                        + "last_position bigint NOT NULL, "
                        + "database_oid oid NOT NULL, "
                        + "xid_horizon xid8 NOT NULL, "
                        + "epoch_base bigint NOT NULL DEFAULT 0, "
                        + "numbered pg_snapshot, "
                        + "awake_until timestamptz)",
                // Where the current epoch began: a reader of an older one goes back there.
                "ALTER TABLE " + quotedState + " ADD COLUMN IF NOT EXISTS epoch_base bigint NOT NULL DEFAULT 0",
                // The snapshot of the last run that numbered messages.
                "ALTER TABLE " + quotedState + " ADD COLUMN IF NOT EXISTS numbered pg_snapshot",
                // Until when the sequencer looks on its own (PostgreSQL's clock): senders skip their wake-up until then.
                // (The previous version's numbered_at stays: its instances still running during an upgrade read it,
                // find it old, and so wake the sequencer at every commit, as they must now.)
                "ALTER TABLE " + quotedState + " ADD COLUMN IF NOT EXISTS awake_until timestamptz",
                adoptEarlierVersions(),
                "ALTER TABLE " + quotedState + " ALTER COLUMN numbered SET NOT NULL",
                "ALTER TABLE " + quotedTable + " ALTER COLUMN xid SET DEFAULT pg_current_xact_id(),"
                        + " ALTER COLUMN xid SET NOT NULL",
                // The table's one index: how the sequencer finds the messages of the transactions it has not seen,
                // and how a reader finds a message from its position.
                "CREATE INDEX IF NOT EXISTS " + quote(table + "_xid_idx") + " ON " + quotedTable + " (xid, id)",
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
                "ALTER TABLE " + quotedGroups + " ADD COLUMN IF NOT EXISTS partitions integer NOT NULL DEFAULT 1"));
        // Last, the slots (see SLOTS): a table created above, or kept from an earlier version, becomes slot 0 with its
        // indexes.
        statements.addAll(intoSlots(table));
        statements.addAll(intoSlots(table + "_positions"));
        for (int k = 1; k < SLOTS; k++) {
            statements.add("CREATE TABLE IF NOT EXISTS " + slot(table, k) + " PARTITION OF " + quotedTable
                    + " FOR VALUES IN (" + k + ")");
            statements.add("CREATE TABLE IF NOT EXISTS " + slot(table + "_positions", k) + " PARTITION OF "
                    + quotedPositions + " FOR VALUES IN (" + k + ")");
            // Positions are unique within each slot, as in slot 0 by its primary key (a partitioned table's unique
            // index must hold its key's columns, and the key is an expression); the sequencer alone hands them out.
            statements.add("CREATE UNIQUE INDEX IF NOT EXISTS " + quote(table + "_pos_" + k + "_key") + " ON "
                    + slot(table + "_positions", k) + " (position)");
        }
        // The partitioned tables' indexes: slot 0's are attached as they are, the other slots' built.
        statements.add("CREATE INDEX IF NOT EXISTS " + quote(table + "_xid_id") + " ON " + quotedTable + " (xid, id)");
        statements.add("CREATE INDEX IF NOT EXISTS " + quote(table + "_pos_channel") + " ON " + quotedPositions
                + " (channel, position)");
        statements.add(createSendOne());
        return statements;
    }

    /**
     * How many slots the message table and the positions table each have: partitions by {@link #slotOf slot}, from
     * the message id, so that a message and its position are in the same slot. Senders write one at a time (see
     * {@link BusSlots}).
     */
    public static final int SLOTS = 4;

    /**
     * A row's slot, from the message id (column {@code id}, of both tables): which block of 2^40 ids it is in, modulo
     * {@link #SLOTS}. The tables' partition key; a statement that finds a message from its position says so, that
     * PostgreSQL reads the one slot it is in. Written exactly so everywhere: PostgreSQL compares expressions as written.
     */
    static String slotOf(String alias) {
        return "(((" + alias + "id / 1099511627776) % " + SLOTS + ")::int)";
    }

    /** Slot {@code k} of the table named {@code name}, quoted. */
    private String slot(String name, int k) {
        return qualified(name + "_" + k);
    }

    /**
     * Makes the plain table {@code name} (created above, or kept from an earlier version) slot 0 of a table of that
     * name partitioned by {@link #slotOf slot}; nothing if it is partitioned already. Every id so far is below 2^40, in
     * slot 0: a constraint that says so spares PostgreSQL the scan when it attaches the table. Three transactions, so
     * that writers wait only for the first and the last, which read nothing: adding the constraint unchecked, checking
     * it (which blocks no writer), then the swap.
     */
    private List<String> intoSlots(String name) {
        String plain = qualified(name);
        String zero = qualified(name + "_0");
        String slot = slotOf("");
        String check = name + "_slot_0";
        String stillPlain = "(SELECT relkind FROM pg_class WHERE oid = to_regclass(" + literal(plain) + ")) = 'r'";
        String hasCheck = "EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(" + literal(plain)
                + ") AND conname = " + literal(check) + ")";
        return List.of(
                "DO " + literal("BEGIN IF " + stillPlain + " AND NOT " + hasCheck + " THEN EXECUTE "
                        + literal("ALTER TABLE " + plain + " ADD CONSTRAINT " + quote(check) + " CHECK (" + slot
                                + " IS NOT NULL AND " + slot + " = 0) NOT VALID")
                        + "; END IF; END"),
                "DO " + literal("BEGIN IF " + stillPlain + " THEN EXECUTE " + literal("ALTER TABLE " + plain
                        + " VALIDATE CONSTRAINT " + quote(check)) + "; END IF; END"),
                "DO " + literal("BEGIN IF " + stillPlain + " THEN\n"
                        + "EXECUTE " + literal("LOCK TABLE " + plain + " IN ACCESS EXCLUSIVE MODE") + ";\n"
                        + "EXECUTE " + literal("ALTER TABLE " + plain + " RENAME TO " + quote(name + "_0")) + ";\n"
                        + "EXECUTE " + literal("CREATE TABLE " + plain + " (LIKE " + zero + " INCLUDING DEFAULTS)"
                                + " PARTITION BY LIST (" + slot + ")")
                        + ";\n"
                        + "EXECUTE " + literal("ALTER TABLE " + plain + " ATTACH PARTITION " + zero
                                + " FOR VALUES IN (0)")
                        + ";\n"
                        + "EXECUTE " + literal("ALTER TABLE " + zero + " DROP CONSTRAINT " + quote(check)) + ";\n"
                        + "END IF; END"));
    }

    /**
     * Once per table, in one transaction: the state row and the snapshot from which the sequencer numbers. An empty
     * new table starts at position 0. A table of an earlier version keeps its messages and their positions, which move
     * to {@code _positions}: the version before this one kept them in a {@code position} column that its sequencer
     * rewrote (dropped here, with its indexes, so that an instance of that version still running fails loudly instead
     * of numbering into it); the send-function version before that wrote ids in commit order, which are the positions.
     * Committed messages that version had not numbered yet get the next positions. The table is locked meanwhile
     * (ACCESS EXCLUSIVE): no sender commits between those last positions and the snapshot the sequencer starts from.
     */
    private String adoptEarlierVersions() {
        String hasPosition = "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = " + literal(quotedTable)
                + "::regclass AND attname = 'position' AND NOT attisdropped)";
        String body = "BEGIN\n"
                + "IF EXISTS (SELECT 1 FROM " + quotedState + " WHERE numbered IS NOT NULL) THEN RETURN; END IF;\n"
                + "LOCK TABLE " + quotedTable + " IN ACCESS EXCLUSIVE MODE;\n"
                + "IF " + hasPosition + " THEN\n"
                + "  EXECUTE " + literal("INSERT INTO " + quotedPositions + " (position, channel, xid, id, numbered_at)"
                        + " SELECT position, channel, coalesce(xid, '0'), id, created_at FROM " + quotedTable
                        + " WHERE position IS NOT NULL")
                + ";\n"
                + "ELSE\n"
                + "  INSERT INTO " + quotedPositions + " (position, channel, xid, id, numbered_at) SELECT id, channel,"
                + " '0', id, created_at FROM " + quotedTable + " WHERE xid IS NULL;\n"
                + "END IF;\n"
                + "UPDATE " + quotedTable + " SET xid = '0' WHERE xid IS NULL;\n"
                + "INSERT INTO " + quotedState + " (epoch, last_position, database_oid, xid_horizon) SELECT " + NEW_EPOCH
                + ", coalesce((SELECT max(position) FROM " + quotedPositions + "), 0), (SELECT oid FROM pg_database"
                + " WHERE datname = current_database()), pg_current_xact_id() ON CONFLICT DO NOTHING;\n"
                + "INSERT INTO " + quotedPositions + " (position, channel, xid, id) SELECT s.last_position"
                + " + row_number() OVER (ORDER BY b.xid, b.id), b.channel, b.xid, b.id FROM " + quotedTable + " b, "
                + quotedState + " s WHERE NOT EXISTS (SELECT 1 FROM " + quotedPositions
                + " p WHERE p.xid = b.xid AND p.id = b.id);\n"
                + "UPDATE " + quotedState + " SET last_position = greatest(last_position, (SELECT coalesce(max(position),"
                + " 0) FROM " + quotedPositions + ")), numbered = pg_current_snapshot();\n"
                + "IF " + hasPosition + " THEN\n"
                + "  EXECUTE " + literal("ALTER TABLE " + quotedTable + " DROP COLUMN position") + ";\n"
                + "END IF;\n"
                + "DROP INDEX IF EXISTS " + qualified(table + "_created_at_idx") + ";\n"
                + "EXECUTE " + literal("ALTER TABLE " + quotedTable + " DROP CONSTRAINT IF EXISTS "
                        + quote(table + "_pkey"))
                + ";\n"
                + "END";
        return "DO " + literal(body);
    }

    /**
     * Whether {@link #createSchema()} already ran to the end: its last objects exist, and the columns of earlier
     * versions are gone. Checked before taking the schema lock, because even an {@code IF NOT EXISTS} statement locks
     * the table and would wait behind, and then block, the application's transactions.
     */
    public String schemaIsCurrent() {
        return "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND (SELECT count(*) FROM (VALUES"
                + " ($3::text, 'traceparent'), ($3::text, 'message_key'), ($4::text, 'epoch_base'),"
                + " ($1::text, 'partitions'), ($4::text, 'numbered'), ($4::text, 'awake_until'),"
                + " ($5::text, 'key_hash')) AS c(rel, col)"
                + " WHERE EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(c.rel) AND attname = c.col"
                + " AND NOT attisdropped AND (attnotnull OR c.col <> 'numbered'))) = 7 AND to_regclass($5) IS NOT NULL"
                + " AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($3) AND attname = 'position'"
                + " AND NOT attisdropped) AND (SELECT count(*) FROM pg_class WHERE oid IN (to_regclass($3),"
                + " to_regclass($5)) AND relkind = 'p') = 2"
                + " AND (SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure($6)) IS NOT DISTINCT FROM $7";
    }

    /**
     * The parameters of {@link #schemaIsCurrent()}: the last objects {@link #createSchema()} creates, the tables
     * that must be partitioned into slots, and the send function with its body in this version.
     */
    public List<Object> lastSchemaObjects() {
        return List.of(quotedGroups, qualified(table + "_pos_channel"), quotedTable, quotedState, quotedPositions,
                sendOneSignature(), sendOneBody());
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
     * Whether the state row comes from another database or cluster: a different database oid, or transaction ids
     * beyond this cluster's (a dump restored elsewhere, a logical copy). Such a copy must start a new epoch, or its
     * positions would collide with the original's; and its transaction ids cannot be compared with this cluster's,
     * so the sequencer numbers nothing there before {@link #startNewEpoch()}.
     */
    private static String copied() {
        // The snapshot's xmax: the first transaction id not yet handed out. (pg_current_xact_id() would give the
        // statement a transaction id of its own, and so a commit record, at every read of the head.)
        return "(database_oid <> (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " OR xid_horizon >= pg_snapshot_xmax(pg_current_snapshot()))";
    }

    /**
     * Starts a new epoch in a copy of the table (see {@link #copied()}), if the state row is still in epoch $1
     * (reactive). Transaction ids written by the original cluster mean nothing in this one: those at or past the oldest
     * running transaction are set to 0 (in both tables, which join on them), so that the sequencer never takes them
     * for this cluster's; the committed messages without a position are numbered first, by id; and the sequencer starts
     * from this snapshot. Returns the epoch and head now in force, whoever changed them.
     */
    public String startNewEpoch() {
        return "WITH s AS (SELECT last_position FROM " + quotedState + " WHERE epoch = $1), "
                + "now AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin), "
                + "fresh AS (SELECT b.xid, b.id, b.channel, b.message_key, row_number() OVER (ORDER BY b.id) AS rn FROM "
                + quotedTable
                + " b WHERE EXISTS (SELECT 1 FROM s) AND NOT EXISTS (SELECT 1 FROM " + quotedPositions
                + " p WHERE p.xid = b.xid AND p.id = b.id)), "
                + "numbered AS (INSERT INTO " + quotedPositions + " (position, channel, xid, id, key_hash) SELECT"
                + " s.last_position + fresh.rn, fresh.channel, CASE WHEN fresh.xid >= now.xmin THEN '0'::xid8 ELSE"
                + " fresh.xid END, fresh.id, " + KEY_HASH_OF + " FROM fresh, s, now RETURNING 1), "
                + "cleared AS (UPDATE " + quotedTable + " b SET xid = '0' FROM now WHERE EXISTS (SELECT 1 FROM s)"
                + " AND b.xid >= now.xmin RETURNING 1), "
                + "cleared_positions AS (UPDATE " + quotedPositions + " p SET xid = '0' FROM now WHERE EXISTS"
                + " (SELECT 1 FROM s) AND p.xid >= now.xmin RETURNING 1), "
                + "changed AS (UPDATE " + quotedState + " SET epoch = " + NEW_EPOCH + ", epoch_base = last_position, "
                + "last_position = last_position + (SELECT count(*) FROM numbered), "
                + "database_oid = (SELECT oid FROM pg_database WHERE datname = current_database()), "
                + "xid_horizon = pg_current_xact_id(), numbered = pg_current_snapshot()"
                + " WHERE epoch = $1 AND (SELECT count(*) FROM cleared) >= 0"
                + " AND (SELECT count(*) FROM cleared_positions) >= 0 RETURNING epoch, last_position, epoch_base) "
                + "SELECT * FROM changed UNION ALL SELECT epoch, last_position, epoch_base FROM " + quotedState
                + " WHERE NOT EXISTS (SELECT 1 FROM changed)";
    }

    /**
     * A sender's wake-up for the sequencer after a commit (JDBC parameter: {@link #writtenChannel()}), unless the state
     * row says the sequencer looks on its own until later than now ({@code awake_until}, PostgreSQL's clock, set by the
     * runs that number messages: see {@link #sequence()}): it will see the commit without being told. Skipped, the
     * wake-up is a read: no transaction id, no commit record. One clock for both sides, the server's, whatever the
     * instances' clocks say; a time more than {@link #MAX_AWAKE_MILLIS} ahead (the server's clock went back) counts
     * as none. One row: its column is null when it notified, else how many ms the sequencer still looks on its own,
     * during which the sender need not even ask.
     */
    public String wakeUp() {
        return wakeUp("?");
    }

    /** {@link #wakeUp()} with its channel given as {@code channel}: a JDBC or a Vert.x parameter. */
    private String wakeUp(String channel) {
        String awake = awake();
        return "SELECT NULL::float8 FROM (SELECT pg_notify(" + channel + ", '') WHERE NOT EXISTS (SELECT 1 FROM " + quotedState
                + " WHERE " + awake + ")) n UNION ALL SELECT extract(epoch FROM awake_until - statement_timestamp())"
                + "::float8 * 1000"
                + " FROM " + quotedState + " WHERE " + awake;
    }

    /**
     * Whether the state row says the sequencer looks on its own now: until {@code awake_until}, by the server's clock,
     * unless that is implausibly far ahead (the clock went back).
     */
    private static String awake() {
        return "awake_until > statement_timestamp() AND awake_until <= statement_timestamp() + interval '"
                + MAX_AWAKE_MILLIS + " milliseconds'";
    }

    /** The longest a run may say the sequencer looks on its own ({@link #wakeUp()}). */
    public static final int MAX_AWAKE_MILLIS = 500;

    /**
     * {@link #insertOne()} carrying its own wake-up (JDBC parameters: those of {@link #insertOne()}, then
     * {@link #writtenChannel()}): {@link #wakeUp()}'s question and answer in the sending transaction, whose commit
     * delivers the notification. No transaction of its own, so no transaction id and no round trip of its own; it holds
     * PostgreSQL's NOTIFY lock through the sender's commit flush, which is why senders carry it only while the
     * sequencer does not look on its own: then senders are few, or the first of a burst.
     */
    public String insertOneWaking() {
        return waking(insertOne());
    }

    /** {@link #insert()} carrying its own wake-up, as {@link #insertOneWaking()} (the channel is the fifth parameter). */
    public String insertWaking() {
        return waking(insert());
    }

    /**
     * {@link #insertOneReactive()} carrying its own wake-up, as {@link #insertOneWaking()} (the channel is {@code $5}):
     * in the caller's transaction when it has one, whose commit delivers the notification.
     */
    public String insertOneReactiveWaking() {
        return waking(insertOneReactive(), "$5");
    }

    private String waking(String insert) {
        return waking(insert, "?");
    }

    private String waking(String insert, String channel) {
        return "WITH written AS (" + insert + ") " + wakeUp(channel);
    }

    /**
     * Writes one message (JDBC parameters: channel, payload, traceparent, key): cheaper to parse and plan than
     * {@link #insert()}.
     */
    public String insertOne() {
        return "INSERT INTO " + quotedTable + " (channel, payload, traceparent, message_key) VALUES (?, ?, ?, ?)";
    }

    /** {@link #insertOne()} for the Vert.x client (parameters {@code $1} to {@code $4}). */
    public String insertOneReactive() {
        return "INSERT INTO " + quotedTable + " (channel, payload, traceparent, message_key) VALUES ($1, $2, $3, $4)";
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
     * The first {@code most} messages, in (xid, id) order, of the transactions that the snapshot of the last numbering
     * run did not see: of those, the committed ones are still to be numbered. Two ordered scans of the index on
     * {@code (xid, id)}, merged, each from a value read once: the transactions that began after that snapshot, and the
     * few it saw running. (Written so because the planner cannot know how few rows the first value leaves: without the
     * order and the limit it would read the whole table.) Columns: xid, id, channel.
     */
    private String firstUnseen(String most) {
        return "(SELECT u.xid, u.id, u.channel, u.message_key FROM ((SELECT b.xid, b.id, b.channel, b.message_key FROM "
                + quotedTable + " b WHERE b.xid >= (SELECT pg_snapshot_xmax(numbered) FROM " + quotedState
                + ") ORDER BY b.xid, b.id LIMIT " + most + ") UNION ALL (SELECT b.xid, b.id, b.channel, b.message_key"
                + " FROM " + quotedTable + " b WHERE b.xid = ANY"
                + " ((SELECT ARRAY(SELECT pg_snapshot_xip(numbered)) FROM " + quotedState + ")::xid8[])"
                + " ORDER BY b.xid, b.id LIMIT " + most + ")) u ORDER BY u.xid, u.id LIMIT " + most + ")";
    }

    /**
     * Numbers the committed messages that have no position yet (reactive parameter $1: about the most at once), in one
     * statement that reads the state row without locking it: a statement that finds nothing writes nothing, and so
     * needs no commit flush. Run only by the holder of {@link #sequencerLockSql()}.
     * <p>
     * The messages to number are the committed ones of the transactions the state's snapshot did not see
     * ({@link #firstUnseen}); messages of transactions still in progress are invisible to the statement and numbered by a
     * later run. They are ordered by transaction id, then id: a transaction that began after another committed has
     * the larger transaction id, and a transaction's rows follow their send order. Each gets a row in
     * {@code _positions}, and the state row the statement's snapshot ({@code pg_current_snapshot()} is the
     * statement's). A run that would number more than $1 messages stops after the transaction of the $1st, whole: it
     * numbers the transactions up to that one, and the snapshot it stores sees those and nothing after them.
     * <p>
     * Returns the last position, how many messages were numbered, some of their channels (all of them when there are
     * at most {@link #HEAD_CHANNELS}), and, for a small run, the messages as a JSON array of {@code {"p": position,
     * "c": channel, "d": payload, "t": created_at in microseconds, "x": traceparent, "k": key}}; and whether the head
     * is below $2, the highest head the sequencer's instance read, or the state row comes from a copy ({@link
     * #copied()}), in which case it numbers nothing: the database's history changed, and a new epoch must begin first;
     * and whether it found messages but numbered none, because a send numbered its own since this statement read the
     * state row ({@link #insertOneNumbering()}): then it runs again.
     * <p>
     * A run that numbered messages sets {@code awake_until} to $4 ms after its update (the clock's time, not the
     * transaction's start: a long run's start would leave senders less time than the sequencer looks on its own).
     * <p>
     * A run that numbered messages also tells every instance, in the same transaction: a NOTIFY on $3, the head channel,
     * whose payload is the head hint ({@code {"h": head, "c": [channels]}}, the channels left out when more than
     * {@link #HEAD_CHANNELS} or too long), delivered when it commits. One transaction per run, not two: a transaction
     * id and a commit record fewer. It holds PostgreSQL's NOTIFY lock through its commit flush, which only other
     * notifying transactions wait for: the senders write without notifying, and most of their wake-ups are skipped
     * while the sequencer is busy.
     */
    public String sequence() {
        return "WITH s AS (SELECT epoch, last_position, numbered, last_position < $2 OR " + copied() + " AS changed FROM "
                + quotedState + " LIMIT 1), "
                + "cand AS (SELECT u.xid, u.id, u.channel, u.message_key FROM " + firstUnseen("$1") + " u WHERE NOT"
                + " (SELECT changed"
                + " FROM s)), "
                + "last AS (SELECT xid, id FROM cand ORDER BY xid DESC, id DESC LIMIT 1), "
                + "cut AS (SELECT last.xid, last.id FROM last WHERE (SELECT count(*) FROM cand) >= $1), "
                // The rest of the last transaction of a cut run.
                // By index from the cut (the order keeps PostgreSQL from making it a join, which it planned as a
                // hash of every slot, the slots' parent having no statistics of its own).
                + "rest AS (SELECT r.* FROM cut CROSS JOIN LATERAL (SELECT b.xid, b.id, b.channel, b.message_key FROM "
                + quotedTable + " b WHERE b.xid = cut.xid AND b.id > cut.id ORDER BY b.id) r), "
                + "fresh AS (SELECT xid, id, channel, message_key, row_number() OVER (ORDER BY xid, id) AS rn FROM"
                + " (SELECT * FROM cand UNION ALL SELECT * FROM rest) f), "
                + "counted AS (SELECT count(*) AS n FROM fresh), "
                // Only if the state row is still the one this statement read: a sending transaction that numbered its
                // own messages since (see numbering()) changed it, and then this run writes nothing (after waiting
                // for that transaction, which holds the row) and runs again.
                + "moved AS (UPDATE " + quotedState + " SET last_position = last_position + counted.n,"
                + " xid_horizon = pg_current_xact_id(), awake_until = clock_timestamp() + $4::bigint * interval '1 millisecond',"
                + " numbered = coalesce(" + cutSnapshot() + ", pg_current_snapshot())"
                + " FROM counted WHERE counted.n > 0 AND epoch = (SELECT epoch FROM s)"
                + " AND last_position = (SELECT last_position FROM s) RETURNING last_position), "
                + "numbered AS (INSERT INTO " + quotedPositions + " (position, channel, xid, id, key_hash)"
                + " SELECT s.last_position + fresh.rn, fresh.channel, fresh.xid, fresh.id, " + KEY_HASH_OF
                + " FROM fresh, s WHERE EXISTS (SELECT 1 FROM moved)"
                + " RETURNING position, channel, xid, id), "
                // Each message by its index entry: PostgreSQL's generic plan cannot know how few a run numbers, and
                // joined otherwise it hashed the whole message table at every run.
                + "small AS (SELECT p.position, p.channel, b.payload, b.created_at, b.traceparent, b.message_key FROM"
                + " numbered p CROSS JOIN LATERAL (SELECT m.payload, m.created_at, m.traceparent, m.message_key FROM "
                + quotedTable + " m WHERE m.xid = p.xid AND m.id = p.id AND " + slotOf("m.") + " = " + slotOf("p.")
                + " LIMIT 1) b"
                + " WHERE (SELECT n FROM counted) <= " + RETURNED_ROWS + ") "
                + "SELECT coalesce((SELECT last_position FROM moved), (SELECT last_position FROM s)),"
                + " (SELECT count(*) FROM numbered), (SELECT array_agg(channel) FROM (SELECT DISTINCT channel FROM numbered"
                + " LIMIT " + (HEAD_CHANNELS + 1) + ") c), "
                + "(SELECT CASE WHEN sum(octet_length(payload)) <= " + RETURNED_BYTES + " THEN json_agg(json_build_object("
                + "'p', position, 'c', channel, 'd', payload, 't', (extract(epoch FROM created_at) * 1000000)::bigint,"
                + " 'x', traceparent, 'k', message_key) ORDER BY position) END FROM small),"
                + " (SELECT changed FROM s), "
                + "(SELECT pg_notify($3, " + headHint("m.last_position", "c.names") + ") FROM moved m, (SELECT"
                + " array_agg(channel) AS names FROM (SELECT DISTINCT channel FROM numbered LIMIT " + (HEAD_CHANNELS + 1)
                + ") d) c), "
                + "(SELECT n FROM counted) > 0 AND NOT EXISTS (SELECT 1 FROM moved)";
    }

    /**
     * The head hint's payload for the head {@code head} and the channel names {@code names} (a text array, null for
     * none): {@code {"h": head, "c": [channels]}}, the channels left out when more than {@link #HEAD_CHANNELS} or too
     * long.
     */
    private static String headHint(String head, String names) {
        return "CASE WHEN " + names + " IS NOT NULL AND cardinality(" + names + ") <= " + HEAD_CHANNELS
                + " AND octet_length(json_build_object('h', " + head + ", 'c', " + names + ")::text) < "
                + HEAD_HINT_BYTES + " THEN json_build_object('h', " + head + ", 'c', " + names + ")::text"
                + " ELSE json_build_object('h', " + head + ")::text END";
    }

    /**
     * A send of one message outside any transaction (JDBC parameters: those of {@link #insertOne()}, then
     * {@link #writtenChannel()}, {@link #headChannel()}, and the highest head the instance read from the database):
     * writes it and numbers it too when it can, in the
     * {@link #sendOneFunction() function} that holds {@link #numbering}'s statement. One row: the position it gave
     * (null when it numbered nothing), and the wake-up's answer (see {@link #wakeUp()}; null when it notified or
     * numbered).
     */
    public String insertOneNumbering() {
        return "SELECT numbered_through, awake_ms FROM " + sendOneFunction() + "(?, ?, ?, ?, ?, ?, ?)";
    }

    /** {@link #insertOneNumbering()} with Vert.x parameters ($1 to $7). */
    public String insertOneReactiveNumbering() {
        return "SELECT numbered_through, awake_ms FROM " + sendOneFunction() + "($1, $2, $3, $4, $5, $6, $7)";
    }

    /**
     * The function a send outside any transaction calls. A function because its statement is long (about ten CTEs
     * over the slotted tables): the pooled path's statements are planned at every execution (PgBouncer in transaction
     * mode keeps no prepared statement), and planning it took longer than running it, while PL/pgSQL keeps its plans
     * per server connection, which PgBouncer keeps open. Its settings ({@link #SEND_ONE_SETTINGS}): the generic plan
     * from the first call (PostgreSQL would otherwise plan the first five calls on each connection, and then keep
     * planning every call where the generic plan's estimate, over all slots, came out dearer), and the listening
     * session's settings (see {@code ListenerConnection.SESSION_SETTINGS}), since its plans are kept too.
     */
    private String sendOneFunction() {
        return qualified(table + "_send_one");
    }

    /** {@link #sendOneFunction()} with its arguments' types, as {@code to_regprocedure} reads it. */
    private String sendOneSignature() {
        return sendOneFunction() + "(text,text,text,text,text,text,bigint)";
    }

    /** The body of {@link #sendOneFunction()}, as PostgreSQL keeps it: {@link #schemaIsCurrent()} compares it. */
    private String sendOneBody() {
        return "\n#variable_conflict use_column\nBEGIN\nRETURN QUERY " + sendOneStatement() + ";\nEND\n";
    }

    /**
     * The statement {@link #sendOneFunction()} runs, with its parameters ($1 to $6: those of
     * {@link #insertOneReactiveNumbering()}): see {@link #numbering}.
     */
    public String sendOneStatement() {
        return numbering(insertOneReactive(), "$5", "$6", "$7");
    }

    /** The settings {@link #sendOneFunction()} runs with, as {@code SET} statements. */
    public static final String SEND_ONE_SETTINGS = "SET jit = off; SET enable_seqscan = off;"
            + " SET plan_cache_mode = force_generic_plan";

    /** Creates {@link #sendOneFunction()}, or replaces it with this version's. */
    private String createSendOne() {
        return "CREATE OR REPLACE FUNCTION " + sendOneSignature() + " RETURNS TABLE (numbered_through bigint,"
                + " awake_ms double precision) LANGUAGE plpgsql VOLATILE " + SEND_ONE_SETTINGS.replace(";", "")
                + " AS "
                + literal(sendOneBody());
    }

    /** Most transaction ids between the statement's snapshot and its own for {@link #numbering}: see {@link #ownSeen}. */
    static final int NUMBERING_XID_SPAN = 1_000;

    /**
     * A statement that is a transaction of its own (a send outside any transaction) writes its messages with
     * {@code insert} and, when nothing else waits for a position, numbers them too: the sequencer need not run, and
     * every instance hears of them with the commit (the head hint, on {@code headChannel}), one commit and no round
     * trip sooner than through a run. Only while the sequencer does not look on its own ({@code awake_until}; while it
     * does, it numbers them within a poll anyway), when no committed message waits for a position (the messages of
     * transactions that committed before are numbered first, by the sequencer: they come before), and when it takes
     * the state row without waiting ({@code SKIP LOCKED}) and finds it as its snapshot read it: a run or another sender
     * that numbered since makes it fall back; so does a head below {@code knownHead}, the highest the sender's
     * instance read (the database is then an earlier copy of itself: the run that finds so starts a new epoch, see
     * {@link #sequence()}). The state row then records this statement's snapshot with its own
     * transaction seen ({@link #ownSeen()}), so that no run numbers its messages again; a run that read the row before
     * finds it changed and writes nothing ({@link #sequence()}). All of it commits, or none: the rows, their
     * positions and the state row are one transaction.
     * <p>
     * Otherwise it carries the sequencer's wake-up on {@code wakeChannel}, as {@link #insertOneWaking()} does. One row:
     * the last position it gave (null when it numbered nothing), and the wake-up's answer (see {@link #wakeUp()}; null
     * when it notified or numbered).
     */
    private String numbering(String insert, String wakeChannel, String headChannel, String knownHead) {
        return "WITH written AS (" + insert + " RETURNING xid, id, channel, message_key), "
                + "s AS (SELECT epoch, last_position, (" + copied() + ") OR coalesce(" + awake() + ", false)"
                + " OR last_position < " + knownHead + "::bigint AS busy,"
                + " pg_current_snapshot() AS seen, pg_current_xact_id()::text::bigint AS own FROM " + quotedState
                + " LIMIT 1), "
                // The statement's own rows are not visible to it: anything this finds committed before.
                + "others AS (SELECT 1 FROM " + firstUnseen("1") + " o), "
                + "locked AS (SELECT epoch, last_position FROM " + quotedState + " FOR UPDATE SKIP LOCKED), "
                + "go AS (SELECT 1 FROM s, locked WHERE NOT s.busy AND locked.epoch = s.epoch"
                + " AND locked.last_position = s.last_position AND NOT EXISTS (SELECT 1 FROM others)"
                + " AND s.own - pg_snapshot_xmax(s.seen)::text::bigint <= " + NUMBERING_XID_SPAN + "), "
                + "fresh AS (SELECT xid, id, channel, message_key, row_number() OVER (ORDER BY id) AS rn FROM written), "
                + "moved AS (UPDATE " + quotedState + " SET last_position = last_position + (SELECT count(*) FROM fresh),"
                + " xid_horizon = pg_current_xact_id(), numbered = " + ownSeen() + " FROM go RETURNING last_position), "
                + "numbered AS (INSERT INTO " + quotedPositions + " (position, channel, xid, id, key_hash)"
                + " SELECT s.last_position + fresh.rn, fresh.channel, fresh.xid, fresh.id, " + KEY_HASH_OF
                + " FROM fresh, s WHERE EXISTS (SELECT 1 FROM moved) RETURNING position), "
                + "wake AS (SELECT NULL::float8 AS awake FROM (SELECT pg_notify(" + wakeChannel + ", '') WHERE NOT EXISTS"
                + " (SELECT 1 FROM " + quotedState + " WHERE " + awake() + ") AND NOT EXISTS (SELECT 1 FROM moved)) n"
                + " UNION ALL SELECT extract(epoch FROM awake_until - statement_timestamp())::float8 * 1000 FROM "
                + quotedState + " WHERE " + awake() + "), "
                + "hinted AS (SELECT pg_notify(" + headChannel + ", " + headHint("m.last_position", "c.names")
                + ") FROM moved m, (SELECT array_agg(channel) AS names FROM (SELECT DISTINCT channel FROM fresh LIMIT "
                + (HEAD_CHANNELS + 1) + ") d) c) "
                // The hint's CTE is read here, so that it runs.
                + "SELECT (SELECT max(position) FROM numbered), (SELECT awake FROM wake) FROM (SELECT count(*)"
                + " FROM hinted) h";
    }

    /**
     * The snapshot {@link #numbering} stores: its statement's, with its own transaction seen (PostgreSQL's snapshot
     * leaves a transaction's own id out of what it sees). Its xmax is past the own id; below that, it does not see what
     * the statement's snapshot did not: the ids it listed as running, and every id from its xmax up (at most
     * {@link #NUMBERING_XID_SPAN}), but the own.
     */
    private static String ownSeen() {
        return "(SELECT (coalesce(min(v.x), u.m) || ':' || u.m || ':' || coalesce(string_agg(v.x::text, ','"
                + " ORDER BY v.x), ''))::pg_snapshot FROM (SELECT greatest(pg_snapshot_xmax(s.seen)::text::bigint,"
                + " s.own + 1) AS m, pg_snapshot_xmax(s.seen)::text::bigint AS above, s.own FROM s) u LEFT JOIN LATERAL"
                + " (SELECT a.x FROM (SELECT pg_snapshot_xip(s.seen)::text::bigint AS x FROM s UNION SELECT"
                + " generate_series(u.above, u.m - 1)) a WHERE a.x <> u.own) v ON true GROUP BY u.m)";
    }

    /**
     * Under PostgreSQL's 8000-byte NOTIFY payload limit, with room to spare: a head hint whose channels would take more
     * names none (see {@link #sequence()}).
     */
    static final int HEAD_HINT_BYTES = 7000;

    /**
     * The snapshot a cut run stores (see {@link #sequence()}; null when the run was not cut): it sees what the previous
     * one saw and the transactions up to the cut's, X. Its xmax is past X (and not below the previous xmax); its running
     * transactions below that xmax are those of either snapshot that are past X, and those still running now.
     */
    private static String cutSnapshot() {
        String previous = "pg_snapshot_xip(s.numbered)::text::bigint";
        String running = "pg_snapshot_xip(pg_current_snapshot())::text::bigint";
        return "(SELECT (coalesce(min(v.x), u.m) || ':' || u.m || ':' || coalesce(string_agg(v.x::text, ','"
                + " ORDER BY v.x), ''))::pg_snapshot FROM (SELECT greatest(pg_snapshot_xmax(s.numbered)::text::bigint,"
                + " cut.xid::text::bigint + 1) AS m, cut.xid::text::bigint AS x FROM s, cut) u LEFT JOIN LATERAL"
                + " (SELECT DISTINCT a.x FROM (SELECT " + previous + " AS x FROM s UNION SELECT " + running
                + ") a WHERE a.x < u.m AND (a.x > u.x OR a.x IN (SELECT " + running + "))) v ON true GROUP BY u.m)";
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
     * How many sessions of this database carry the bus instances' {@code application_name} (reactive parameter $1):
     * the instances listening for head hints. {@code application_name} is shown to every role.
     */
    public String listeningInstances() {
        return "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1";
    }

    /**
     * For an instance that is not the sequencer, whether the sequencer keeps up (reactive parameter $1: the table
     * {@link #lockKey()}): the head, whether committed messages wait for a position (cheap: see {@link
     * #firstUnseen}), the backend that holds the sequencer's lock (null if none), its role and
     * {@code application_name} (shown to every role), and whether this role may end it (a member of its role, or of
     * {@code pg_signal_backend}).
     */
    public String sequencerProgress() {
        return "SELECT (SELECT last_position FROM " + quotedState + "), EXISTS " + firstUnseen("1")
                + ", h.pid, a.usename::text, a.application_name,"
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
     * The first committed message still waiting for a position, in the order the sequencer numbers them (its id), or
     * null: cheap (see {@link #firstUnseen}). JDBC, no parameters.
     */
    String oldestUnnumbered() {
        return "SELECT (SELECT u.id FROM " + firstUnseen("1") + " u)";
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

    /**
     * The epoch, the last position handed out, where the epoch began, and whether the state row comes from a copy
     * ({@link #copied()}).
     */
    public String head() {
        return "SELECT epoch, last_position, epoch_base, " + copied() + " FROM " + quotedState;
    }

    /**
     * A page of the messages of some channels after a position, in position order, with the state read in the same
     * snapshot, for the reactive client. Parameters: $1 channels (text[]), $2 after, $3 most messages, $4 most payload
     * bytes (the first message always comes, whatever its size). Columns: epoch, last position, the highest position
     * retention deleted on those channels (null if none), then position, channel, payload, created_at, how many
     * rows there were before the byte limit cut (nulls when no message), the traceparent and the key.
     */
    public String pageOnChannels() {
        return page("channel = ANY ($1)", "p.channel = ANY ($1) AND p.position > $2", "$3", "$4");
    }

    /**
     * {@link #pageOnChannels()} for one partition of a group with partitions: $5 the number of partitions, $6 the
     * partition. Messages without a key are in partition 0.
     */
    public String pageOfPartition() {
        // The stored key hash decides on the position rows alone, so that only the message rows of this partition
        // are read, not those of every partition; without one (numbered by an earlier version), the message's key.
        return page("channel = ANY ($1)", "p.channel = ANY ($1) AND p.position > $2 AND (p.key_hash IS NULL OR CASE"
                + " WHEN p.key_hash < 0 THEN 0 ELSE p.key_hash % $5 END = $6) AND (p.key_hash IS NOT NULL OR CASE WHEN"
                + " b.message_key IS NULL THEN 0 ELSE (hashtext(b.message_key) & 2147483647) % $5 END = $6)", "$3",
                "$4");
    }

    /**
     * The key's hash that the sequencer stores with a position ({@code fresh.message_key}): PostgreSQL's
     * {@code hashtext} of the key, made non-negative, or -1 for no key. A message's partition among N is that hash
     * modulo N, 0 for no key: the same on every instance. Positions numbered by an earlier version have none, and
     * their readers hash the message's key.
     */
    private static final String KEY_HASH_OF = "CASE WHEN fresh.message_key IS NULL THEN -1"
            + " ELSE hashtext(fresh.message_key) & 2147483647 END";

    /** {@link #pageOnChannels()} for JDBC: parameters channels, channels, after, most, bytes. */
    String pageOnChannelsJdbc() {
        return pageOnChannels().replaceAll("\\$\\d", "?");
    }

    /**
     * {@link #pageOnChannels()} for every channel: $1 after, $2 most messages, $3 most bytes; the third column is null.
     */
    public String pageOfAll() {
        return page("false", "p.position > $1", "$2", "$3");
    }

    private String page(String purgedFilter, String rowFilter, String most, String bytes) {
        // Innermost: at most `most` messages after the position, each found from its position; then their count and
        // running byte total; outermost: the messages that start within the byte budget (the first always does).
        return "SELECT s.epoch, s.last_position, (SELECT max(through) FROM " + quotedPurged + " WHERE " + purgedFilter
                + "), m.position, m.channel, m.payload, m.created_at, m.fetched, m.traceparent, m.message_key FROM "
                + quotedState + " s LEFT JOIN LATERAL (SELECT y.position, y.channel, y.payload, y.created_at,"
                + " y.fetched, y.traceparent, y.message_key FROM ("
                + "SELECT x.*, count(*) OVER () AS fetched,"
                + " sum(octet_length(x.payload)) OVER (ORDER BY x.position) AS running FROM ("
                // Each message by its index entry: PostgreSQL's generic plan, not knowing how few positions a page
                // holds, otherwise hashed the whole message table at every read.
                + "SELECT p.position, p.channel, b.payload, b.created_at, b.traceparent, b.message_key FROM "
                + quotedPositions + " p CROSS JOIN LATERAL (SELECT m.payload, m.created_at, m.traceparent,"
                + " m.message_key FROM " + quotedTable + " m WHERE m.xid = p.xid AND m.id = p.id AND " + slotOf("m.")
                + " = " + slotOf("p.") + " LIMIT 1) b"
                + " WHERE " + rowFilter + " ORDER BY p.position LIMIT " + most + ") x) y"
                + " WHERE y.running - octet_length(y.payload) < " + bytes + ") m ON true"
                + " ORDER BY m.position";
    }

    /**
     * Deletes a batch of messages numbered longer ago than the retention, each channel's in position order, skipping
     * those another instance is deleting, and records per channel the highest position deleted. Ages are PostgreSQL's
     * ({@code now()}), so that instances whose clocks differ agree. Only positions below the first one numbered within
     * the retention go: what retention deletes of a channel is always everything up to a position. Messages a durable
     * consumer group has not passed stay, unless numbered longer ago than the second age, or the group's position has
     * not moved for its expiry; a batch finds where each channel's slowest group is rather than stepping over the
     * messages held back. Messages waiting for a position are never deleted: their readers have not seen them yet. JDBC
     * parameters: the retention in seconds, the groups' limit in seconds, the names of the groups with their own
     * expiry (text[]) and those expiries in seconds (bigint[]), the default expiry in seconds, the batch size.
     * <p>
     * Both deletes go by index, row by row (an array of positions; each message's row found by its index entry, then
     * deleted by its address): PostgreSQL's generic plan, not knowing how few rows a batch holds, otherwise hashed
     * both tables whole for every batch.
     */
    public String deleteOlderThan() {
        return "WITH RECURSIVE " + retentionLimits() + ", "
        // The channels, one index probe each (a loose index scan of the channel index).
                + channelsOf("channels", quotedPositions) + ", "
                // In position order below the groups' limit; then, per channel, up to where its slowest group is.
                // Either way a channel loses a prefix of its positions, and no batch reads past what it deletes.
                + "candidates AS ((SELECT f.position FROM " + quotedPositions + " f WHERE f.position < (SELECT hi FROM"
                + " unheld) ORDER BY f.position LIMIT (SELECT batch FROM params)) UNION ALL (SELECT k.position FROM"
                + " channels ch CROSS JOIN LATERAL (SELECT f.position FROM " + quotedPositions + " f WHERE f.channel ="
                + " ch.c AND f.position >= (SELECT hi FROM unheld) AND f.position < " + stopOf("ch.c") + " ORDER BY"
                + " f.position LIMIT (SELECT batch FROM params)) k WHERE ch.c IS NOT NULL)), "
                + "doomed AS (DELETE FROM " + quotedPositions + " WHERE position = ANY (ARRAY(SELECT p.position FROM "
                + quotedPositions + " p WHERE p.position = ANY (ARRAY(SELECT position FROM candidates LIMIT (SELECT"
                + " batch FROM params))) FOR UPDATE SKIP LOCKED))"
                + " RETURNING channel, position, xid, id), "
                + goneFromEachSlot()
                + recordPurged("SELECT channel, max(position) FROM doomed GROUP BY channel")
                + "SELECT count(*) FROM doomed";
    }

    /**
     * The common table expressions of what retention may delete ({@code params}, {@code young}, {@code unheld}), from
     * the JDBC parameters: the retention in seconds, the groups' limit in seconds, the names of the groups with their
     * own expiry (text[]) and those expiries in seconds (bigint[]), the default expiry in seconds, the batch size.
     * Positions below {@code unheld.hi} may go; above it, a channel's up to {@link #stopOf its stop}.
     */
    private String retentionLimits() {
        return "params AS (SELECT ?::float8 AS retention, ?::float8 AS held, ?::text[] AS names,"
                + " ?::bigint[] AS expiries, ?::bigint AS expiry, ?::int AS batch), "
                + firstNumberedWithin("young_search", "(SELECT retention FROM params)") + ", "
                + firstNumberedWithin("unheld_search", "(SELECT held FROM params)") + ", "
                + "young AS (SELECT min(hi) AS hi FROM young_search), "
                // Older than the groups' limit: no group holds them back.
                + "unheld AS (SELECT least(min(hi), (SELECT hi FROM young)) AS hi FROM unheld_search)";
    }

    /**
     * The first position of channel {@code channel} (an SQL expression) that retention keeps, below {@code young}: where
     * the channel's slowest group that has not expired is.
     */
    private String stopOf(String channel) {
        return "least((SELECT hi FROM young), coalesce((SELECT min(g.position) + 1 FROM " + quotedGroups + " g"
                + " WHERE g.channel = " + channel + " AND g.updated_at > now() - make_interval(secs => coalesce((SELECT"
                + " x.e FROM unnest((SELECT names FROM params), (SELECT expiries FROM params)) AS x(n, e) WHERE x.n ="
                + " g.group_name), (SELECT expiry FROM params)))), (SELECT hi FROM young)))";
    }

    /** A recursive query {@code name(c)}: the channels of {@code positions}, one index probe each. */
    private static String channelsOf(String name, String positions) {
        return name + "(c) AS (SELECT (SELECT min(channel) FROM " + positions + ") UNION ALL SELECT (SELECT"
                + " min(f.channel) FROM " + positions + " f WHERE f.channel > " + name + ".c) FROM " + name + " WHERE "
                + name + ".c IS NOT NULL)";
    }

    /** Records, per channel, the highest position deleted, from {@code rows} (channel, position). */
    private String recordPurged(String rows) {
        return "recorded AS (INSERT INTO " + quotedPurged + " (channel, through) " + rows
                + " ON CONFLICT (channel) DO UPDATE SET through = greatest(" + quotedPurged + ".through,"
                + " excluded.through)) ";
    }

    /** The last id handed out (or the next, just after a {@link #rotate()}): its block says which slot is written. */
    public String lastId() {
        return "SELECT last_value FROM " + quotedSequence;
    }

    /** Whether slot {@code k} of both tables holds no row. */
    public String slotEmpty(int k) {
        return "SELECT NOT EXISTS (SELECT 1 FROM " + slot(table, k) + ") AND NOT EXISTS (SELECT 1 FROM "
                + slot(table + "_positions", k) + ")";
    }

    /**
     * Whether slot {@code k}'s first position was numbered longer ago than JDBC parameter 1 seconds (null when it has
     * none): by PostgreSQL's clock, as retention.
     */
    public String slotNumberedBefore(int k) {
        return "SELECT (SELECT numbered_at FROM " + slot(table + "_positions", k) + " ORDER BY position LIMIT 1)"
                + " < now() - make_interval(secs => ?::float8)";
    }

    /**
     * Moves the id sequence to the first id of block JDBC parameter 1: the senders' next messages go to that block's
     * slot. Under {@link #slotsLockSql()} only, into an empty slot only.
     */
    public String rotate() {
        return "SELECT setval(" + literal(quotedSequence) + "::regclass, ?::bigint * 1099511627776, false)";
    }

    /**
     * The transaction advisory lock under which one instance at a time rotates and truncates slots, with the
     * {@link #lockKey()} as JDBC parameter 1.
     */
    public static String slotsLockSql() {
        return "SELECT pg_try_advisory_xact_lock(hashtext(?), 2)";
    }

    /** Locks slot {@code k} of both tables against every reader and writer, as its truncation will. */
    public String lockSlot(int k) {
        return "LOCK TABLE " + slot(table, k) + ", " + slot(table + "_positions", k) + " IN ACCESS EXCLUSIVE MODE";
    }

    /**
     * Whether retention may empty slot {@code k} at once, with its JDBC parameters 1 to 6 ({@link #retentionLimits()};
     * the batch size is not used): how many of the slot's channels have a message in it retention keeps, whether the
     * slot holds a message still to be numbered (one the last numbering run's snapshot did not see), and the slot's
     * channels with their highest position in it (text[], bigint[]), which retention records as deleted. Run with the
     * slot {@link #lockSlot locked}: nothing is written in it meanwhile.
     */
    public String slotExpiry(int k) {
        String positions = slot(table + "_positions", k);
        String messages = slot(table, k);
        return "WITH RECURSIVE " + retentionLimits() + ", " + channelsOf("slot_channels", positions) + ", "
                + "maxima AS (SELECT ch.c, (SELECT max(f.position) FROM " + positions + " f WHERE f.channel = ch.c)"
                + " AS hi, greatest((SELECT hi FROM unheld), " + stopOf("ch.c") + ") AS kept FROM slot_channels ch"
                + " WHERE ch.c IS NOT NULL) "
                + "SELECT (SELECT count(*) FROM maxima WHERE hi >= kept), EXISTS (SELECT 1 FROM " + messages + " b"
                + " WHERE b.xid >= (SELECT pg_snapshot_xmax(numbered) FROM " + quotedState + ")) OR EXISTS (SELECT 1"
                + " FROM " + messages + " b WHERE b.xid = ANY ((SELECT ARRAY(SELECT pg_snapshot_xip(numbered)) FROM "
                + quotedState + ")::xid8[])), (SELECT array_agg(c ORDER BY c) FROM maxima), (SELECT array_agg(hi"
                + " ORDER BY c) FROM maxima)";
    }

    /**
     * Before slot JDBC parameter 3 is emptied: deletes the messages of other slots at or below the slot's highest
     * position on their channel (JDBC parameters 1 and 2: channels, text[], and those positions, bigint[]; messages of a
     * transaction that committed after the slot was left behind, numbered after messages of later slots), so that a
     * channel still loses a prefix of its positions; and records those positions as deleted. Returns how many messages
     * of other slots it deleted.
     */
    public String deleteBelowSlot() {
        return "WITH m(c, hi) AS (SELECT * FROM unnest(?::text[], ?::bigint[])), "
                + "doomed AS (DELETE FROM " + quotedPositions + " WHERE position = ANY (ARRAY(SELECT f.position FROM m"
                + " CROSS JOIN LATERAL (SELECT f.position, f.id FROM " + quotedPositions + " f WHERE f.channel = m.c"
                + " AND f.position <= m.hi) f WHERE " + slotOf("f.") + " <> ?::int)) RETURNING channel, position, xid,"
                + " id), "
                + goneFromEachSlot()
                + recordPurged("SELECT c, hi FROM m")
                + "SELECT count(*) FROM doomed";
    }

    /** Empties slot {@code k} of both tables: nothing left for vacuum. */
    public String truncateSlot(int k) {
        return "TRUNCATE " + slot(table, k) + ", " + slot(table + "_positions", k);
    }

    /**
     * The messages of the positions {@code doomed} deleted, deleted from each slot apart ({@code gone_0} ...): by
     * address, which is an address in one slot only.
     */
    private String goneFromEachSlot() {
        StringBuilder gone = new StringBuilder();
        for (int k = 0; k < SLOTS; k++) {
            String slot = slot(table, k);
            gone.append("gone_").append(k).append(" AS (DELETE FROM ").append(slot).append(" WHERE ctid = ANY (ARRAY(")
                    .append("SELECT m.ctid FROM doomed d CROSS JOIN LATERAL (SELECT b.ctid FROM ").append(slot)
                    .append(" b WHERE b.xid = d.xid AND b.id = d.id) m WHERE ").append(slotOf("d.")).append(" = ")
                    .append(k).append("))), ");
        }
        return gone.toString();
    }

    /**
     * A recursive query {@code name(lo, hi)} whose least {@code hi} is the first position numbered within
     * {@code age} seconds, or the head + 1 if there is none: a binary search over the positions (about 20 index
     * probes on 350,000 messages), since numbered_at grows with the position. Scanning up to it read every older row
     * at every retention batch: 68 ms behind 175,000 of them, and held by a group for days they could be millions.
     */
    private String firstNumberedWithin(String name, String age) {
        return name + "(lo, hi) AS (SELECT coalesce((SELECT min(position) FROM " + quotedPositions + "), 0), (SELECT"
                + " last_position + 1 FROM " + quotedState + ") UNION ALL SELECT CASE WHEN y.young THEN s.lo ELSE"
                + " s.mid + 1 END, CASE WHEN y.young THEN s.mid ELSE s.hi END FROM (SELECT lo, hi, lo + (hi - lo) / 2"
                + " AS mid FROM " + name + " WHERE lo < hi) s CROSS JOIN LATERAL (SELECT coalesce((SELECT"
                + " f.numbered_at >= now() - make_interval(secs => " + age + ") FROM " + quotedPositions + " f WHERE"
                + " f.position >= s.mid ORDER BY f.position LIMIT 1), true) AS young) y)";
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
