package io.quarkiverse.busaltconnection.runtime.messaging;

import java.lang.reflect.Type;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.reactive.messaging.Message;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.busaltconnection.messaging.IncomingBusMetadata;
import io.smallrye.reactive.messaging.MessageConverter;

/**
 * Reads the payload of an incoming bus message, the JSON text {@code Bus.send(channel, object)} or an outgoing
 * channel wrote, into the type the consuming method asks for, with the application's {@code ObjectMapper}: the
 * connector's counterpart of a Kafka deserializer. A method that takes {@code String} gets the text as it is.
 */
@ApplicationScoped
public class JsonPayloads implements MessageConverter {

    @Inject
    ObjectMapper json;

    @Override
    public boolean canConvert(Message<?> in, Type target) {
        return in.getPayload() instanceof String && target != String.class && target != Object.class
                && target != CharSequence.class && in.getMetadata(IncomingBusMetadata.class).isPresent();
    }

    @Override
    public Message<?> convert(Message<?> in, Type target) {
        JavaType type = json.getTypeFactory().constructType(target);
        try {
            return in.withPayload(json.readValue((String) in.getPayload(), type));
        } catch (JsonProcessingException e) {
            IncomingBusMetadata metadata = in.getMetadata(IncomingBusMetadata.class).orElseThrow();
            throw new IllegalArgumentException("Message " + metadata.position() + " of bus channel '"
                    + metadata.channel() + "' is not JSON of " + type.toCanonical() + ": " + e.getOriginalMessage()
                    + ". Send payloads of that shape, or take the payload as String", e);
        }
    }
}
