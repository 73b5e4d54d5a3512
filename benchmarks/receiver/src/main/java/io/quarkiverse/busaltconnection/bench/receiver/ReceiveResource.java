package io.quarkiverse.busaltconnection.bench.receiver;

import java.lang.management.ManagementFactory;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkiverse.busaltconnection.bench.RunStats;

/** What the harness reads from the receiving instance. */
@Path("/bench")
@Produces(MediaType.APPLICATION_JSON)
public class ReceiveResource {

    @Inject
    Receipts receipts;

    @Inject
    BusStatus status;

    @GET
    @Path("/up")
    public String up() {
        return "up";
    }

    @GET
    @Path("/stats")
    public RunStats stats(@QueryParam("run") String run) {
        return receipts.run(run).stats();
    }

    /** Cheap enough to poll while a run arrives (the percentiles are computed only by {@link #stats}). */
    @GET
    @Path("/count")
    public int count(@QueryParam("run") String run) {
        return receipts.run(run).count();
    }

    @DELETE
    @Path("/stats")
    public void forget(@QueryParam("run") String run) {
        receipts.forget(run);
    }

    /** How many partitions of one of the group scenario's groups this instance delivers now. */
    @GET
    @Path("/group")
    public long ownedPartitions(@QueryParam("name") @DefaultValue(GroupWorker.GROUP) String group) {
        return status.groups().stream().filter(g -> g.group().equals(group) && g.owner()).count();
    }

    @GET
    @Path("/slow")
    public Receipts.Slow slow() {
        return receipts.slow();
    }

    @DELETE
    @Path("/slow")
    public void resetSlow() {
        receipts.resetSlow();
    }

    /** Heap in use after full collections, in bytes: live data, not garbage waiting for the collector. */
    @GET
    @Path("/heap")
    public Map<String, Object> heap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return Map.of("used", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
}
