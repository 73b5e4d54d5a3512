package io.quarkiverse.busaltconnection.it;

import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.BusDirect;
import io.quarkiverse.busaltconnection.BusException;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * The demo's HTTP API: send on the bus, read what the listeners received, look at both paths.
 */
@Path("/bus")
public class BusResource {

    @Inject
    Bus bus;

    @Inject
    Fulfilment fulfilment;

    @Inject
    Inbox inbox;

    @Inject
    BusStatus status;

    @Inject
    Drain drain;

    @Inject
    JobRuns jobRuns;

    @Inject
    @BusDirect
    Pool directClient;

    /**
     * The database failed the send (PostgreSQL or PgBouncer away, say): 503 with the bus's message, which names the
     * channel and the cause, so that the client retries; not a 500 with a stack trace in the log.
     */
    @ServerExceptionMapper
    public RestResponse<String> unavailable(BusException e) {
        Log.warnf("A send failed: %s", e.getMessage());
        return RestResponse.status(Response.Status.SERVICE_UNAVAILABLE, e.getMessage());
    }

    @POST
    @Path("/send/{channel}")
    @Consumes(MediaType.TEXT_PLAIN)
    public void send(@PathParam("channel") String channel, @QueryParam("key") String key, String payload) {
        if (key == null) {
            bus.send(channel, payload);
        } else {
            bus.send(channel, key, payload);
        }
    }

    /** Any channel name, any payload, as JSON: {"channel": "...", "payload": "..."}. */
    @POST
    @Path("/send")
    @Consumes(MediaType.APPLICATION_JSON)
    public void sendAny(Map<String, String> message) {
        bus.send(message.get("channel"), message.get("payload"));
    }

    @POST
    @Path("/orders")
    @Consumes(MediaType.APPLICATION_JSON)
    public void order(Order order) {
        bus.send("orders", order);
    }

    /** Places an order through Quarkus Messaging (Fulfilment's Emitter), in a transaction of this request. */
    @POST
    @Path("/purchases")
    @Consumes(MediaType.APPLICATION_JSON)
    public void purchase(Order order) {
        fulfilment.place(order, false);
    }

    /** Sends one line through Quarkus Messaging outside a transaction, on the bus channel "bulk"; once written. */
    @POST
    @Path("/bulk")
    @Consumes(MediaType.TEXT_PLAIN)
    public void sendBulk(String line) {
        fulfilment.sendOne(line, true);
    }

    /** The same through an outgoing channel whose tracing is disabled, on the bus channel "untraced". */
    @POST
    @Path("/untraced")
    @Consumes(MediaType.TEXT_PLAIN)
    public void sendUntraced(String line) {
        fulfilment.sendOne(line, false);
    }

    /** Sends inside a transaction that then fails: nothing may be delivered. */
    @POST
    @Path("/send-and-roll-back/{channel}")
    @Consumes(MediaType.TEXT_PLAIN)
    @Transactional
    public void sendAndRollBack(@PathParam("channel") String channel, String payload) {
        bus.send(channel, payload);
        throw new IllegalStateException("rolled back on purpose");
    }

    /** Sends twice inside one transaction: delivered at commit. */
    @POST
    @Path("/send-in-transaction/{channel}")
    @Consumes(MediaType.TEXT_PLAIN)
    @Transactional
    public void sendInTransaction(@PathParam("channel") String channel, String payload) {
        bus.send(channel, payload + "-1");
        bus.send(channel, payload + "-2");
    }

    /** Lets the slow listener finish its current message. */
    @POST
    @Path("/slow/open")
    public void openSlowGate() {
        SlowGate.open();
    }

    /** The durable consumer groups' members on this instance. */
    @GET
    @Path("/groups")
    @Produces(MediaType.APPLICATION_JSON)
    public List<BusStatus.GroupStatus> groups() {
        return status.groups();
    }

    /** The scheduled jobs' runs so far, as {"identity outcome": count}. */
    @GET
    @Path("/jobs")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Long> jobs() {
        return jobRuns.counts();
    }

    @GET
    @Path("/received/{listener}")
    @Produces(MediaType.APPLICATION_JSON)
    public List<String> received(@PathParam("listener") String listener) {
        return inbox.of(listener);
    }

    /** The slow "drain" listener: "run received outOfOrder". */
    @GET
    @Path("/drain")
    @Produces(MediaType.TEXT_PLAIN)
    public String drain() {
        return drain.state();
    }

    /** Heap in use after a full collection, in bytes. */
    @GET
    @Path("/heap")
    @Produces(MediaType.TEXT_PLAIN)
    public long heap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @GET
    @Path("/listener")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> listener() {
        return Map.of("listening", status.listening(), "backendPid", status.backendPid(),
                "channels", status.channels(), "head", status.head(), "epoch", status.epoch(),
                "sequencing", status.sequencing(), "listeners", status.listeners(),
                "reconnections", status.reconnections(), "jvmPid", ProcessHandle.current().pid());
    }

    /** The PostgreSQL backend pid of a connection of the direct reactive client. */
    @GET
    @Path("/direct")
    @Produces(MediaType.TEXT_PLAIN)
    public Uni<Integer> direct() {
        return directClient.query("SELECT pg_backend_pid()").execute()
                .map(rows -> rows.iterator().next().getInteger(0));
    }
}
