package dev.sluice.sim;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGUtils;

/** The plots, with JFreeChart: each written as PNG and SVG (JFreeSVG). */
final class Charts {
    static final int WIDTH = 960;
    static final int HEIGHT = 600;

    /**
     * A series whose name has one of these is drawn dashed: the same policy under another spread,
     * with more nodes, or over jitterier links.
     */
    static final List<String> DASHED = List.of("80/10/10", "N = 10", "± 70 ms");

    private Charts() {}

    /**
     * O_p99 against S, one line per policy, with the bound of Sluice's shares (O ≤ 0) and the
     * accuracy others publish marked.
     */
    static void overAgainstSync(Path base, String title, List<Result> results) throws IOException {
        if (results.isEmpty()) {
            return;
        }
        XYSeriesCollection data = new XYSeriesCollection();
        for (Scenario.Mode mode : Scenario.Mode.values()) {
            XYSeries series = new XYSeries(mode.label());
            results.stream()
                    .filter(r -> r.scenario().mode() == mode)
                    .sorted(Comparator.comparingLong(r -> r.scenario().syncMicros()))
                    .forEach(r -> series.add(r.scenario().syncMicros() / 1000.0, r.overP99()));
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                title, "sync period S (ms)", "O_p99 (0.05 = 5 %)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogAxis x = new LogAxis("sync period S (ms), log scale");
        x.setBase(10);
        x.setNumberFormatOverride(new java.text.DecimalFormat("0"));
        plot.setDomainAxis(x);
        // the reference points in view: from at least -1 to at least +0.25
        org.jfree.data.Range range = org.jfree.data.general.DatasetUtils.findRangeBounds(data);
        double low = Math.min(-1, range == null ? -1 : range.getLowerBound());
        double high = Math.max(0.25, (range == null ? 0 : range.getUpperBound()) + 0.05);
        plot.getRangeAxis().setRange(low, high);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, colour((String) data.getSeriesKey(i)));
        }
        plot.setRenderer(renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        mark(plot, 0, "bound of the shares: O ≤ 0", Color.BLACK);
        mark(plot, 0.05, "Databricks ~5 % (100 ms reports)", Color.GRAY);
        mark(plot, 0.06, "Cloudflare 6 % mean error", Color.GRAY);
        mark(plot, 0.10, "Akamai 10 %", Color.GRAY);
        mark(plot, 0.20, "Akamai 20 % (1–3 s sharing)", Color.GRAY);
        write(base, chart);
    }

    /**
     * Lines, one per named series of {x, y} points, with labelled horizontal markers; a
     * logarithmic x axis when {@code logX}.
     */
    static void lines(
            Path base,
            String title,
            String xLabel,
            String yLabel,
            java.util.Map<String, double[][]> series,
            boolean logX,
            java.util.Map<Double, String> markers)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        series.forEach((name, points) -> {
            XYSeries s = new XYSeries(name, false, true);
            for (double[] p : points) {
                s.add(p[0], p[1]);
            }
            data.addSeries(s);
        });
        JFreeChart chart = ChartFactory.createXYLineChart(
                title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        if (logX) {
            LogAxis x = new LogAxis(xLabel + ", log scale");
            // a tick a decade (the unit is in log space)
            x.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
            x.setNumberFormatOverride(new java.text.DecimalFormat("0.###"));
            plot.setDomainAxis(x);
        }
        // the points marked where each is a run of its own (a log x: one per T, w or S)
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, logX);
        int i = 0;
        for (String name : series.keySet()) {
            if (DASHED.stream().anyMatch(name::contains)) {
                renderer.setSeriesStroke(
                        i,
                        new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
            }
            renderer.setSeriesPaint(i++, colour(name));
        }
        plot.setRenderer(renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        markers.forEach((y, label) -> mark(plot, y, label, Color.GRAY));
        write(base, chart);
    }

    /** The same colour for a policy in every plot. */
    static Color colour(String series) {
        if (series.startsWith("sluice")) {
            return new Color(0x1f77b4);
        }
        if (series.startsWith("replication")) {
            return new Color(0xd62728);
        }
        if (series.startsWith("static")) {
            return new Color(0x2ca02c);
        }
        if (series.startsWith("per-check")) {
            return Color.BLACK;
        }
        if (series.startsWith("coalesce")) {
            return new Color(0x1f77b4);
        }
        if (series.startsWith("lease")) {
            return new Color(0x2ca02c);
        }
        if (series.startsWith("async")) {
            return new Color(0xd62728);
        }
        if (series.startsWith("local-whole")) {
            return new Color(0x8c564b);
        }
        if (series.startsWith("local")) {
            return new Color(0x1f77b4);
        }
        if (series.startsWith("open")) {
            return new Color(0xff7f0e);
        }
        if (series.startsWith("closed")) {
            return new Color(0x9467bd);
        }
        if (series.startsWith("one exact")) {
            return Color.BLACK;
        }
        return new Color(0x7f7f7f);
    }

    private static void mark(XYPlot plot, double y, String label, Color color) {
        ValueMarker m = new ValueMarker(y);
        m.setPaint(color);
        m.setStroke(new BasicStroke(0.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {2, 3}, 0));
        m.setLabel(label);
        m.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        m.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
        plot.addRangeMarker(m);
    }

    static void write(Path base, JFreeChart chart) throws IOException {
        Files.createDirectories(base.toAbsolutePath().getParent());
        ChartUtils.saveChartAsPNG(
                base.resolveSibling(base.getFileName() + ".png").toFile(), chart, WIDTH, HEIGHT);
        SVGGraphics2D g2 = new SVGGraphics2D(WIDTH, HEIGHT);
        // the same file for the same run (JFreeSVG's default prefix is the time)
        g2.setDefsKeyPrefix("_" + base.getFileName().toString().replaceAll("[^A-Za-z0-9]", "") + "_");
        chart.draw(g2, new Rectangle(0, 0, WIDTH, HEIGHT));
        SVGUtils.writeToSVG(base.resolveSibling(base.getFileName() + ".svg").toFile(), g2.getSVGElement());
    }
}
