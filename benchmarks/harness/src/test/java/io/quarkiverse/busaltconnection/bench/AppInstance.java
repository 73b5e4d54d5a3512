package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A packaged application (quarkus-run.jar) in a JVM of its own, with its configuration as system properties, its
 * own JVM options (heap, profiler) and its output kept in a log file under target/ (read after the run, and scanned
 * for errors such as OutOfMemoryError).
 */
final class AppInstance implements AutoCloseable {

    final String name;
    final int port;
    final Path log;
    private final Process process;
    /** An aborted run must not leave applications behind: they are processes outside this JVM. */
    private final Thread stopAtExit;

    private AppInstance(String name, int port, Path log, Process process) {
        this.name = name;
        this.port = port;
        this.log = log;
        this.process = process;
        this.stopAtExit = new Thread(process::destroyForcibly, "bench-app-stop-" + name);
        Runtime.getRuntime().addShutdownHook(stopAtExit);
    }

    static AppInstance start(String name, Path jar, List<String> jvmOptions, Map<String, String> config, Path logs)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build the benchmarks with " + BenchmarkIT.COMMAND);
        }
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.addAll(jvmOptions);
        command.add("-Dquarkus.http.port=" + port);
        config.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.addAll(List.of("-jar", jar.toString()));
        Path log = Files.createDirectories(logs).resolve(name + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AppInstance app = new AppInstance(name, port, log, process);
        try {
            app.awaitUp();
        } catch (IOException | RuntimeException | InterruptedException e) {
            app.close();
            throw e;
        }
        return app;
    }

    String url() {
        return "http://localhost:" + port;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL: the instance dies without closing anything, as in a crash. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    boolean logContains(String text) throws IOException {
        return Files.readString(log).contains(text);
    }

    private void awaitUp() throws IOException, InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.currentTimeMillis() + 90_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited; its log " + log + ":\n" + Files.readString(log));
            }
            try {
                if (client.send(HttpRequest.newBuilder(URI.create(url() + "/bench/up")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(name + " did not answer within 90 s; see " + log);
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(stopAtExit);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running.
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
