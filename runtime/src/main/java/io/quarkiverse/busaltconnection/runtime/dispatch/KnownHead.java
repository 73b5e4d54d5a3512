package io.quarkiverse.busaltconnection.runtime.dispatch;

/**
 * The bus's epoch and the highest position this instance has read from the database itself. Readers raise the head
 * with the head each page was read at; HTTP clients start there. A notification never moves it: anyone can NOTIFY.
 * Only a change of the database's history (a restored or promoted copy, see {@link HeadWatch}) moves it back, with a
 * new epoch.
 */
final class KnownHead {

    private volatile long epoch;
    private volatile long head;
    private volatile long historyChanges;

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

    /** The database's history changed: from now on the bus is in {@code epoch}, at {@code head}. */
    synchronized void adopt(long epoch, long head) {
        this.epoch = epoch;
        this.head = head;
        historyChanges++;
    }

    /** How many times the history changed under this instance. */
    long historyChanges() {
        return historyChanges;
    }
}
