package io.quarkiverse.busaltconnection.runtime.store;

import java.util.List;
import java.util.OptionalLong;

/**
 * Messages after a position, read in one snapshot together with the bus's state (see {@link BusTable#pageOnChannels()}).
 *
 * @param epoch the bus's epoch: positions of different epochs say nothing about each other
 * @param head the last position handed out when the page was read
 * @param purgedThrough the highest position retention deleted on the page's channels, if any: a reader whose
 *        position is below it lost messages
 * @param messages in position order
 * @param complete whether these were all the messages after the position when the page was read (else: read on)
 */
public record Page(long epoch, long head, OptionalLong purgedThrough, List<StoredMessage> messages, boolean complete) {

    /**
     * @param fetched how many messages the read found before the byte limit cut the page
     * @param most how many it asked for
     */
    static Page of(long epoch, long head, OptionalLong purgedThrough, List<StoredMessage> messages, long fetched,
            int most) {
        return new Page(epoch, head, purgedThrough, messages, fetched < most && messages.size() == fetched);
    }

    /**
     * The position a reader is at after taking the whole page: its last message's, or, for a complete page, the head
     * (no message of the page's channels lies between them).
     */
    public long positionAfter(long after) {
        return complete ? Math.max(after, head) : lastPosition(after);
    }

    /** The position of the last message, or {@code after} when the page is empty. */
    public long lastPosition(long after) {
        return messages.isEmpty() ? after : messages.get(messages.size() - 1).position();
    }

    /**
     * The highest position a reader that started after {@code after} may have missed because retention deleted it,
     * if any.
     */
    public OptionalLong lostAfter(long after) {
        return purgedThrough.isPresent() && purgedThrough.getAsLong() > after ? purgedThrough : OptionalLong.empty();
    }
}
