package io.quarkiverse.busaltconnection.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs PostgreSQL's and PgBouncer's programs for fault-injection tests: as the owner of the Dev Services data
 * directory when the tests run as root (both servers refuse root), else as they are.
 */
final class ServerProcesses {

    private ServerProcesses() {
    }

    static Path bindir() throws IOException {
        return Path.of(run(List.of("pg_config", "--bindir"), Map.of()).trim());
    }

    /** Starts a long-running server process as {@code owner}'s user. */
    static Process start(Path owner, List<String> command, Path log) throws IOException {
        return new ProcessBuilder(asOwner(owner, command)).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
    }

    /** Runs a command as {@code owner}'s user to completion, failing with its output if it fails. */
    static String runAs(Path owner, List<String> command, Map<String, String> environment) throws IOException {
        return run(asOwner(owner, command), environment);
    }

    static void stop(Process process) throws IOException {
        if (process == null || !process.isAlive()) {
            return;
        }
        new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).start();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> asOwner(Path owner, List<String> command) throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            return command;
        }
        String user = Files.getOwner(owner).getName();
        String group = run(List.of("id", "-g", user), Map.of()).trim();
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + group,
                "--init-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    private static String run(List<String> command, Map<String, String> environment) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (process.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed:\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return output;
    }
}
