package io.quarkiverse.busaltconnection.bench.sender;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;

import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import io.agroal.api.AgroalDataSource;
import io.quarkiverse.busaltconnection.Bus;
import io.quarkiverse.busaltconnection.bench.Load;
import io.quarkus.narayana.jta.QuarkusTransaction;

/**
 * Drives {@link Bus#send} from inside the sending instance: one message per call, outside any transaction
 * (autocommit) or, when asked, in a transaction of its own, from N threads, as an application's request threads would. Each
 * request returns when its load is
 * done, with the sender-side counts (the commit rate).
 */
@Path("/bench")
@Produces(MediaType.APPLICATION_JSON)
public class SendResource {

    /** The baseline of the storage scenario: the same payload inserted plainly, through the same pool and PgBouncer. */
    static final String PLAIN_INSERT = "INSERT INTO bench_plain (channel, payload) VALUES (?, ?)";

    @Inject
    Bus bus;

    @Inject
    AgroalDataSource dataSource;

    @GET
    @Path("/up")
    public String up() {
        return "up";
    }

    /**
     * {@code senders} threads back to back for {@code seconds}, or until {@code count} messages if > 0; each in a
     * transaction of its own when {@code transaction}.
     */
    @POST
    @Path("/send/closed")
    public Load.Result closed(@QueryParam("run") String run, @QueryParam("channel") @DefaultValue("bench") String channel,
            @QueryParam("senders") int senders, @QueryParam("seconds") double seconds,
            @QueryParam("count") @DefaultValue("0") long count, @QueryParam("size") @DefaultValue("100") int size,
            @QueryParam("transaction") boolean transaction) throws InterruptedException {
        return Load.closed(run, senders, Duration.ofMillis((long) (seconds * 1000)), count, size, sender(channel,
                transaction));
    }

    /**
     * As {@link #closed}, but each message is a plain INSERT into {@code bench_plain} (a primary key, the channel, the
     * payload, the time) in autocommit, on a connection of the same datasource that {@code Bus.send} uses.
     */
    @POST
    @Path("/insert/closed")
    public Load.Result insertClosed(@QueryParam("run") String run,
            @QueryParam("channel") @DefaultValue("bench") String channel, @QueryParam("senders") int senders,
            @QueryParam("seconds") double seconds, @QueryParam("count") @DefaultValue("0") long count,
            @QueryParam("size") @DefaultValue("100") int size) throws InterruptedException {
        return Load.closed(run, senders, Duration.ofMillis((long) (seconds * 1000)), count, size, payload -> {
            try (Connection connection = dataSource.getConnection();
                    PreparedStatement insert = connection.prepareStatement(PLAIN_INSERT)) {
                insert.setString(1, channel);
                insert.setString(2, payload);
                insert.executeUpdate();
            }
        });
    }

    /**
     * {@code rate} messages per second for {@code seconds}, each due at its scheduled time, on {@code threads}; each in
     * a transaction of its own ({@code QuarkusTransaction.requiringNew()}) when {@code transaction}.
     */
    @POST
    @Path("/send/open")
    public Load.Result open(@QueryParam("run") String run, @QueryParam("channel") @DefaultValue("bench") String channel,
            @QueryParam("rate") int rate, @QueryParam("seconds") double seconds,
            @QueryParam("threads") int threads, @QueryParam("size") @DefaultValue("100") int size,
            @QueryParam("transaction") boolean transaction) throws InterruptedException {
        return Load.open(run, rate, Duration.ofMillis((long) (seconds * 1000)), threads, size,
                sender(channel, transaction));
    }

    private Load.Send sender(String channel, boolean transaction) {
        return transaction ? payload -> QuarkusTransaction.requiringNew().run(() -> bus.send(channel, payload))
                : payload -> bus.send(channel, payload);
    }
}
