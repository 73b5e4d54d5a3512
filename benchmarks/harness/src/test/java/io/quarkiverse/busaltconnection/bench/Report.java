package io.quarkiverse.busaltconnection.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The results as documents: docs/benchmarks/RESULTS.md, the Antora page docs/modules/ROOT/pages/benchmarks.adoc and
 * the chart docs/modules/ROOT/images/benchmarks-throughput.svg. It only lays out what the scenarios wrote: every
 * sentence with a figure in it is composed from this run's measurements by the scenario that made them.
 */
final class Report {

    private interface Block {
    }

    private record Paragraph(String text) implements Block {
    }

    private record Table(List<String> header, List<List<String>> rows) implements Block {
    }

    /** A titled part of the report: paragraphs and tables in the order added. */
    static final class Section {

        private final String title;
        private final List<Block> blocks = new ArrayList<>();

        private Section(String title) {
            this.title = title;
        }

        Section paragraph(String text) {
            blocks.add(new Paragraph(text));
            return this;
        }

        Section table(List<String> header, List<List<String>> rows) {
            blocks.add(new Table(List.copyOf(header), List.copyOf(rows)));
            return this;
        }
    }

    /** @param met null when the goal's figures were not measured in this run */
    private record Goal(String goal, Boolean met, String measured) {

        String line() {
            return (met == null ? "not measured" : met ? "met" : "**missed**") + " — " + goal + ": " + measured;
        }
    }

    private final String intro;
    private final List<Goal> goals = new ArrayList<>();
    private final List<Section> sections = new ArrayList<>();
    private String chart;

    Report(String intro) {
        this.intro = intro;
    }

    Section section(String title) {
        Section section = new Section(title);
        sections.add(section);
        return section;
    }

    void goal(String goal, Boolean met, String measured) {
        goals.add(new Goal(goal, met, measured));
    }

    void chart(String svg) {
        this.chart = svg;
    }

    void write(Path docs) throws IOException {
        Files.createDirectories(docs.resolve("benchmarks"));
        Files.writeString(docs.resolve("benchmarks/RESULTS.md"), markdown());
        Path pages = Files.createDirectories(docs.resolve("modules/ROOT/pages"));
        Files.writeString(pages.resolve("benchmarks.adoc"), asciidoc());
        if (chart != null) {
            Path images = Files.createDirectories(docs.resolve("modules/ROOT/images"));
            Files.writeString(images.resolve("benchmarks-throughput.svg"), chart);
        }
    }

    String markdown() {
        StringBuilder md = new StringBuilder("# Benchmark results\n\n").append(intro).append("\n\n## Goals\n\n");
        goals.forEach(goal -> md.append("- ").append(goal.line()).append('\n'));
        if (chart != null) {
            md.append("\n![throughput](../modules/ROOT/images/benchmarks-throughput.svg)\n");
        }
        for (Section section : sections) {
            md.append("\n## ").append(section.title).append('\n');
            for (Block block : section.blocks) {
                if (block instanceof Paragraph paragraph) {
                    md.append('\n').append(paragraph.text()).append('\n');
                } else if (block instanceof Table table) {
                    md.append("\n| ").append(String.join(" | ", table.header())).append(" |\n|")
                            .append("---|".repeat(table.header().size())).append('\n');
                    table.rows().forEach(row -> md.append("| ").append(String.join(" | ", row)).append(" |\n"));
                }
            }
        }
        return md.toString();
    }

    private String asciidoc() {
        StringBuilder doc = new StringBuilder("= Benchmarks\n\n").append(adoc(intro))
                .append(" The same results as Markdown: `docs/benchmarks/RESULTS.md`.\n\n== Goals\n\n");
        goals.forEach(goal -> doc.append("* ").append(adoc(goal.line())).append('\n'));
        if (chart != null) {
            doc.append("\nimage::benchmarks-throughput.svg[Throughput by sender count]\n");
        }
        for (Section section : sections) {
            doc.append("\n== ").append(section.title).append('\n');
            for (Block block : section.blocks) {
                if (block instanceof Paragraph paragraph) {
                    doc.append('\n').append(adoc(paragraph.text())).append('\n');
                } else if (block instanceof Table table) {
                    doc.append("\n[options=\"header\"]\n|===\n");
                    doc.append("| ").append(String.join(" | ", table.header().stream().map(Report::cell).toList()))
                            .append('\n');
                    table.rows().forEach(row -> doc.append("| ")
                            .append(String.join(" | ", row.stream().map(Report::cell).toList())).append('\n'));
                    doc.append("|===\n");
                }
            }
        }
        return doc.toString();
    }

    /** Markdown emphasis and code spans as AsciiDoc writes them. */
    private static String adoc(String markdown) {
        return markdown.replace("**", "*");
    }

    private static String cell(String text) {
        return adoc(text).replace("|", "\\|");
    }
}
