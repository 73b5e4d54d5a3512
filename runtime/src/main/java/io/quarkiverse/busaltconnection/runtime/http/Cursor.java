package io.quarkiverse.busaltconnection.runtime.http;

/**
 * Where an HTTP client is on the bus, as it sends it back: {@code <epoch>-<position>}, e.g. {@code 4503599627-42}. The
 * epoch tells positions of a restored copy or another database apart from this bus's, which a bare number could not.
 * A bare number is still taken, as a {@link #legacy} cursor: clients of the version before epochs kept a message id,
 * and the upgrade made every id the message's position.
 */
record Cursor(long epoch, long position) {

    /** The epoch of a bare number: whatever epoch the bus is in. */
    static final long LEGACY = 0;

    boolean legacy() {
        return epoch == LEGACY;
    }

    static Cursor parse(String text, String source) throws BadRequest {
        String trimmed = text.trim();
        int dash = trimmed.indexOf('-');
        try {
            if (dash < 0 && !trimmed.isEmpty() && trimmed.chars().allMatch(Character::isDigit)) {
                return new Cursor(LEGACY, Long.parseLong(trimmed));
            }
            if (dash > 0) {
                long epoch = Long.parseLong(trimmed.substring(0, dash));
                long position = Long.parseLong(trimmed.substring(dash + 1));
                if (epoch > 0 && position >= 0) {
                    return new Cursor(epoch, position);
                }
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw BadRequest.invalid(source + " must be a cursor as the server sent it (\"<epoch>-<position>\", the"
                + " \"last\" of a poll answer or the id of an event); found '" + ReadRequest.abbreviate(text) + "'");
    }

    @Override
    public String toString() {
        return epoch + "-" + position;
    }
}
