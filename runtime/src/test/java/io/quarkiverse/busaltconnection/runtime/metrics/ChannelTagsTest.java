package io.quarkiverse.busaltconnection.runtime.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Tags;

/** Channels named at run time cannot multiply the time series: past the cap they share "other". */
class ChannelTagsTest {

    @Test
    void theFirstChannelsKeepTheirNameAndLaterOnesShareOther() {
        ChannelTags tags = new ChannelTags(true, 2);
        assertEquals(Tags.of("channel", "a"), tags.of("a"));
        assertEquals(Tags.of("channel", "b"), tags.of("b"));
        assertEquals(Tags.of("channel", "other"), tags.of("user.4711"));
        assertEquals(Tags.of("channel", "a"), tags.of("a"), "a channel named before keeps its name");
    }

    @Test
    void switchedOffThereIsNoChannelTag() {
        assertEquals(Tags.empty(), new ChannelTags(false, 100).of("a"));
    }
}
