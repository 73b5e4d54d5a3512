package io.quarkiverse.busaltconnection.bench;

import io.quarkiverse.busaltconnection.bench.Load.Result;

/** One measured run of a messaging system: what its senders did and what its receiver got. */
record Delivery(Result sent, RunStats received) {

    boolean complete() {
        return sent.sent() > 0 && received.count() >= sent.sent();
    }

    /** Messages per second from the first send to the last receipt. */
    double throughput() {
        return received.throughput();
    }

    /** Sends completed per second at the senders. */
    double commitRate() {
        return sent.rate();
    }

    /** Offered messages sent per second (open load): sends completed over the time the load ran. */
    double achievedRate() {
        return sent.rate();
    }

    /** What to say next to a figure when not every message arrived or some sends failed; empty otherwise. */
    String caveat() {
        StringBuilder caveat = new StringBuilder();
        if (sent.failed() > 0) {
            caveat.append(sent.failed()).append(" sends failed (").append(sent.firstFailure()).append(")");
        }
        if (!complete()) {
            caveat.append(caveat.length() > 0 ? "; " : "").append("received ").append(received.count())
                    .append(" of ").append(sent.sent());
        }
        return caveat.toString();
    }
}
