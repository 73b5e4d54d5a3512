package io.quarkiverse.busaltconnection.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The throughput chart (SVG): one panel per disk, a group of bars per sender count, one bar per system. Each panel
 * has its own scale, as the two disks differ by several times.
 */
final class ThroughputChart {

    private static final String[] COLORS = { "#3b6ea5", "#5c946e", "#c05a4f", "#9aa5b1", "#d08c2e" };
    private static final int BAR = 16;
    private static final int GAP = 28;
    private static final int PANEL_HEIGHT = 250;
    private static final int PLOT_HEIGHT = 170;

    /** A panel: its title, the sender counts, and per series the value at each count (NaN: not measured). */
    private record Panel(String title, int[] senders, Map<String, double[]> series) {
    }

    private final List<Panel> panels = new ArrayList<>();

    void panel(String title, int[] senders, Map<String, double[]> series) {
        panels.add(new Panel(title, senders, new LinkedHashMap<>(series)));
    }

    boolean isEmpty() {
        return panels.isEmpty();
    }

    String svg() {
        List<String> names = panels.isEmpty() ? List.of() : new ArrayList<>(panels.get(0).series().keySet());
        int groups = panels.stream().mapToInt(p -> p.senders().length).max().orElse(1);
        int width = Math.max(640, 70 + groups * (names.size() * BAR + GAP) + 20);
        int height = panels.size() * PANEL_HEIGHT + 30 + 18 * ((names.size() + 2) / 3);
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\""
                + " width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n", width, height));
        for (int p = 0; p < panels.size(); p++) {
            panel(svg, panels.get(p), p * PANEL_HEIGHT);
        }
        int legendTop = panels.size() * PANEL_HEIGHT + 10;
        for (int s = 0; s < names.size(); s++) {
            int x = 70 + (s % 3) * 200;
            int y = legendTop + (s / 3) * 18;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"11\" height=\"11\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\">%s</text>%n", x, y, COLORS[s % COLORS.length], x + 15, y + 10,
                    escape(names.get(s))));
        }
        return svg.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder svg, Panel panel, int top) {
        double max = panel.series().values().stream().flatMapToDouble(java.util.Arrays::stream)
                .filter(v -> !Double.isNaN(v)).max().orElse(1);
        // 50 px above the tallest bar for its label, written upwards.
        int base = top + 50 + PLOT_HEIGHT;
        svg.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\" font-size=\"13\">%s — messages or"
                + " transactions per second (durable systems)</text>%n", top + 18, escape(panel.title())));
        svg.append(String.format(Locale.ROOT, "<line x1=\"60\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>%n",
                base, 60 + panel.senders().length * (panel.series().size() * BAR + GAP), base));
        for (int g = 0; g < panel.senders().length; g++) {
            int x0 = 70 + g * (panel.series().size() * BAR + GAP);
            int s = 0;
            for (double[] values : panel.series().values()) {
                double value = values[g];
                int x = x0 + s * BAR;
                if (!Double.isNaN(value)) {
                    int h = (int) Math.round(PLOT_HEIGHT * value / max);
                    svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\""
                            + " fill=\"%s\"/>%n", x, base - h, BAR - 2, h, COLORS[s % COLORS.length]));
                    svg.append(String.format(Locale.ROOT, "<text transform=\"rotate(-90 %d %d)\" x=\"%d\" y=\"%d\""
                            + " font-size=\"9\">%s</text>%n", x + 11, base - h - 3, x + 11, base - h - 3,
                            Fmt.rate(value)));
                }
                s++;
            }
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d sender%s</text>%n",
                    x0 + panel.series().size() * BAR / 2, base + 15, panel.senders()[g],
                    panel.senders()[g] == 1 ? "" : "s"));
        }
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
