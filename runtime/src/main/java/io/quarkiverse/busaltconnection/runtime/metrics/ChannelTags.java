package io.quarkiverse.busaltconnection.runtime.metrics;

import java.util.HashSet;
import java.util.Set;

import io.micrometer.core.instrument.Tags;

/**
 * The {@code channel} tag of the bus's meters, bounded: channel names can be made up at run time (a user id in
 * them, say), and every distinct tag value is a time series. The first {@code max} channels seen keep their name;
 * later ones share {@value #OTHER}. Switched off, meters carry no channel tag at all.
 */
final class ChannelTags {

    static final String OTHER = "other";

    private final boolean enabled;
    private final int max;
    private final Set<String> named = new HashSet<>();

    ChannelTags(boolean enabled, int max) {
        this.enabled = enabled;
        this.max = max;
    }

    Tags of(String channel) {
        if (!enabled) {
            return Tags.empty();
        }
        return Tags.of("channel", named(channel) ? channel : OTHER);
    }

    private synchronized boolean named(String channel) {
        return named.contains(channel) || (named.size() < max && named.add(channel));
    }
}
