package io.quarkiverse.busaltconnection.runtime.tracing;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.quarkiverse.busaltconnection.BusMessage;
import io.quarkiverse.busaltconnection.runtime.observe.BusObserver;
import io.quarkiverse.busaltconnection.runtime.observe.ListenerCall;

/**
 * Traces from {@code Bus.send} to the listener, with OpenTelemetry's messaging conventions. A send inside a traced
 * request gets a producer span ({@code <channel> publish}), child of the request's; its W3C trace context is stored
 * with the message. Each listener call runs in a consumer span ({@code <channel> process}) that links to it: the
 * listener's own spans are its children. A bean only when the application has OpenTelemetry tracing.
 */
@Singleton
public class BusTracing implements BusObserver {

    static final String SYSTEM = "postgresql";

    private final Tracer tracer;

    @Inject
    public BusTracing(Tracer tracer) {
        this.tracer = tracer;
    }

    @Override
    public String sending(String channel) {
        if (!Span.current().getSpanContext().isValid()) {
            // Not in a traced request: nothing to continue.
            return null;
        }
        Span publish = tracer.spanBuilder(channel + " publish").setSpanKind(SpanKind.PRODUCER)
                .setAttribute("messaging.system", SYSTEM)
                .setAttribute("messaging.destination.name", channel)
                .setAttribute("messaging.operation.type", "send")
                .startSpan();
        try {
            return TraceParent.format(publish.getSpanContext());
        } finally {
            publish.end();
        }
    }

    @Override
    public ListenerCall calling(BusMessage message, String listener) {
        var builder = tracer.spanBuilder(message.channel() + " process").setSpanKind(SpanKind.CONSUMER)
                // A message is processed in a trace of its own, linked to the one that sent it.
                .setNoParent()
                .setAttribute("messaging.system", SYSTEM)
                .setAttribute("messaging.destination.name", message.channel())
                .setAttribute("messaging.operation.type", "process")
                .setAttribute("messaging.message.id", String.valueOf(message.position()))
                .setAttribute("code.function", listener);
        SpanContext sender = TraceParent.parse(message.traceparent());
        if (sender.isValid()) {
            builder.addLink(sender);
        }
        Span process = builder.startSpan();
        return new ListenerCall() {
            @Override
            public Current makeCurrent() {
                Scope scope = Context.current().with(process).makeCurrent();
                return scope::close;
            }

            @Override
            public void ended(Throwable failure) {
                if (failure != null) {
                    process.recordException(failure);
                    process.setStatus(StatusCode.ERROR);
                }
                process.end();
            }
        };
    }

    /** The W3C {@code traceparent} header's format: version 00, trace id, span id, flags. */
    static final class TraceParent {

        private TraceParent() {
        }

        static String format(SpanContext context) {
            return "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex();
        }

        /** An invalid context for anything that is not a well-formed traceparent (it came from the table). */
        static SpanContext parse(String traceparent) {
            if (traceparent == null || traceparent.length() != 55 || !traceparent.startsWith("00-")) {
                return SpanContext.getInvalid();
            }
            String[] parts = traceparent.split("-");
            if (parts.length != 4 || parts[3].length() != 2) {
                return SpanContext.getInvalid();
            }
            try {
                return SpanContext.createFromRemoteParent(parts[1], parts[2],
                        TraceFlags.fromByte((byte) Integer.parseInt(parts[3], 16)), TraceState.getDefault());
            } catch (IllegalArgumentException e) {
                return SpanContext.getInvalid();
            }
        }
    }
}
