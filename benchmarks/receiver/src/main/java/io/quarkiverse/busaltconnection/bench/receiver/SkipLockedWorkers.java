package io.quarkiverse.busaltconnection.bench.receiver;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jakarta.inject.Inject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;

import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;

/**
 * The group scenario's baseline, written as an application would write it by hand in this same application: worker
 * threads claiming outbox rows of {@code bench_jobs} with {@code SELECT ... FOR UPDATE SKIP LOCKED}, deleting them and
 * writing one row of {@code bench_jobs_done}, one JTA transaction per row on the application's datasource (as a group
 * call runs), until none is left.
 */
@Path("/bench/skip-locked")
public class SkipLockedWorkers {

    private static final String CLAIM = "DELETE FROM bench_jobs WHERE id = (SELECT id FROM bench_jobs ORDER BY id"
            + " FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id, k";

    @Inject
    AgroalDataSource dataSource;

    /** Drains the outbox with {@code workers} threads; returns the rows this instance did. */
    @POST
    public int drain(@QueryParam("workers") int workers) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        try {
            List<Future<Integer>> claimed = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                claimed.add(threads.submit(this::work));
            }
            int total = 0;
            for (Future<Integer> worker : claimed) {
                total += worker.get();
            }
            return total;
        } finally {
            threads.shutdownNow();
        }
    }

    private int work() {
        int done = 0;
        while (QuarkusTransaction.requiringNew().call(this::claimOne)) {
            done++;
        }
        return done;
    }

    /** In the caller's transaction: one row claimed and its effect written; false when none was left. */
    private boolean claimOne() throws Exception {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement claim = connection.prepareStatement(CLAIM);
                ResultSet job = claim.executeQuery()) {
            if (!job.next()) {
                return false;
            }
            try (PreparedStatement effect = connection.prepareStatement(
                    "INSERT INTO bench_jobs_done (id, k) VALUES (?, ?)")) {
                effect.setLong(1, job.getLong(1));
                effect.setString(2, job.getString(2));
                effect.executeUpdate();
            }
            return true;
        }
    }
}
