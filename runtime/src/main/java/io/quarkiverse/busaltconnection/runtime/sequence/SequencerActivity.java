package io.quarkiverse.busaltconnection.runtime.sequence;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import jakarta.inject.Singleton;

/**
 * Whether this instance holds the database's sequencer: a commit then asks it for a run directly, in the JVM, with no
 * wake-up through the database at all. (Elsewhere, see
 * {@link io.quarkiverse.busaltconnection.runtime.store.BusTable#wakeUp()}.)
 */
@Singleton
public class SequencerActivity {

    /**
     * Asks this instance's sequencer for a run, and says whether it holds the sequencer's lock; null when this instance
     * has no sequencer.
     */
    private volatile BooleanSupplier here;
    private volatile BooleanSupplier sequencing = () -> false;
    private volatile LongSupplier knownHead = () -> 0;

    void sequencerHere(BooleanSupplier run, BooleanSupplier sequencing, LongSupplier knownHead) {
        here = run;
        this.sequencing = sequencing;
        this.knownHead = knownHead;
    }

    /**
     * The highest head this instance read from the database (0 before its engine started): a send numbers its own
     * message only where the database's head is not below it, as a run does (below it, the database is an earlier
     * copy of itself, and the run that finds so starts a new epoch).
     */
    public long knownHead() {
        return knownHead.getAsLong();
    }

    /** Whether this instance holds the database's sequencer: its commits need no wake-up through the database. */
    public boolean local() {
        return sequencing.getAsBoolean();
    }

    /**
     * Rows were committed: wakes this instance's sequencer if it is the database's, in the JVM.
     *
     * @return whether it did: then the commit needs no wake-up through the database
     */
    public boolean committed() {
        BooleanSupplier run = here;
        return run != null && run.getAsBoolean();
    }
}
