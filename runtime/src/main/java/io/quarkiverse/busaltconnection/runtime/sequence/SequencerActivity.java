package io.quarkiverse.busaltconnection.runtime.sequence;

import java.util.function.BooleanSupplier;

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

    void sequencerHere(BooleanSupplier run, BooleanSupplier sequencing) {
        here = run;
        this.sequencing = sequencing;
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
