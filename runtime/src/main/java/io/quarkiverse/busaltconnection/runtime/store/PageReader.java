package io.quarkiverse.busaltconnection.runtime.store;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

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

    /** The messages of every channel after {@code after}. */
    public Future<Page> ofAll(SqlClient client, long after) {
        return client.preparedQuery(table.pageOfAll()).execute(Tuple.of(after, most, bytes)).map(this::page);
    }

    private Page page(RowSet<Row> rows) {
        long epoch = 0;
        long head = 0;
        OptionalLong purged = OptionalLong.empty();
        long fetched = 0;
        List<StoredMessage> messages = new ArrayList<>();
        for (Row row : rows) {
            epoch = row.getLong(0);
            head = row.getLong(1);
            Long through = row.getLong(2);
            purged = through == null ? OptionalLong.empty() : OptionalLong.of(through);
            Long position = row.getLong(3);
            if (position != null) {
                OffsetDateTime created = row.getOffsetDateTime(6);
                messages.add(new StoredMessage(position, row.getString(4), row.getString(5), created.toInstant(),
                        row.getString(8)));
                fetched = row.getLong(7);
            }
        }
        return Page.of(epoch, head, purged, messages, fetched, most);
    }
}
