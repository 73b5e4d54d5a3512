package io.quarkiverse.busaltconnection.runtime.config;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.microprofile.config.Config;

/**
 * {@code ${key}} and {@code ${key:default}} in a {@code @BusListener} channel, resolved from configuration at startup,
 * as {@code @ConsumeEvent} addresses are. A channel without {@code ${} is taken as it is.
 */
public final class ChannelExpressions {

    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{([^}:]+)(?::([^}]*))?}");

    private ChannelExpressions() {
    }

    /** Whether {@code channel} holds an expression (validated only once resolved, at startup). */
    public static boolean isExpression(String channel) {
        return EXPRESSION.matcher(channel).find();
    }

    /**
     * @throws IllegalStateException naming {@code listener} and the property, when a property without a default is not
     *         set
     */
    public static String resolve(String channel, Config config, String listener) {
        Matcher matcher = EXPRESSION.matcher(channel);
        StringBuilder resolved = new StringBuilder();
        while (matcher.find()) {
            String key = matcher.group(1).trim();
            Optional<String> value = config.getOptionalValue(key, String.class);
            if (value.isEmpty() && matcher.group(2) == null) {
                throw new IllegalStateException("@BusListener " + listener + " names its channel " + channel
                        + ", but the property '" + key + "' is not set: set it, or give a default (${" + key
                        + ":channel})");
            }
            matcher.appendReplacement(resolved, Matcher.quoteReplacement(value.orElse(matcher.group(2))));
        }
        matcher.appendTail(resolved);
        return resolved.toString();
    }
}
