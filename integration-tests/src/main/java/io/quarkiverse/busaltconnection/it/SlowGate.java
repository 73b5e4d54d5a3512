package io.quarkiverse.busaltconnection.it;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Holds the demo's slow listener until the test opens the gate: a listener that blocks. */
public final class SlowGate {

    private static volatile CountDownLatch gate = new CountDownLatch(1);

    private SlowGate() {
    }

    static void await() throws InterruptedException {
        gate.await(60, TimeUnit.SECONDS);
    }

    static void open() {
        CountDownLatch opened = gate;
        gate = new CountDownLatch(1);
        opened.countDown();
    }
}
