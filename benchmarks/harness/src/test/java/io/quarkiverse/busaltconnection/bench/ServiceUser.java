package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code postgres} and {@code pgbouncer} refuse to run as root. As root, their commands run as the {@code postgres}
 * system user (or {@code nobody}) through {@code setpriv}, which execs in place: the process started is the server
 * itself, so signalling it signals the server. As anyone else, commands run as they are.
 */
final class ServiceUser {

    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private ServiceUser() {
    }

    static List<String> wrap(List<String> command) throws IOException {
        if (!ROOT) {
            return command;
        }
        String user = name();
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + user,
                "--regid=" + Commands.output(List.of("id", "-g", user)).trim(), "--init-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Makes {@code path} the service user's, so that the servers can write there. */
    static void handOver(Path path) throws IOException {
        if (ROOT) {
            Files.setOwner(path, path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name()));
        }
    }

    private static String name() throws IOException {
        try {
            Commands.output(List.of("id", "-u", "postgres"));
            return "postgres";
        } catch (IOException noSuchUser) {
            return "nobody";
        }
    }
}
