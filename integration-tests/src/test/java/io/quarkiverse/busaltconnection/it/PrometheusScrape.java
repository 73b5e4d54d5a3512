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
            String series = line.substring(0, line.lastIndexOf(' '));
            if (Arrays.stream(labels).allMatch(series::contains)) {
                return OptionalDouble.of(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return OptionalDouble.empty();
    }

    static double valueOrZero(String name, String... labels) {
        return value(name, labels).orElse(0);
    }
}
