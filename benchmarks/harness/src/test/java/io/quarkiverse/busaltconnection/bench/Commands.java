package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Short-lived programs (gcc, initdb, pgbench, id) run to completion, and long-lived servers stopped. */
final class Commands {

    private Commands() {
    }

    /** Runs {@code command}, returning its output (stdout and stderr); fails with that output if it fails. */
    static String output(List<String> command) throws IOException {
        return output(command, Map.of(), null);
    }

    static String output(List<String> command, Map<String, String> environment, Path directory) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (process.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "):\n"
                        + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return output;
    }

    /** SIGINT (PostgreSQL's fast shutdown; PgBouncer exits on it too), then SIGKILL after 20 s. */
    static void stop(Process process) {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start().waitFor();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
