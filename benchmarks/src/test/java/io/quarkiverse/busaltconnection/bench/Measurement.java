package io.quarkiverse.busaltconnection.bench;

import java.util.List;

/** Repeated values of one figure: median and spread. */
record Measurement(double median, double min, double max) {

    static Measurement of(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (sorted.length == 0) {
            return new Measurement(Double.NaN, Double.NaN, Double.NaN);
        }
        return new Measurement(sorted[(sorted.length - 1) / 2], sorted[0], sorted[sorted.length - 1]);
    }

    String format(String pattern) {
        return String.format(pattern, median) + " (" + String.format(pattern, min) + "–" + String.format(pattern, max)
                + ")";
    }
}
