package io.quarkiverse.busaltconnection.bench;

/** The two disks every per-disk scenario runs on. */
enum Disk {

    /** This machine's own disk, as it is. */
    MACHINE("machine", "this machine's disk"),
    /** This machine's disk with about 1 ms added to every flush (the {@link FlushTools} shim). */
    SLOW_FLUSH("1ms", "1 ms flush");

    final String key;
    final String label;

    Disk(String key, String label) {
        this.key = key;
        this.label = label;
    }
}
