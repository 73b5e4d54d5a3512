package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/**
 * Two small C programs, compiled with gcc at run time into a temporary directory:
 * <ul>
 * <li>a shim for {@code LD_PRELOAD} that makes {@code fdatasync} and {@code fsync} sleep a fixed time before calling
 * the real ones: a disk whose flush takes about that much longer, as a network-attached cloud disk's does. Loaded
 * only into the PostgreSQL server (see {@link Postgres});</li>
 * <li>a flush timer: 8 kB writes into a preallocated 16 MB file, each followed by {@code fdatasync}, as PostgreSQL
 * writes and flushes its WAL at commit; it prints the mean time of one write + flush.</li>
 * </ul>
 */
final class FlushTools implements AutoCloseable {

    /** Environment variable that sets the shim's delay in microseconds. */
    static final String DELAY_VARIABLE = "BENCH_FLUSH_DELAY_MICROS";

    private static final String SHIM = """
            #define _GNU_SOURCE
            #include <dlfcn.h>
            #include <errno.h>
            #include <stdlib.h>
            #include <time.h>

            static int (*real_fdatasync)(int);
            static int (*real_fsync)(int);
            static struct timespec delay = { 0, 1000000 };

            __attribute__((constructor)) static void init(void) {
                real_fdatasync = (int (*)(int)) dlsym(RTLD_NEXT, "fdatasync");
                real_fsync = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
                const char *micros = getenv("%s");
                if (micros != NULL) {
                    long us = atol(micros);
                    delay.tv_sec = us / 1000000;
                    delay.tv_nsec = (us %% 1000000) * 1000;
                }
            }

            /* PostgreSQL's latches use signals: finish the sleep whatever interrupts it. */
            static void wait_like_a_disk(void) {
                struct timespec left = delay;
                int saved = errno;
                while (nanosleep(&left, &left) == -1 && errno == EINTR) {
                }
                errno = saved;
            }

            int fdatasync(int fd) {
                wait_like_a_disk();
                return real_fdatasync(fd);
            }

            int fsync(int fd) {
                wait_like_a_disk();
                return real_fsync(fd);
            }
            """.formatted(DELAY_VARIABLE);

    private static final String TIMER = """
            #define _GNU_SOURCE
            #include <fcntl.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <time.h>
            #include <unistd.h>

            static double seconds(void) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                return now.tv_sec + now.tv_nsec / 1e9;
            }

            int main(int argc, char **argv) {
                if (argc != 3) {
                    fprintf(stderr, "usage: flushtimer FILE MILLIS\\n");
                    return 2;
                }
                static char block[8192];
                memset(block, 'w', sizeof block);
                int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
                if (fd < 0) {
                    perror("open");
                    return 1;
                }
                /* Allocated and flushed first, like a WAL segment, so the timed writes change no file size. */
                for (int i = 0; i < 2048; i++) {
                    if (write(fd, block, sizeof block) != sizeof block) {
                        perror("write");
                        return 1;
                    }
                }
                fsync(fd);
                double start = seconds(), elapsed = 0, limit = atol(argv[2]) / 1000.0;
                long flushes = 0;
                while (elapsed < limit) {
                    if (pwrite(fd, block, sizeof block, (flushes % 2048) * 8192L) != sizeof block || fdatasync(fd) != 0) {
                        perror("pwrite/fdatasync");
                        return 1;
                    }
                    flushes++;
                    elapsed = seconds() - start;
                }
                printf("%ld %.1f\\n", flushes, elapsed * 1e6 / flushes);
                close(fd);
                unlink(argv[1]);
                return 0;
            }
            """;

    private final Path directory;
    private final Path shim;
    private final Path timer;

    private FlushTools(Path directory, Path shim, Path timer) {
        this.directory = directory;
        this.shim = shim;
        this.timer = timer;
    }

    static FlushTools compile() throws IOException {
        Path directory = Files.createTempDirectory("bench-flush-tools");
        Files.writeString(directory.resolve("flushdelay.c"), SHIM);
        Files.writeString(directory.resolve("flushtimer.c"), TIMER);
        Path shim = directory.resolve("libflushdelay.so");
        Path timer = directory.resolve("flushtimer");
        Commands.output(List.of("gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", shim.toString(),
                directory.resolve("flushdelay.c").toString(), "-ldl"));
        Commands.output(List.of("gcc", "-O2", "-Wall", "-o", timer.toString(),
                directory.resolve("flushtimer.c").toString()));
        // The servers run as another user: they must be able to reach and map the shim.
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(shim, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new FlushTools(directory, shim, timer);
    }

    Path shim() {
        return shim;
    }

    /**
     * Mean milliseconds of one 8 kB write + fdatasync in {@code directory} (on the data directory's file system),
     * over {@code millis}; through the shim when {@code delayMicros} > 0.
     */
    double flushMillis(Path directory, long millis, long delayMicros) throws IOException {
        Map<String, String> environment = delayMicros > 0
                ? Map.of("LD_PRELOAD", shim.toString(), DELAY_VARIABLE, String.valueOf(delayMicros))
                : Map.of();
        String[] result = Commands.output(List.of(timer.toString(), directory.resolve("flushtimer.dat").toString(),
                String.valueOf(millis)), environment, null).trim().split("\\s+");
        return Double.parseDouble(result[1]) / 1000;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(shim);
        Files.deleteIfExists(timer);
        Files.deleteIfExists(directory.resolve("flushdelay.c"));
        Files.deleteIfExists(directory.resolve("flushtimer.c"));
        Files.deleteIfExists(directory);
    }
}
