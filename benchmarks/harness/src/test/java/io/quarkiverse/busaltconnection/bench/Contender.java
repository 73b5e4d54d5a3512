package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;

/** A messaging system measured end to end: sends through PgBouncer, a listener on PostgreSQL, receipts timed. */
interface Contender {

    String label();

    /** {@code senders} senders back to back for {@code duration} (about 100-byte messages); waits for receipt. */
    Delivery closed(String run, int senders, Duration duration) throws Exception;

    /** {@code rate} messages per second for {@code duration} on {@code threads} threads; waits for receipt. */
    Delivery open(String run, int rate, Duration duration, int threads) throws Exception;
}
