package io.quarkiverse.busaltconnection.it;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkus.scheduler.FailedExecution;
import io.quarkus.scheduler.SkippedExecution;
import io.quarkus.scheduler.SuccessfulExecution;

/**
 * Counts the runs of every scheduled job by outcome, from the scheduler's own events: the tests check that the bus's
 * jobs really ran, not only that nothing was logged.
 */
@ApplicationScoped
public class JobRuns {

    private final Map<String, AtomicLong> runs = new ConcurrentHashMap<>();

    void succeeded(@Observes SuccessfulExecution execution) {
        count(execution.getExecution().getTrigger().getId(), "succeeded");
    }

    void failed(@Observes FailedExecution execution) {
        count(execution.getExecution().getTrigger().getId(), "failed");
    }

    void skipped(@Observes SkippedExecution execution) {
        count(execution.getExecution().getTrigger().getId(), "skipped");
    }

    private void count(String job, String outcome) {
        runs.computeIfAbsent(job + " " + outcome, key -> new AtomicLong()).incrementAndGet();
    }

    /** "job-identity outcome" to how many times; sorted. */
    Map<String, Long> counts() {
        Map<String, Long> counts = new TreeMap<>();
        runs.forEach((key, count) -> counts.put(key, count.get()));
        return counts;
    }
}
