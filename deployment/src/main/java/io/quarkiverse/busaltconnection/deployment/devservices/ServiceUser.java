package io.quarkiverse.busaltconnection.deployment.devservices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code postgres} and {@code pgbouncer} refuse to run as root. As root, commands run as the {@code postgres} system
 * user (or {@code nobody}) through {@code setpriv}, which execs in place: the process is the server itself, so
 * stopping it stops the server. As anyone else, commands run as they are.
 */
final class ServiceUser {

    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private ServiceUser() {
    }

    static List<String> wrap(List<String> command) {
        if (!ROOT) {
            return command;
        }
        String user = name();
        String group = LocalBinaries.output(List.of("id", "-g", user)).orElseThrow(
                () -> new IllegalStateException("cannot read the primary group of user " + user));
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + group,
                "--init-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Makes {@code path} the service user's, so the servers can write there. */
    static void handOver(Path path) throws IOException {
        if (ROOT) {
            Files.setOwner(path, path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name()));
        }
    }

    private static String name() {
        return LocalBinaries.output(List.of("id", "-u", "postgres")).isPresent() ? "postgres" : "nobody";
    }
}
