package io.quarkiverse.busaltconnection.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * SSE fan-out: thousands of Server-Sent Events clients on the receiving instance, one message sent from the sending
 * instance, the time until every client has it, and what the clients cost the receiving instance's heap.
 */
final class FanOutScenario {

    /** Milliseconds until all clients had each measured message (NaN: not all within the timeout). */
    record Row(int clients, List<Double> millis, double heapPerClientKiB, String caveat) {

        double median() {
            double[] sorted = millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return sorted.length == 0 ? Double.NaN : sorted[(sorted.length - 1) / 2];
        }
    }

    private static final long TIMEOUT_MILLIS = 30_000;

    private final Plan plan;

    FanOutScenario(Plan plan) {
        this.plan = plan;
    }

    List<Row> run(AppInstance receiver, ExtensionContender sender) {
        List<Row> rows = new ArrayList<>();
        for (int clients : plan.fanOutClients()) {
            Row row = Progress.attempt("SSE fan-out, " + clients + " clients", () -> measure(receiver, sender, clients));
            rows.add(row == null ? new Row(clients, List.of(), Double.NaN, "failed (see the run's log)") : row);
        }
        return rows;
    }

    private Row measure(AppInstance receiver, ExtensionContender sender, int clients) throws Exception {
        String heap = receiver.url() + "/bench/heap";
        long before = ((Number) Http.get(heap, Map.class).get("used")).longValue();
        try (SseFanOut fanOut = new SseFanOut(receiver.port, clients, "fanout")) {
            long after = ((Number) Http.get(heap, Map.class).get("used")).longValue();
            // Not measured: proves every stream is subscribed before the clock runs.
            String caveat = "";
            if (!deliver(fanOut, sender, Runs.next())) {
                caveat = fanOut.missing() + " clients missed the first message";
            }
            List<Double> millis = new ArrayList<>();
            for (int i = 0; i < plan.fanOutMessages(); i++) {
                long start = System.nanoTime();
                boolean all = deliver(fanOut, sender, Runs.next());
                millis.add(all ? (System.nanoTime() - start) / 1e6 : Double.NaN);
            }
            return new Row(clients, millis, (after - before) / 1024.0 / clients, caveat);
        }
    }

    private static boolean deliver(SseFanOut fanOut, ExtensionContender sender, String marker) throws Exception {
        fanOut.expect(marker);
        sender.send("fanout", marker, 1, Duration.ofSeconds(60), 1, 100);
        return fanOut.awaitAll(TIMEOUT_MILLIS);
    }

    static void render(Report report, List<Row> rows) {
        if (rows == null || rows.isEmpty()) {
            return;
        }
        List<List<String>> table = new ArrayList<>();
        StringBuilder words = new StringBuilder();
        for (Row row : rows) {
            table.add(List.of(Fmt.number(row.clients()), Fmt.rate(row.median()), row.millis().stream()
                    .map(Fmt::rate).reduce((a, b) -> a + ", " + b).orElse("—"),
                    String.format(java.util.Locale.ROOT, "%.1f", row.heapPerClientKiB())));
            if (!row.caveat().isEmpty()) {
                words.append(" ").append(Fmt.number(row.clients())).append(" clients: ").append(row.caveat())
                        .append('.');
            }
        }
        Row largest = rows.get(rows.size() - 1);
        report.section("SSE fan-out")
                .paragraph(String.format("Server-Sent Events clients (`GET /imdispatcher/sse?channel=fanout`) on the"
                        + " receiving instance, all in one JVM on the same machine; one message sent by the sending"
                        + " instance; milliseconds from the send request until every client has the message (a first"
                        + " message, not counted, proves every stream subscribed). Heap per client: the receiving"
                        + " instance's heap after full collections, with the clients connected minus before, divided"
                        + " by the clients. With %s clients the median was %s ms.", Fmt.number(largest.clients()),
                        Fmt.rate(largest.median())) + words)
                .table(List.of("clients", "median (ms)", "each message (ms)", "heap per client (KiB)"), table);
    }
}
