package io.quarkiverse.busaltconnection.bench;

import java.util.Locale;

/** How figures are written in the report; "—" for what was not measured. */
final class Fmt {

    private Fmt() {
    }

    static String rate(double value) {
        return Double.isNaN(value) ? "—" : String.format(Locale.ROOT, "%,.0f", value);
    }

    static String ms(Double value) {
        return value == null || value.isNaN() ? "—" : String.format(Locale.ROOT, "%.2f", value);
    }

    static String ratio(double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "—" : String.format(Locale.ROOT, "%.2f×", value);
    }

    static String mib(double bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1024 / 1024);
    }

    /** "1 ms", "250 µs", "2 s". */
    static String duration(java.time.Duration duration) {
        long micros = duration.toNanos() / 1000;
        if (micros % 1_000_000 == 0) {
            return micros / 1_000_000 + " s";
        }
        return micros % 1000 == 0 ? micros / 1000 + " ms" : micros + " µs";
    }

    /** "1 sender", "8 senders". */
    static String senders(int count) {
        return count + (count == 1 ? " sender" : " senders");
    }

    static String number(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }
}
