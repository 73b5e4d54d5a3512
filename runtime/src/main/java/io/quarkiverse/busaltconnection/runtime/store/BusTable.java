package io.quarkiverse.busaltconnection.runtime.store;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The bus table and everything said to PostgreSQL about it. Identifiers come from configuration and are quoted as
 * identifiers; channels and payloads are always bind parameters.
 */
public final class BusTable {

    private final String table;
    private final String quotedTable;
    private final String quotedSequence;
    private final String quotedIndex;
    private final String quotedFunction;

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,49}");

    /**
     * @throws IllegalArgumentException naming the key, for a name PostgreSQL would truncate or cannot hold
     */
    public BusTable(String table) {
        if (!NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("quarkus.imdispatcher.bus.table '" + table + "' must be 1 to 50 letters,"
                    + " digits or underscores, starting with a letter or underscore (PostgreSQL identifiers hold 63"
                    + " bytes, and the names of the table's sequence, index and function add a suffix)");
        }
        this.table = table;
        this.quotedTable = quote(table);
        this.quotedSequence = quote(table + "_id_seq");
        this.quotedIndex = quote(table + "_created_at_idx");
        this.quotedFunction = quote(table + "_send");
    }

    /** The table name, also the channel its wake-up notifications go to, and the key of its advisory locks. */
    public String name() {
        return table;
    }

    /**
     * Creates the sequence, table, index and send function if missing (the function is replaced, to follow upgrades);
     * run under {@link #lockKeySql()}'s session lock.
     */
    public List<String> createSchema() {
        return List.of(
                "CREATE SEQUENCE IF NOT EXISTS " + quotedSequence,
                "CREATE TABLE IF NOT EXISTS " + quotedTable + " ("
                        + "id bigint PRIMARY KEY, "
                        + "channel text NOT NULL, "
                        + "payload text NOT NULL, "
                        + "created_at timestamptz NOT NULL DEFAULT now())",
                "CREATE INDEX IF NOT EXISTS " + quotedIndex + " ON " + quotedTable + " (created_at)",
                sendFunction());
    }

    /**
     * One call writes a transaction's messages: one round trip, where the statements one by one took four (and five
     * outside a transaction, where the call is the whole transaction). It takes the table's transaction-scoped
     * advisory lock, which PostgreSQL releases at commit, so a later transaction draws its ids only after this one
     * committed: ids follow commit order. Then one wake-up NOTIFY, carrying the messages when they fit.
     */
    String sendFunction() {
        String name = "'" + table + "'";
        return "CREATE OR REPLACE FUNCTION " + quotedFunction + "(channels text[], payloads text[]) RETURNS void"
                + " LANGUAGE plpgsql AS $fn$\n"
                + "DECLARE\n"
                + "    n integer := coalesce(array_length(channels, 1), 0);\n"
                + "    ids bigint[] := '{}';\n"
                + "    micros bigint := (extract(epoch FROM now()) * 1000000)::bigint;\n"
                + "    wake text;\n"
                + "BEGIN\n"
                + "    IF n = 0 THEN RETURN; END IF;\n"
                + "    PERFORM pg_advisory_xact_lock(hashtext(" + name + "));\n"
                + "    FOR i IN 1..n LOOP ids := ids || nextval('" + quotedSequence + "'); END LOOP;\n"
                + "    INSERT INTO " + quotedTable + " (id, channel, payload) SELECT * FROM unnest(ids, channels, payloads);\n"
                + "    wake := json_build_object('f', ids[1], 'l', ids[n])::text;\n"
                + "    IF (SELECT sum(octet_length(c) + octet_length(p)) FROM unnest(channels, payloads) AS m(c, p))"
                + " < " + WakeUp.INLINE_CANDIDATE_BYTES + " THEN\n"
                + "        wake := json_build_object('f', ids[1], 'l', ids[n], 'm', (SELECT json_agg(json_build_object("
                + "'i', i, 'c', c, 'p', p, 't', micros) ORDER BY i) FROM unnest(ids, channels, payloads) AS m(i, c, p)))::text;\n"
                + "        IF octet_length(wake) > " + WakeUp.MAX_INLINE_BYTES + " THEN\n"
                + "            wake := json_build_object('f', ids[1], 'l', ids[n])::text;\n"
                + "        END IF;\n"
                + "    END IF;\n"
                + "    PERFORM pg_notify(" + name + ", wake);\n"
                + "END\n"
                + "$fn$";
    }

    /** Writes a transaction's messages (JDBC parameters: channels, payloads). */
    String send() {
        return "SELECT " + quotedFunction + "(?::text[], ?::text[])";
    }

    /** The advisory lock key of this table: {@code hashtext(name)}, with the name as parameter 1. */
    public static String lockKeySql() {
        return "hashtext($1)";
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
