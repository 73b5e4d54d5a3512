package io.quarkiverse.busaltconnection.runtime.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The rows of a page query ({@link BusTable#pageOnChannels()}, {@link BusTable#pageOfAll()}) made into a
 * {@link Page}, whichever client read them: the reactive one on the direct path, JDBC on the pooled path. Every row
 * carries the bus's state; a row without a position says only that (no message after the position).
 */
final class PageRows {

    private final int most;
    private long epoch;
    private long head;
    private OptionalLong purged = OptionalLong.empty();
    private long fetched;
    private final List<StoredMessage> messages = new ArrayList<>();

    /** @param most the page's message limit, to tell a full page from the last one */
    PageRows(int most) {
        this.most = most;
    }

    /** One row: the state, then the message's columns, nulls when the row holds no message. */
    void add(long epoch, long head, Long purgedThrough, Long position, String channel, String payload,
            Instant created, long fetched, String traceparent, String key) {
        this.epoch = epoch;
        this.head = head;
        this.purged = purgedThrough == null ? OptionalLong.empty() : OptionalLong.of(purgedThrough);
        if (position != null) {
            messages.add(new StoredMessage(position, channel, payload, created, traceparent, key));
            this.fetched = fetched;
        }
    }

    Page page() {
        return Page.of(epoch, head, purged, messages, fetched, most);
    }
}
