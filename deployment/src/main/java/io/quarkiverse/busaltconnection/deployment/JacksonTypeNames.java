package io.quarkiverse.busaltconnection.deployment;

import java.util.Optional;
import java.util.stream.Collectors;

import org.jboss.jandex.Type;

/**
 * Writes a Jandex type as a Jackson canonical type name ({@code TypeFactory.constructFromCanonical}), so that the
 * runtime can build the full generic payload type at run time without reflection on the listener method.
 */
final class JacksonTypeNames {

    private JacksonTypeNames() {
    }

    /** @return the canonical name, or empty if Jackson could not be given a concrete type for it */
    static Optional<String> canonical(Type type) {
        switch (type.kind()) {
            case CLASS:
            case PRIMITIVE:
                return Optional.of(type.name().toString());
            case PARAMETERIZED_TYPE: {
                StringBuilder name = new StringBuilder(type.name().toString()).append('<');
                var arguments = type.asParameterizedType().arguments().stream().map(JacksonTypeNames::canonical)
                        .toList();
                if (arguments.stream().anyMatch(Optional::isEmpty)) {
                    return Optional.empty();
                }
                name.append(arguments.stream().map(Optional::get).collect(Collectors.joining(",")));
                return Optional.of(name.append('>').toString());
            }
            case ARRAY: {
                // Jackson reads array types in JVM descriptor form, e.g. "[Lcom.acme.Order;" or "[I".
                Type component = type.asArrayType().constituent();
                if (component.kind() == Type.Kind.PRIMITIVE || component.kind() == Type.Kind.CLASS) {
                    return Optional.of(type.name().toString());
                }
                return Optional.empty();
            }
            default:
                return Optional.empty();
        }
    }
}
