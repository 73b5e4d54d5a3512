package io.quarkiverse.busaltconnection.runtime.health;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.runtime.config.ImDispatcherConfig;
import io.quarkiverse.busaltconnection.runtime.dispatch.EngineStatus;
import io.quarkiverse.busaltconnection.runtime.dispatch.LossLog;
import io.quarkiverse.busaltconnection.runtime.pgbouncer.PgBouncerConsole;
import io.quarkiverse.busaltconnection.runtime.store.UnnumberedMessages;
import io.quarkus.runtime.configuration.DurationConverter;

/**
 * Readiness of the notification path: DOWN while the listening connection is down, while its last successful probe
 * is older than two probe intervals plus the probe timeout (a listener that went deaf), or while committed messages
 * wait for a position longer than {@code quarkus.imdispatcher.bus.unnumbered-timeout} (nobody sequences the bus). Registered
 * only when
 * the application has SmallRye Health.
 */
@Readiness
@ApplicationScoped
public class BusListenerHealthCheck implements HealthCheck {

    static final String NAME = "Bus Alt Connection listener";

    private final EngineStatus status;
    private final ImDispatcherConfig config;
    private final PgBouncerConsole pgbouncer;
    private final UnnumberedMessages unnumbered;

    @Inject
    public BusListenerHealthCheck(EngineStatus status, ImDispatcherConfig config, PgBouncerConsole pgbouncer,
            UnnumberedMessages unnumbered) {
        this.status = status;
        this.unnumbered = unnumbered;
        this.config = config;
        this.pgbouncer = pgbouncer;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named(NAME);
        Optional<String> unnumbered = unnumbered();
        unnumbered.ifPresent(reason -> response.withData("unnumbered", reason));
        if (!status.active()) {
            return response.status(unnumbered.isEmpty())
                    .withData("listening", "no: no @BusListener methods and no HTTP delivery").build();
        }
        boolean listening = status.listening();
        Optional<String> stale = staleProbe();
        List<BusStatus.GroupStatus> stoppedGroups = status.groups().stream()
                .filter(g -> g.stopped().isPresent() || g.stuck()).toList();
        response.status(listening && stale.isEmpty() && unnumbered.isEmpty() && stoppedGroups.isEmpty())
                .withData("server", status.server())
                .withData("listening", listening)
                .withData("backendPid", status.backendPid())
                .withData("channels", status.channels().size())
                .withData("epoch", status.epoch())
                .withData("head", status.head())
                .withData("sequencer", status.sequencing())
                .withData("reconnections", status.reconnections());
        for (BusStatus.ListenerStatus listener : status.listeners()) {
            response.withData("lag " + listener.listener(), listener.lag());
        }
        for (BusStatus.GroupStatus group : status.groups()) {
            String name = "group " + group.group() + " on " + group.channel() + (partitioned(status, group)
                    ? " partition " + group.partition()
                    : "");
            response.withData(name, group.stopped().orElse(!group.owner() ? "delivered by another instance"
                    : (group.stuck() ? "stuck: position " + group.position() + " has not moved while messages wait"
                            + group.oldestUnfinished().map(since -> " (the oldest since " + since + ")").orElse("")
                            : "delivering here, position " + group.position() + ", lag " + group.lag())));
        }
        LossLog losses = status.lossLog();
        if (losses.count() > 0) {
            // Reported, not a reason to stop traffic: the readers went on after the gap.
            response.withData("losses", losses.count());
            losses.recent().forEach(loss -> response.withData("loss " + loss.noticed(), loss.toString()));
        }
        status.lastNotification().ifPresent(time -> response.withData("lastNotification", time.toString()));
        status.lastProbe().ifPresent(time -> response.withData("lastProbe", time.toString()));
        stale.ifPresent(reason -> response.withData("probe", reason));
        status.probeFailure().ifPresent(reason -> response.withData("datasource", reason));
        // The seed article's advice: clients waiting for a server connection mean the pool is too small.
        pgbouncer.last().ifPresent(statistics -> response.withData("pgbouncer cl_waiting", (long) statistics
                .clientsWaiting()).withData("pgbouncer maxwait", statistics.longestWaitSeconds() + "s"));
        pgbouncer.failure().ifPresent(reason -> response.withData("pgbouncer", reason));
        return response.build();
    }

    /** Why committed messages wait too long for their positions, if they do. */
    private Optional<String> unnumbered() {
        Duration allowed = config.bus().unnumberedTimeout();
        return unnumbered.waiting().filter(waited -> waited.compareTo(allowed) > 0)
                .map(waited -> "committed messages have waited " + waited.toSeconds() + " s for a position (more"
                        + " than quarkus.imdispatcher.bus.unnumbered-timeout): no instance with @BusListener"
                        + " methods or HTTP delivery sequences the bus, or its sequencer cannot write");
    }

    private Optional<String> staleProbe() {
        ImDispatcherConfig.Probe probe = config.probe();
        String interval = probe.interval().trim();
        // The periodic probe is a quarkus-scheduler job: "off" and "disabled" turn it off, as they do any job, and so
        // does a disabled scheduler. Then only the startup probe counts.
        boolean periodic = probe.enabled() && !"off".equalsIgnoreCase(interval) && !"disabled".equalsIgnoreCase(interval)
                && ConfigProvider.getConfig().getOptionalValue("quarkus.scheduler.enabled", Boolean.class).orElse(true);
        if (!periodic) {
            return Optional.empty();
        }
        Duration allowed = DurationConverter.parseDuration(interval).multipliedBy(2).plus(probe.timeout());
        Optional<Instant> last = status.lastProbe();
        if (last.isEmpty() || last.get().isBefore(Instant.now().minus(allowed))) {
            return Optional.of("no probe came back in the last " + allowed.toSeconds() + " s");
        }
        return Optional.empty();
    }

    /** Whether the group has more than one partition on the channel, so that each is named. */
    private static boolean partitioned(BusStatus status, BusStatus.GroupStatus group) {
        return status.groups().stream().anyMatch(g -> g.group().equals(group.group())
                && g.channel().equals(group.channel()) && g.partition() > 0);
    }
}
