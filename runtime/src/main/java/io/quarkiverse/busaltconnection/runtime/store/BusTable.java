package io.quarkiverse.busaltconnection.runtime.store;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The bus table and everything said to PostgreSQL about it. Identifiers come from configuration and are quoted as
 * identifiers; channels and payloads are always bind parameters.
 */
public final class BusTable {

    private final String table;
    private final String quotedTable;
    private final String quotedSequence;
    private final String quotedIndex;

    /**
     * @throws IllegalArgumentException naming the key, for a name PostgreSQL would truncate or cannot hold
     */
    public BusTable(String table) {
        if (table.isEmpty() || table.indexOf('\0') >= 0 || table.getBytes(StandardCharsets.UTF_8).length > 50) {
            throw new IllegalArgumentException("quarkus.imdispatcher.bus.table '" + table + "' must be 1 to 50 bytes"
                    + " without NUL characters (PostgreSQL identifiers hold 63 bytes, and the table's sequence and"
                    + " index names add a suffix)");
        }
        this.table = table;
        this.quotedTable = quote(table);
        this.quotedSequence = quote(table + "_id_seq");
        this.quotedIndex = quote(table + "_created_at_idx");
    }

    /** The table name, also the channel its wake-up notifications go to, and the key of its advisory locks. */
    public String name() {
        return table;
    }

    /** Creates the sequence, table and index if missing; run under {@link #lockKeySql()}'s session lock. */
    public List<String> createSchema() {
        return List.of(
                "CREATE SEQUENCE IF NOT EXISTS " + quotedSequence,
                "CREATE TABLE IF NOT EXISTS " + quotedTable + " ("
                        + "id bigint PRIMARY KEY, "
                        + "channel text NOT NULL, "
                        + "payload text NOT NULL, "
                        + "created_at timestamptz NOT NULL DEFAULT now())",
                "CREATE INDEX IF NOT EXISTS " + quotedIndex + " ON " + quotedTable + " (created_at)");
    }

    /** The advisory lock key of this table: {@code hashtext(name)}, with the name as parameter 1. */
    public static String lockKeySql() {
        return "hashtext($1)";
    }

    /** Serializes the id assignment of bus transactions from here to their commit: ids follow commit order. */
    String transactionLock() {
        return "SELECT pg_advisory_xact_lock(hashtext(?))";
    }

    String nextIds() {
        return "SELECT nextval('" + quotedSequence.replace("'", "''") + "') FROM generate_series(1, ?)";
    }

    String insert() {
        return "INSERT INTO " + quotedTable + " (id, channel, payload)"
                + " SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[]) RETURNING id, created_at";
    }

    public String maxId() {
        return "SELECT coalesce(max(id), 0) FROM " + quotedTable;
    }

    /** Rows after an id, in id order, reactive-client parameters ($1 after, $2 up to, $3 limit). */
    public String rowsAfter() {
        return "SELECT id, channel, payload, created_at FROM " + quotedTable
                + " WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3";
    }

    /** Rows after an id on some channels, in id order, JDBC parameters (after, channels, limit). */
    public String rowsAfterOnChannels() {
        return "SELECT id, channel, payload, created_at FROM " + quotedTable
                + " WHERE id > ? AND channel = ANY (?) ORDER BY id LIMIT ?";
    }

    /** Deletes a batch of rows older than a cutoff (parameter 1), skipping rows another instance is deleting. */
    String deleteOlderThan() {
        return "DELETE FROM " + quotedTable + " WHERE id IN (SELECT id FROM " + quotedTable
                + " WHERE created_at < ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)";
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
