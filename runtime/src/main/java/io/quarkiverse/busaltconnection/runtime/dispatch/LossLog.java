package io.quarkiverse.busaltconnection.runtime.dispatch;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.jboss.logging.Logger;

/**
 * Where the instance says that messages it still needed were gone: retention deleted them before a listener or an
 * HTTP client read them. Each loss is logged at ERROR with its position range; the last few are kept for the health
 * check's details.
 */
public final class LossLog {

    private static final Logger LOG = Logger.getLogger(LossLog.class);
    private static final int KEPT = 10;

    /** Who lost which positions of which channel(s), and when it was noticed. */
    public record Loss(String reader, String channels, long after, long through, Instant noticed) {

        @Override
        public String toString() {
            return reader + " lost messages of " + channels + " between positions " + (after + 1) + " and " + through
                    + " (noticed " + noticed + ")";
        }
    }

    private final Deque<Loss> recent = new ArrayDeque<>();
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong positions = new AtomicLong();

    /**
     * Retention deleted messages of {@code channels} up to {@code through} that {@code reader}, at position
     * {@code after}, had not read.
     */
    public void report(String reader, String channels, long after, long through) {
        Loss loss = new Loss(reader, channels, after, through, Instant.now());
        count.incrementAndGet();
        positions.addAndGet(Math.max(0, through - after));
        synchronized (recent) {
            if (recent.size() == KEPT) {
                recent.removeFirst();
            }
            recent.addLast(loss);
        }
        LOG.errorf("%s: retention deleted messages of channel(s) %s between positions %d and %d before they were"
                + " read; they are lost for this reader. Raise quarkus.imdispatcher.bus.retention above the longest"
                + " time a reader falls behind or stays away", reader, channels, after + 1, through);
    }

    /** How many losses were noticed since startup. */
    public long count() {
        return count.get();
    }

    /** How many positions the losses spanned: at most that many messages of the readers' channels were lost. */
    public long positions() {
        return positions.get();
    }

    /** The last few losses, oldest first. */
    public List<Loss> recent() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }
}
