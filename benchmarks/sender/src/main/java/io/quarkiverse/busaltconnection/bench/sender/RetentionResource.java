package io.quarkiverse.busaltconnection.bench.sender;

import java.time.Duration;

import jakarta.inject.Inject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import io.quarkiverse.busaltconnection.runtime.store.BusRetention;
import io.quarkiverse.busaltconnection.runtime.store.BusSlots;

/**
 * The retention scenario's two ways of removing messages, run by the sending application's retention through its
 * pool and PgBouncer, as its scheduled job would: whole slots, and rows one by one.
 */
@Path("/bench/retention")
@Produces(MediaType.APPLICATION_JSON)
public class RetentionResource {

    @Inject
    BusRetention retention;

    /** Empties the slots left behind whose messages are all older than {@code age}; rotates after {@code period}. */
    @POST
    @Path("/slots")
    public BusSlots.Pass slots(@QueryParam("age") String age, @QueryParam("period") String period) {
        return retention.maintainSlots(Duration.parse(age), Duration.parse(period));
    }

    /** Deletes the messages older than {@code age} row by row; how many. */
    @POST
    @Path("/rows")
    public int rows(@QueryParam("age") String age) {
        return retention.deleteOlderThan(Duration.parse(age));
    }
}
