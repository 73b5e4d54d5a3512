package io.quarkiverse.busaltconnection.it;

import static io.restassured.RestAssured.given;

import java.util.Arrays;
import java.util.OptionalDouble;

/** Reads one value from the application's /q/metrics (Prometheus text format). */
final class PrometheusScrape {

    private PrometheusScrape() {
    }

    /**
     * The value of the first series of {@code name} whose labels contain every one of {@code labels} (each written
     * {@code key="value"}); empty if there is none.
     */
    static OptionalDouble value(String name, String... labels) {
        String scrape = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : scrape.split("\n")) {
            if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
                continue;
            }
            // series value [timestamp] [# exemplar: with OpenTelemetry, a trace id, a value and a timestamp]
            int exemplar = line.indexOf(" # ");
            String sample = exemplar < 0 ? line : line.substring(0, exemplar);
            int labelsEnd = sample.lastIndexOf('}');
            String series = labelsEnd < 0 ? name : sample.substring(0, labelsEnd + 1);
            String[] rest = sample.substring(series.length()).trim().split(" ");
            if (Arrays.stream(labels).allMatch(series::contains)) {
                return OptionalDouble.of(Double.parseDouble(rest[0]));
            }
        }
        return OptionalDouble.empty();
    }

    /** For a counter read before anything was counted: a series that does not exist yet counts 0. */
    static double valueOrZero(String name, String... labels) {
        return value(name, labels).orElse(0);
    }

    /** The value of a series that must exist; fails naming it if it does not. */
    static double required(String name, String... labels) {
        return value(name, labels).orElseThrow(() -> new AssertionError("no series " + name + " with labels "
                + Arrays.toString(labels) + " in /q/metrics"));
    }
}
