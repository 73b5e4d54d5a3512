package io.quarkiverse.busaltconnection.runtime.dispatch;

/**
 * The highest position this instance has read from the database itself, in the bus's epoch. Readers raise it with the
 * head each page was read at; HTTP clients start there. A notification never moves it: anyone can NOTIFY.
 */
final class KnownHead {

    private final long epoch;
    private volatile long head;
    private volatile boolean epochChanged;

    KnownHead(long epoch, long head) {
        this.epoch = epoch;
        this.head = head;
    }

    long epoch() {
        return epoch;
    }

    long get() {
        return head;
    }

    /**
     * A head read from the database.
     *
     * @return whether it is higher than the one known
     */
    synchronized boolean seen(long position) {
        if (position > head) {
            head = position;
            return true;
        }
        return false;
    }

    /**
     * The table was found with another epoch: it was replaced while this instance ran.
     *
     * @return whether this is the first time
     */
    synchronized boolean epochChanged() {
        boolean first = !epochChanged;
        epochChanged = true;
        return first;
    }

    boolean hasEpochChanged() {
        return epochChanged;
    }
}
