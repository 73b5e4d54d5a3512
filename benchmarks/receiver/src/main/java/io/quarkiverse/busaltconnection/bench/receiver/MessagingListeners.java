package io.quarkiverse.busaltconnection.bench.receiver;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;

import io.quarkiverse.busaltconnection.bench.Load;
import io.smallrye.common.annotation.NonBlocking;

/**
 * The Quarkus Messaging scenario's receiving side: an {@code @Incoming} on the connector's channel, on the event
 * loop as {@link BenchListener} is; and the ceiling, an {@code Emitter} to an {@code @Incoming} in memory in this JVM
 * (no database), its receipts under {@value #MEMORY}.
 */
@ApplicationScoped
@Path("/bench/memory")
@Produces(MediaType.APPLICATION_JSON)
public class MessagingListeners {

    static final String MEMORY = "memory-";

    @Inject
    Receipts receipts;

    @Inject
    @Channel("bench-memory")
    Emitter<String> memory;

    @Incoming("bench-messaging")
    @NonBlocking
    void onBus(String payload) {
        receipts.record(payload);
    }

    @Incoming("bench-memory")
    @NonBlocking
    void inMemory(String payload) {
        receipts.record(MEMORY, payload);
    }

    @POST
    @Path("/closed")
    public Load.Result closed(@QueryParam("run") String run, @QueryParam("senders") int senders,
            @QueryParam("seconds") double seconds, @QueryParam("size") @DefaultValue("100") int size)
            throws InterruptedException {
        return Load.closed(run, senders, Duration.ofMillis((long) (seconds * 1000)), 0, size,
                payload -> memory.send(payload).toCompletableFuture().join());
    }

    @POST
    @Path("/open")
    public Load.Result open(@QueryParam("run") String run, @QueryParam("rate") int rate,
            @QueryParam("seconds") double seconds, @QueryParam("threads") int threads,
            @QueryParam("size") @DefaultValue("100") int size) throws InterruptedException {
        return Load.open(run, rate, Duration.ofMillis((long) (seconds * 1000)), threads, size,
                payload -> memory.send(payload).toCompletableFuture().join());
    }
}
