package io.quarkiverse.busaltconnection.bench;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** One line per step on the console, so that a run of twenty minutes can be followed and a stuck step found. */
final class Progress {

    private static final long START = System.nanoTime();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private Progress() {
    }

    static void log(String format, Object... arguments) {
        System.out.printf("[bench %s +%4ds] %s%n", TIME.format(LocalTime.now()),
                (System.nanoTime() - START) / 1_000_000_000L, String.format(format, arguments));
    }

    /** Runs one measurement; a failure is logged and returned as null, so one broken step does not end the run. */
    static <T> T attempt(String what, Step<T> step) {
        log("%s", what);
        try {
            return step.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception | AssertionError e) {
            log("%s FAILED: %s", what, e);
            return null;
        }
    }

    @FunctionalInterface
    interface Step<T> {
        T run() throws Exception;
    }
}
