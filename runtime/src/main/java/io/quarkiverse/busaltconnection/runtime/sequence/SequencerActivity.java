package io.quarkiverse.busaltconnection.runtime.sequence;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import jakarta.inject.Singleton;

/**
 * What this instance knows of the sequencer's activity, for its senders: whether a wake-up after a commit is needed.
 * <p>
 * When this instance is the sequencer, a commit asks it for a run directly, in the JVM: no notification at all. When
 * another instance is, a head hint heard within {@link #TRUSTED_NANOS} means that it numbered messages moments ago,
 * and a sequencer that numbered messages runs again on its own for {@link Sequencer#BUSY_NANOS} after its last such
 * run: it will see this commit without being told. Only after a quiet moment does a commit cost a wake-up (a
 * transaction id and a commit record). Should a hint arrive very late (this instance stalled longer than the margin
 * between the two), the message waits for the next sweep, as a lost wake-up's would.
 */
@Singleton
public class SequencerActivity {

    /** How recent a head hint must be for a sender to skip its wake-up: well inside {@link Sequencer#BUSY_NANOS}. */
    static final long TRUSTED_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private volatile long lastHint = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
    /**
     * Asks this instance's sequencer for a run, and says whether it holds the sequencer's lock; null when this instance
     * has no sequencer.
     */
    private volatile BooleanSupplier here;

    /** A head hint arrived: some instance numbered messages just now. */
    public void headHintHeard() {
        lastHint = System.nanoTime();
    }

    void sequencerHere(BooleanSupplier run) {
        here = run;
    }

    /**
     * Rows were committed: wakes this instance's sequencer if it is the database's, in the JVM.
     *
     * @return whether the commit needs no wake-up through the database
     */
    public boolean committed() {
        BooleanSupplier run = here;
        if (run != null && run.getAsBoolean()) {
            return true;
        }
        return System.nanoTime() - lastHint < TRUSTED_NANOS;
    }
}
