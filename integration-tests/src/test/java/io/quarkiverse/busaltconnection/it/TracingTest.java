package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkiverse.busaltconnection.BusStatus;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

/**
 * Traces from the request that sends to the listener that handles: the send is a producer span in the request's
 * trace, the listener's call a consumer span linked to it, with the messaging attributes; HTTP clients get the
 * sender's trace context with the message.
 */
@QuarkusTest
class TracingTest {

    @Inject
    InMemorySpanExporter spans;

    @Inject
    BusStatus status;

    @Inject
    Fulfilment fulfilment;

    @Test
    void theListenersSpanLinksToTheSendersSpan() {
        String text = DeliveryTest.unique("traced");
        DeliveryTest.send("greetings", text);
        await().atMost(Duration.ofSeconds(15))
                .until(() -> DeliveryTest.received("greetings").stream().anyMatch(e -> e.startsWith(text + "@")));
        String entry = DeliveryTest.received("greetings").stream().filter(e -> e.startsWith(text + "@")).findFirst()
                .orElseThrow();
        String position = entry.substring(entry.lastIndexOf('#') + 1);

        SpanData process = await().atMost(Duration.ofSeconds(10)).until(() -> span(s -> s.getKind() == SpanKind.CONSUMER
                && position.equals(s.getAttributes().get(AttributeKey.stringKey("messaging.message.id")))),
                Optional::isPresent).orElseThrow();
        assertEquals("greetings process", process.getName());
        assertEquals("postgresql", process.getAttributes().get(AttributeKey.stringKey("messaging.system")));
        assertEquals("greetings", process.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")));
        assertEquals(1, process.getLinks().size(), "the consumer span links to the send");

        var link = process.getLinks().get(0).getSpanContext();
        SpanData publish = span(s -> s.getSpanId().equals(link.getSpanId())).orElseThrow();
        assertEquals(SpanKind.PRODUCER, publish.getKind());
        assertEquals("greetings publish", publish.getName());
        SpanData request = span(s -> s.getSpanId().equals(publish.getParentSpanId())).orElseThrow();
        assertEquals(SpanKind.SERVER, request.getKind(), "the send is a child of the request that made it");
        assertTrue(request.getName().contains("/bus/send"), request.getName());
    }

    @Test
    void anEmittersSendIsInTheRequestsTraceAndTheIncomingCallLinksToIt() {
        long id = System.nanoTime();
        given().contentType(ContentType.JSON).body(Map.of("id", id, "item", "traced")).post("/bus/purchases").then()
                .statusCode(204);
        SpanData publish = await().atMost(Duration.ofSeconds(10)).until(() -> span(s -> s.getKind() == SpanKind.PRODUCER
                && s.getName().equals("purchases publish") && s.getParentSpanId() != null && span(r -> r.getSpanId()
                        .equals(s.getParentSpanId()) && r.getName().contains("/bus/purchases")).isPresent()),
                Optional::isPresent).orElseThrow();
        SpanData process = await().atMost(Duration.ofSeconds(10)).until(() -> span(s -> s.getKind() == SpanKind.CONSUMER
                && s.getName().equals("purchases process") && s.getLinks().stream().anyMatch(
                        link -> link.getSpanContext().getSpanId().equals(publish.getSpanId()))),
                Optional::isPresent)
                .orElseThrow();
        assertEquals("purchases", process.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")));
        // The audit line the processor made of it reached audit-in, whose tracing-enabled is false: no span.
        await().atMost(Duration.ofSeconds(10)).until(() -> fulfilment.audited().stream()
                .anyMatch(line -> line.startsWith("order " + id + " of traced@audit#")));
        assertTrue(span(s -> s.getKind() == SpanKind.CONSUMER && s.getName().equals("audit process")).isEmpty(),
                "a span for a channel whose tracing-enabled is false");
    }

    @Test
    void anEmittersSendOutsideATransactionIsInTheRequestsTraceToo() {
        String line = DeliveryTest.unique("traced-bulk");
        given().contentType(ContentType.TEXT).body(line).post("/bus/bulk").then().statusCode(204);
        // Written by the channel's writer on another thread, in the sender's trace context.
        SpanData publish = await().atMost(Duration.ofSeconds(10)).until(() -> span(s -> s.getKind() == SpanKind.PRODUCER
                && s.getName().equals("bulk publish") && s.getParentSpanId() != null && span(r -> r.getSpanId()
                        .equals(s.getParentSpanId()) && r.getName().contains("/bus/bulk")).isPresent()),
                Optional::isPresent).orElseThrow();
        assertEquals("bulk", publish.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")));
    }

    @Test
    void anOutgoingChannelWhoseTracingIsDisabledMakesNoProducerSpan() throws Exception {
        String traced = DeliveryTest.unique("traced-bulk");
        String untraced = DeliveryTest.unique("untraced");
        given().contentType(ContentType.TEXT).body(untraced).post("/bus/untraced").then().statusCode(204);
        given().contentType(ContentType.TEXT).body(traced).post("/bus/bulk").then().statusCode(204);
        // Sent after the untraced one, on a channel of the same kind: once its span is there, the other would be.
        await().atMost(Duration.ofSeconds(10)).until(() -> span(s -> s.getName().equals("bulk publish")).isPresent());
        assertEquals(1, MessagingTest.count("SELECT count(*) FROM imdispatcher_bus WHERE channel = 'untraced' AND payload = '"
                + untraced + "' AND traceparent IS NULL"), "the untraced message was written without a trace context");
        assertTrue(span(s -> s.getKind() == SpanKind.PRODUCER && s.getName().equals("untraced publish")).isEmpty(),
                "a producer span for an outgoing channel whose tracing-enabled is false");
    }

    @Test
    void httpClientsGetTheSendersTraceContext() {
        String channel = DeliveryTest.unique("public.traced");
        long before = status.head();
        DeliveryTest.send(channel, "traced for the browser");
        List<Map<String, Object>> messages = await().atMost(Duration.ofSeconds(10)).until(() -> given()
                .contentType(ContentType.JSON)
                .body(Map.of("channels", List.of(channel), "last", status.epoch() + "-" + before))
                .post("/imdispatcher/poll").then().statusCode(200).extract().jsonPath()
                .<Map<String, Object>> getList("messages"), list -> !list.isEmpty());
        String traceparent = (String) messages.get(0).get("traceparent");
        SpanData publish = await().atMost(Duration.ofSeconds(10)).until(() -> span(s -> s.getKind() == SpanKind.PRODUCER
                && s.getName().equals(channel + " publish")), Optional::isPresent).orElseThrow();
        assertEquals("00-" + publish.getTraceId() + "-" + publish.getSpanId() + "-01", traceparent);
    }

    private Optional<SpanData> span(java.util.function.Predicate<SpanData> which) {
        return spans.getFinishedSpanItems().stream().filter(which).findFirst();
    }
}
