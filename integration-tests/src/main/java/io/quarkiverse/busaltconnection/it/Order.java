package io.quarkiverse.busaltconnection.it;

/** A payload type, mapped to and from JSON by Jackson. */
public record Order(long id, String item) {
}
