package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Wall-clock profiles of an application with async-profiler (its Maven artifact ships the native agent): every
 * thread sampled whether it runs or waits, so time spent blocked on a connection, a lock or the network shows, which
 * a CPU profile hides. The flame graph (HTML) is written when the application exits, one tower per thread: the
 * senders are the "bench-sender-*" threads.
 */
final class Profiler {

    private Profiler() {
    }

    /** JVM options that profile an application into {@code output} (an .html flame graph). */
    static List<String> jvmOptions(Path target, Path output) throws IOException {
        Path library = target.resolve("async-profiler/libasyncProfiler.so");
        if (!Files.exists(library)) {
            Files.createDirectories(library.getParent());
            try (InputStream in = Profiler.class.getClassLoader().getResourceAsStream("linux-x64/libasyncProfiler.so")) {
                if (in == null) {
                    throw new IllegalStateException("tools.profiler:async-profiler is not on the test class path");
                }
                Files.copy(in, library, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        String event = System.getProperty("bench.profile.event", "wall");
        return List.of("-agentpath:" + library + "=start,event=" + event + ",interval=1ms,threads,file=" + output);
    }
}
