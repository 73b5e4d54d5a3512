package io.quarkiverse.busaltconnection.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** Samples the number of client backends of the database every 20 ms, keeping the peak. */
final class BackendSampler implements AutoCloseable {

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger peak = new AtomicInteger();
    private final Thread thread;

    BackendSampler(Servers servers) {
        thread = new Thread(() -> {
            try (Connection connection = DriverManager.getConnection(servers.directUrl(), servers.user(),
                    servers.password());
                    PreparedStatement count = connection.prepareStatement("SELECT count(*)"
                            + " FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = ?"
                            + " AND pid <> pg_backend_pid()")) {
                count.setString(1, servers.database());
                while (running.get()) {
                    try (ResultSet result = count.executeQuery()) {
                        result.next();
                        peak.accumulateAndGet(result.getInt(1), Math::max);
                    }
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "backend-sampler");
        thread.start();
    }

    int peak() {
        return peak.get();
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join();
    }
}
