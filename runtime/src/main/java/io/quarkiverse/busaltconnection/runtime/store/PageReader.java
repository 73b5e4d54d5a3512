package io.quarkiverse.busaltconnection.runtime.store;

import java.time.OffsetDateTime;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/** Reads pages of the bus on a reactive (direct) connection: see {@link BusTable#pageOnChannels()}. */
public final class PageReader {

    private final BusTable table;
    private final int most;
    private final long bytes;

    /**
     * @param most most messages in a page
     * @param bytes payload bytes after which a page ends (it holds at least one message)
     */
    public PageReader(BusTable table, int most, long bytes) {
        this.table = table;
        this.most = most;
        this.bytes = bytes;
    }

    /** The messages of {@code channels} after {@code after}. */
    public Future<Page> onChannels(SqlClient client, String[] channels, long after) {
        return client.preparedQuery(table.pageOnChannels()).execute(Tuple.of(channels, after, most, bytes))
                .map(this::page);
    }

    /** The messages of {@code channels} after {@code after} in {@code partition} of {@code partitions}. */
    public Future<Page> ofPartition(SqlClient client, String[] channels, long after, int partitions, int partition) {
        return client.preparedQuery(table.pageOfPartition())
                .execute(Tuple.of(channels, after, most, bytes, partitions, partition)).map(this::page);
    }

    /** The messages of every channel after {@code after}. */
    public Future<Page> ofAll(SqlClient client, long after) {
        return client.preparedQuery(table.pageOfAll()).execute(Tuple.of(after, most, bytes)).map(this::page);
    }

    private Page page(RowSet<Row> rows) {
        PageRows page = new PageRows(most);
        for (Row row : rows) {
            OffsetDateTime created = row.getOffsetDateTime(6);
            Long fetched = row.getLong(7);
            page.add(row.getLong(0), row.getLong(1), row.getLong(2), row.getLong(3), row.getString(4),
                    row.getString(5), created == null ? null : created.toInstant(), fetched == null ? 0 : fetched,
                    row.getString(8), row.getString(9));
        }
        return page.page();
    }
}
