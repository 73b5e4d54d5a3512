package io.quarkiverse.busaltconnection.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged application of the current module (target/quarkus-app) started in a JVM of its own with the given
 * configuration, its output in a file. Extra JVM arguments (a profiler, say) come from the system property
 * {@code app-process.jvm-args}.
 */
public final class AppProcess implements AutoCloseable {

    /**
     * JVM flags for an application that lives seconds to a minute on a two-core machine, where several start at once:
     * the C1 compiler alone and the serial collector spend a fraction of the CPU time that full tiered compilation
     * and G1 spend while the application boots. The same flags go to the application {@code @QuarkusIntegrationTest}
     * starts ({@code quarkus.test.arg-line} in the pom).
     */
    private static final List<String> QUICK_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    final Process process;
    /** Where the output is: a temporary file, moved under target/app-logs once the process is closed. */
    private volatile Path log;

    private AppProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static AppProcess start(Map<String, String> config) throws IOException {
        return start(config, List.of());
    }

    /** With JVM arguments ({@code -Xmx128m}, say) before the configuration. */
    public static AppProcess start(Map<String, String> config, List<String> jvmArgs) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.addAll(QUICK_START);
        command.addAll(jvmArgs);
        String extra = System.getProperty("app-process.jvm-args", "").trim();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        config.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().toString());
        Path log = Files.createTempFile("bus-app", ".log");
        return new AppProcess(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .start(), log);
    }

    /** A port free now, for an application's HTTP server or a server a test starts. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    String output() throws IOException {
        return Files.readString(log);
    }

    /** Waits until {@code path} answers 200 on {@code port}, at most a minute. */
    public void awaitHttp(int port, String path) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the application exited:\n" + output());
            }
            try {
                if (client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the application did not answer within a minute:\n" + output());
    }

    /**
     * Stops the application as an orchestrator does (SIGTERM) and waits for it to exit, at most 20 s.
     *
     * @return its exit code
     */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the application did not stop within 20 s of SIGTERM");
        }
        return process.exitValue();
    }

    /** Sends {@code signal} ({@code STOP}, {@code CONT}, ...) to the process {@code pid}. */
    static void signal(long pid, String signal) throws IOException, InterruptedException {
        int exit = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start().waitFor();
        if (exit != 0) {
            throw new IllegalStateException("kill -" + signal + " " + pid + " exited with " + exit);
        }
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        // Kept for a failed test's reader, beside the test reports.
        Path kept = Path.of("target", "app-logs").toAbsolutePath();
        Files.createDirectories(kept);
        if (!log.startsWith(kept)) {
            log = Files.move(log, kept.resolve(log.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
