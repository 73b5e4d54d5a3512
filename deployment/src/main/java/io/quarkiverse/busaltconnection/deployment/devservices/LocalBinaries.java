package io.quarkiverse.busaltconnection.deployment.devservices;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The PostgreSQL server binaries ({@code initdb}, {@code postgres}) and {@code pgbouncer} of this machine, looked up
 * on PATH, through {@code pg_config --bindir}, and in Debian's layout.
 */
record LocalBinaries(Path postgresBin, Path pgbouncer) {

    /** @return the binaries, or what is missing and how to get it */
    static Lookup lookup() {
        return lookup(System.getenv().getOrDefault("PATH", ""), Path.of("/usr/lib/postgresql"),
                Path.of("/usr/sbin/pgbouncer"));
    }

    /**
     * @param path the PATH to search
     * @param debianVersions Debian's folder of PostgreSQL versions, each with a {@code bin/}
     * @param debianPgbouncer where Debian installs pgbouncer (outside a normal user's PATH)
     */
    static Lookup lookup(String path, Path debianVersions, Path debianPgbouncer) {
        Optional<Path> postgres = onPath(path, "initdb").map(Path::getParent)
                .filter(dir -> Files.isExecutable(dir.resolve("postgres")))
                .or(() -> onPath(path, "pg_config")
                        .flatMap(pgConfig -> output(List.of(pgConfig.toString(), "--bindir"))).map(Path::of)
                        .filter(dir -> Files.isExecutable(dir.resolve("initdb"))))
                .or(() -> debianLayout(debianVersions));
        Optional<Path> pgbouncer = onPath(path, "pgbouncer").or(() -> executable(debianPgbouncer));
        List<String> missing = new ArrayList<>();
        if (postgres.isEmpty()) {
            missing.add("the PostgreSQL server binaries (initdb, postgres: not on PATH, not at pg_config --bindir,"
                    + " not under /usr/lib/postgresql/*/bin)");
        }
        if (pgbouncer.isEmpty()) {
            missing.add("pgbouncer (not on PATH, not at /usr/sbin/pgbouncer)");
        }
        return missing.isEmpty() ? new Lookup(Optional.of(new LocalBinaries(postgres.get(), pgbouncer.get())), "")
                : new Lookup(Optional.empty(), String.join(" and ", missing));
    }

    record Lookup(Optional<LocalBinaries> binaries, String missing) {
    }

    private static Optional<Path> debianLayout(Path root) {
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(version -> version.resolve("bin"))
                    .filter(bin -> Files.isExecutable(bin.resolve("initdb")))
                    .max(Comparator.comparingInt(LocalBinaries::majorVersion));
        } catch (IOException e) {
            // No such folder: not Debian's layout.
            return Optional.empty();
        }
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static Optional<Path> onPath(String path, String name) {
        return Stream.of(path.split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty()).map(dir -> Path.of(dir, name)).filter(Files::isExecutable)
                .findFirst();
    }

    private static Optional<Path> executable(Path path) {
        return Files.isExecutable(path) ? Optional.of(path) : Optional.empty();
    }

    static Optional<String> output(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return process.waitFor() == 0 && !out.isEmpty() ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
