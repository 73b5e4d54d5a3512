package io.quarkiverse.busaltconnection.bench;

import java.util.concurrent.atomic.AtomicInteger;

/** Run identifiers: unique in a benchmark run, without ':' (they prefix every payload). */
final class Runs {

    private static final AtomicInteger NEXT = new AtomicInteger();
    private static final String PREFIX = "r" + Long.toHexString(System.currentTimeMillis());

    private Runs() {
    }

    static String next() {
        return PREFIX + "x" + NEXT.incrementAndGet();
    }
}
