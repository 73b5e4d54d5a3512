package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts the two benchmark applications on a {@link Stack}: the datasource on PgBouncer (the pooled path), the
 * listener on PostgreSQL itself (the direct path), as the extension is meant to be deployed.
 */
final class Apps {

    /** The sending application's Agroal pool (its application.properties): at least the largest sender count. */
    static final int SENDER_POOL = 150;

    private final Plan plan;

    Apps(Plan plan) {
        this.plan = plan;
    }

    AppInstance sender(Stack stack) throws IOException, InterruptedException {
        String name = stack.disk.key + "-sender";
        List<String> jvm = new ArrayList<>(List.of("-Xmx1g"));
        if (plan.profile()) {
            jvm.addAll(Profiler.jvmOptions(plan.target(),
                    plan.target().resolve("profile-" + name + "." + System.getProperty("bench.profile.format", "html"))));
        }
        return AppInstance.start(name, plan.senderApp(), jvm, config(stack, Map.of()), plan.logs());
    }

    AppInstance receiver(Stack stack) throws IOException, InterruptedException {
        return AppInstance.start(stack.disk.key + "-receiver", plan.receiverApp(), List.of("-Xmx1g"),
                config(stack, Map.of()), plan.logs());
    }

    /** A receiver with a small heap whose slow listener sleeps {@link Plan#slowSleep()} per message. */
    AppInstance slowReceiver(Stack stack) throws IOException, InterruptedException {
        return AppInstance.start(stack.disk.key + "-slow-receiver", plan.receiverApp(),
                List.of("-Xmx" + plan.slowHeap()), config(stack, Map.of("bench.slow.sleep", plan.slowSleep().toString())),
                plan.logs());
    }

    /** Another instance of the receiving application, for the fleet scenario: it listens and reads head hints. */
    AppInstance fleetMember(Stack stack, String name) throws IOException, InterruptedException {
        return AppInstance.start(stack.disk.key + "-" + name, plan.receiverApp(), List.of("-Xmx256m"),
                config(stack, Map.of()), plan.logs());
    }

    /** A receiver whose group "bench" (GroupWorker) has {@code partitions} partitions: one member of the group. */
    AppInstance groupMember(Stack stack, int partitions, String name) throws IOException, InterruptedException {
        List<String> jvm = new ArrayList<>(List.of("-Xmx512m"));
        if (plan.profile()) {
            jvm.addAll(Profiler.jvmOptions(plan.target(), plan.target().resolve("profile-" + stack.disk.key + "-" + name
                    + "." + System.getProperty("bench.profile.format", "html"))));
        }
        return AppInstance.start(stack.disk.key + "-" + name, plan.receiverApp(), jvm,
                config(stack, Map.of("quarkus.imdispatcher.groups.bench.partitions", String.valueOf(partitions))),
                plan.logs());
    }

    private static Map<String, String> config(Stack stack, Map<String, String> extra) {
        Servers servers = stack.servers;
        Map<String, String> config = new HashMap<>();
        config.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://" + servers.host() + ":"
                + servers.pgbouncerPort() + "/" + servers.database());
        config.put("quarkus.datasource.username", servers.user());
        config.put("quarkus.datasource.password", servers.password());
        config.put("quarkus.imdispatcher.db-host", servers.host());
        config.put("quarkus.imdispatcher.db-port", String.valueOf(servers.postgresPort()));
        config.put("quarkus.imdispatcher.db-name", servers.database());
        config.putAll(extra);
        return config;
    }

    static Path jar(String property) {
        return Path.of(System.getProperty(property, "missing-" + property));
    }
}
