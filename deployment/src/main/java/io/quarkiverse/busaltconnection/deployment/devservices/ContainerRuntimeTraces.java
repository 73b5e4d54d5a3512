package io.quarkiverse.busaltconnection.deployment.devservices;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Whether this machine shows any sign of a container runtime: a {@code DOCKER_HOST}, a Docker or Podman socket, a
 * Testcontainers configuration. Asking Quarkus (and so Testcontainers) on a machine with none logs an ERROR with every
 * start, before the local binaries are used; in {@code auto} mode the extension asks only when there is a trace.
 */
final class ContainerRuntimeTraces {

    /** The logger of Testcontainers' search for a container runtime. */
    private static final String TESTCONTAINERS_SEARCH = "org.testcontainers.dockerclient.DockerClientProviderStrategy";

    private ContainerRuntimeTraces() {
    }

    /** The first trace found, or empty. */
    static Optional<String> find() {
        String dockerHost = System.getenv("DOCKER_HOST");
        if (dockerHost != null && !dockerHost.isBlank()) {
            return Optional.of("DOCKER_HOST");
        }
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/var/run/docker.sock"), Path.of("/run/docker.sock"),
                Path.of("/run/podman/podman.sock")));
        String home = System.getProperty("user.home");
        if (home != null) {
            candidates.add(Path.of(home, ".docker", "run", "docker.sock"));
            candidates.add(Path.of(home, ".docker", "desktop", "docker.sock"));
            Path testcontainers = Path.of(home, ".testcontainers.properties");
            if (configuresADockerHost(testcontainers)) {
                return Optional.of(testcontainers.toString());
            }
        }
        String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isBlank()) {
            candidates.add(Path.of(runtimeDir, "podman", "podman.sock"));
            candidates.add(Path.of(runtimeDir, "docker.sock"));
        }
        return candidates.stream().filter(Files::exists).map(Path::toString).findFirst();
    }

    /** Testcontainers writes this file itself, runtime or not; only a host or strategy in it is a trace. */
    private static boolean configuresADockerHost(Path properties) {
        if (!Files.isReadable(properties)) {
            return false;
        }
        Properties values = new Properties();
        try (Reader reader = Files.newBufferedReader(properties)) {
            values.load(reader);
        } catch (IOException e) {
            return false;
        }
        return values.containsKey("docker.host") || values.containsKey("tc.host")
                || values.containsKey("docker.client.strategy");
    }

    /**
     * In dev mode Quarkus describes every Dev Service for its console and Dev UI, and asks Testcontainers on the way
     * whether a container runtime exists; Testcontainers answers no with an ERROR and a list of what it tried. On a
     * machine with no trace of one, where these Dev Services run local processes, that ERROR says nothing the INFO
     * line about the chosen mode does not: its logger is turned off for this JVM. A Dev Service that does need
     * containers still fails with its own message.
     */
    static void quietenTestcontainersSearch() {
        java.util.logging.Logger.getLogger(TESTCONTAINERS_SEARCH).setLevel(java.util.logging.Level.OFF);
    }
}
