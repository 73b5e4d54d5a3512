package io.quarkiverse.busaltconnection.bench.sender;

import java.time.Duration;

import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

import io.quarkiverse.busaltconnection.bench.Load;

/**
 * The Quarkus Messaging scenario's sender: an {@code Emitter} on the connector's outgoing channel (bus channel
 * bench-messaging), outside any transaction, each send waiting for its acknowledgement (the message committed), as
 * {@link SendResource}'s {@code Bus.send} waits for its commit.
 */
@Path("/bench/emit")
@Produces(MediaType.APPLICATION_JSON)
public class EmitResource {

    @Inject
    @Channel("bench-emit")
    Emitter<String> emitter;

    @POST
    @Path("/closed")
    public Load.Result closed(@QueryParam("run") String run, @QueryParam("senders") int senders,
            @QueryParam("seconds") double seconds, @QueryParam("size") @DefaultValue("100") int size)
            throws InterruptedException {
        return Load.closed(run, senders, Duration.ofMillis((long) (seconds * 1000)), 0, size,
                payload -> emitter.send(payload).toCompletableFuture().join());
    }

    @POST
    @Path("/open")
    public Load.Result open(@QueryParam("run") String run, @QueryParam("rate") int rate,
            @QueryParam("seconds") double seconds, @QueryParam("threads") int threads,
            @QueryParam("size") @DefaultValue("100") int size) throws InterruptedException {
        return Load.open(run, rate, Duration.ofMillis((long) (seconds * 1000)), threads, size,
                payload -> emitter.send(payload).toCompletableFuture().join());
    }
}
