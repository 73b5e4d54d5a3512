package io.quarkiverse.busaltconnection.it;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The established TCP connections a process holds to a port, from {@code /proc}: its socket inodes (the links in
 * {@code /proc/<pid>/fd}) looked up in the kernel's tables ({@code /proc/<pid>/net/tcp} and {@code tcp6}).
 */
final class OpenSockets {

    private static final String ESTABLISHED = "01";

    private OpenSockets() {
    }

    /** The local ports of {@code pid}'s established connections to {@code remotePort}. */
    static Set<Integer> localPortsTo(long pid, int remotePort) throws IOException {
        Set<String> inodes = socketInodes(pid);
        Set<Integer> ports = new TreeSet<>();
        for (String table : List.of("tcp", "tcp6")) {
            Path file = Path.of("/proc", String.valueOf(pid), "net", table);
            if (!Files.exists(file)) {
                continue;
            }
            List<String> lines = Files.readAllLines(file);
            for (String line : lines.subList(1, lines.size())) {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                String[] fields = line.trim().split("\\s+");
                if (fields.length > 9 && fields[3].equals(ESTABLISHED) && port(fields[2]) == remotePort
                        && inodes.contains(fields[9])) {
                    ports.add(port(fields[1]));
                }
            }
        }
        return ports;
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
    }

    private static Set<String> socketInodes(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", String.valueOf(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring("socket:[".length(), target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // The descriptor was closed between the listing and the read.
                }
            }
        }
        return inodes;
    }
}
