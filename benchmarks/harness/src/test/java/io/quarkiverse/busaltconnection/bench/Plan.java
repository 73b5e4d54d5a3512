package io.quarkiverse.busaltconnection.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What one run measures and for how long, from system properties (all optional; pass them to the verify command,
 * e.g. {@code ./mvnw -B -f benchmarks/pom.xml verify -Dbench.quick=true}):
 * <ul>
 * <li>{@code bench.quick=true}: a smoke run of a few minutes: every step shorter, 1,000 SSE clients, 2,000 slow
 * messages;</li>
 * <li>{@code bench.disks=machine,1ms}: which disks (this machine's, and with 1 ms added to every flush);</li>
 * <li>{@code bench.scenarios=throughput,single,latency,connections,fanout,slow,groups,storage,retention,fleet,snapshot,messaging}:
 * which
 * scenarios;</li>
 * <li>{@code bench.senders=1,8,32,128}: sender counts of the throughput and connection scenarios;</li>
 * <li>{@code bench.seconds=8}: length of one throughput measurement;</li>
 * <li>{@code bench.slow.messages=100000}, {@code bench.slow.sleep=1ms}, {@code bench.slow.heap=128m}: the slow
 * listener's backlog, its time per message and its instance's maximum heap;</li>
 * <li>{@code bench.flush.delay-micros=1000}: what the shim adds to each flush;</li>
 * <li>{@code bench.profile=true}: wall-clock flame graphs of the sending applications into harness/target/
 * ({@code bench.profile.format=collapsed} for collapsed stacks, to read as text);</li>
 * </ul>
 * Only a complete run (both disks, every scenario, none of these options) writes docs/; any other writes its report
 * to harness/target/partial-docs.
 */
record Plan(boolean quick, Set<Disk> disks, Set<String> scenarios, int[] senders, Duration throughputRun,
        int[] latencyRates, int latencyThreads, int[] fanOutClients, int fanOutMessages, int slowMessages,
        int slowSize, String slowHeap, Duration slowSleep, long flushDelayMicros, boolean profile, Path target,
        Path senderApp, Path receiverApp, Path docs) {

    static final List<String> ALL_SCENARIOS = List.of("throughput", "single", "latency", "connections", "fanout",
            "slow", "groups", "storage", "retention", "fleet", "snapshot", "messaging");
    /** Options that make a run smaller than the published one. */
    private static final Set<String> PARTIAL_OPTIONS = Set.of("bench.senders", "bench.seconds", "bench.slow.messages",
            "bench.slow.sleep", "bench.slow.heap", "bench.flush.delay-micros", "bench.profile", "bench.groups");

    static Plan fromSystemProperties() {
        boolean quick = Boolean.getBoolean("bench.quick");
        Path target = Path.of(System.getProperty("bench.target", "target"));
        Set<Disk> disks = disks(System.getProperty("bench.disks", "machine,1ms"));
        Set<String> scenarios = new LinkedHashSet<>(Arrays.asList(System.getProperty("bench.scenarios",
                String.join(",", ALL_SCENARIOS)).split(",")));
        // Only a complete run replaces the published results; anything less is written under target/.
        boolean partial = quick || disks.size() < Disk.values().length || !scenarios.containsAll(ALL_SCENARIOS)
                || PARTIAL_OPTIONS.stream().anyMatch(name -> System.getProperty(name) != null);
        return new Plan(quick,
                disks,
                scenarios,
                Arrays.stream(System.getProperty("bench.senders", "1,8,32,128").split(","))
                        .mapToInt(Integer::parseInt).toArray(),
                Duration.ofSeconds(Long.getLong("bench.seconds", quick ? 2 : 8)),
                new int[] { 100, 1_000 },
                16,
                quick ? new int[] { 1_000 } : new int[] { 1_000, 10_000 },
                quick ? 1 : 3,
                Integer.getInteger("bench.slow.messages", quick ? 2_000 : SlowListenerScenario.MESSAGES),
                SlowListenerScenario.SIZE,
                System.getProperty("bench.slow.heap", "128m"),
                duration(System.getProperty("bench.slow.sleep", "1ms")),
                Long.getLong("bench.flush.delay-micros", 1_000),
                Boolean.getBoolean("bench.profile"),
                target,
                Apps.jar("bench.sender.app"),
                Apps.jar("bench.receiver.app"),
                partial ? target.resolve("partial-docs")
                        : Path.of(System.getProperty("benchmarks.docs", "../../docs")));
    }

    boolean runs(String scenario) {
        return scenarios.contains(scenario);
    }

    /**
     * How long to offer {@code rate} messages per second: enough samples for p99 at 100/s (1,000 in a full run) and
     * for p99.9 at 1,000/s (5,000).
     */
    Duration latencyRun(int rate) {
        if (quick) {
            return Duration.ofSeconds(rate <= 100 ? 3 : 2);
        }
        return Duration.ofSeconds(rate <= 100 ? 10 : 5);
    }

    /** How long senders run while the connection scenario samples PostgreSQL's backends. */
    Duration connectionLoad() {
        return Duration.ofSeconds(quick ? 1 : 2);
    }

    Path logs() {
        return target.resolve("bench-logs");
    }

    String describe() {
        return (quick ? "quick run (-Dbench.quick=true: shorter steps, fewer clients and messages)" : "full run")
                + "; disks " + disks.stream().map(d -> d.label).collect(Collectors.joining(", "))
                + "; scenarios " + String.join(", ", scenarios);
    }

    /** "1ms", "500us", "2s", or ISO-8601 ("PT0.001S"). */
    static Duration duration(String text) {
        String value = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (value.startsWith("p")) {
            return Duration.parse(value.toUpperCase(java.util.Locale.ROOT));
        }
        for (String[] unit : new String[][] { { "us", "1000" }, { "ms", "1000000" }, { "s", "1000000000" } }) {
            if (value.endsWith(unit[0])) {
                double amount = Double.parseDouble(value.substring(0, value.length() - unit[0].length()).trim());
                return Duration.ofNanos(Math.round(amount * Long.parseLong(unit[1])));
            }
        }
        throw new IllegalArgumentException("not a duration: " + text + " (write 1ms, 500us, 2s)");
    }

    private static Set<Disk> disks(String keys) {
        Set<Disk> disks = EnumSet.noneOf(Disk.class);
        for (String key : keys.split(",")) {
            for (Disk disk : Disk.values()) {
                if (disk.key.equals(key.trim())) {
                    disks.add(disk);
                }
            }
        }
        return disks;
    }
}
