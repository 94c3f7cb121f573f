package dev.sluice.sim;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
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
     * Lines, one per named series of {x, y} points (a third value, if any, labels the point with
     * {@code pointLabel}), with labelled horizontal markers; a logarithmic x axis when {@code logX}.
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
        panels(base, title, xLabel, logX, List.of(new Panel(yLabel, series, markers)));
    }

    /**
     * One panel of a {@link #panels} chart: its y axis, its series of {x, y} points (or {x, y, v}:
     * the point labelled with v by {@code pointLabel}, a format), its markers.
     */
    record Panel(
            String yLabel,
            java.util.Map<String, double[][]> series,
            java.util.Map<Double, String> markers,
            String pointLabel) {
        Panel(String yLabel, java.util.Map<String, double[][]> series, java.util.Map<Double, String> markers) {
            this(yLabel, series, markers, null);
        }
    }

    /** A series with more points than this is drawn as a line alone (a curve over time), else with its points marked. */
    static final int MARKED_POINTS = 50;

    /**
     * Panels stacked over one shared x axis (logarithmic when {@code logX}). A series keeps its
     * colour, its points' shape and its one legend entry in every panel; each panel's y axis takes
     * in its markers, so a bound or a reference point is always in view.
     */
    static void panels(Path base, String title, String xLabel, boolean logX, List<Panel> panels) throws IOException {
        org.jfree.chart.axis.ValueAxis x;
        if (logX) {
            LogAxis log = new LogAxis(xLabel + ", log scale");
            log.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
            log.setNumberFormatOverride(new java.text.DecimalFormat("0.###"));
            x = log;
        } else {
            x = new org.jfree.chart.axis.NumberAxis(xLabel);
        }
        org.jfree.chart.plot.CombinedDomainXYPlot combined = new org.jfree.chart.plot.CombinedDomainXYPlot(x);
        combined.setGap(12);
        java.util.Map<String, Integer> named = new java.util.LinkedHashMap<>();
        java.awt.Shape[] shapes = org.jfree.chart.plot.DefaultDrawingSupplier.createStandardSeriesShapes();
        for (Panel p : panels) {
            XYSeriesCollection data = new XYSeriesCollection();
            XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
            java.util.Map<Integer, String[]> labels = new java.util.HashMap<>();
            int i = 0;
            for (var e : p.series().entrySet()) {
                XYSeries s = new XYSeries(e.getKey(), false, true);
                String[] itemLabels = new String[e.getValue().length];
                for (int k = 0; k < e.getValue().length; k++) {
                    double[] point = e.getValue()[k];
                    s.add(point[0], point[1]);
                    if (p.pointLabel() != null && point.length > 2) {
                        itemLabels[k] = String.format(java.util.Locale.ROOT, p.pointLabel(), point[2]);
                    }
                }
                labels.put(i, itemLabels);
                data.addSeries(s);
                // the same colour and shape for a name in every panel; in the legend once
                boolean first = !named.containsKey(e.getKey());
                int index = named.computeIfAbsent(e.getKey(), k -> named.size());
                Color c = colour(e.getKey());
                renderer.setSeriesPaint(i, c.equals(OTHER) ? PALETTE[index % PALETTE.length] : c);
                renderer.setSeriesShape(i, shapes[index % shapes.length]);
                renderer.setSeriesShapesVisible(i, e.getValue().length <= MARKED_POINTS);
                renderer.setSeriesVisibleInLegend(i, first);
                if (DASHED.stream().anyMatch(e.getKey()::contains)) {
                    renderer.setSeriesStroke(
                            i,
                            new BasicStroke(
                                    1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
                }
                i++;
            }
            if (p.pointLabel() != null) {
                renderer.setDefaultItemLabelGenerator(
                        (dataset, series, item) -> labels.get(series)[item] == null ? "" : labels.get(series)[item]);
                renderer.setDefaultItemLabelsVisible(true);
                renderer.setDefaultItemLabelFont(new java.awt.Font("SansSerif", java.awt.Font.PLAIN, 9));
            }
            org.jfree.chart.axis.NumberAxis y = new org.jfree.chart.axis.NumberAxis(p.yLabel());
            y.setAutoRangeIncludesZero(false);
            XYPlot plot = new XYPlot(data, null, y, renderer);
            plot.setBackgroundPaint(Color.WHITE);
            plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
            plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
            // the y axis takes in every marker
            org.jfree.data.Range range = org.jfree.data.general.DatasetUtils.findRangeBounds(data);
            if (range != null && !p.markers().isEmpty()) {
                double low = range.getLowerBound();
                double high = range.getUpperBound();
                for (double m : p.markers().keySet()) {
                    low = Math.min(low, m);
                    high = Math.max(high, m);
                }
                double margin = Math.max(1e-9, (high - low) * 0.06);
                y.setRange(low - margin, high + margin);
            }
            // labels by height, left and right in turn, so that close ones do not overlap (and in
            // order: Map.of's order differs from one JVM to the next, and so would the SVG)
            List<Double> heights = p.markers().keySet().stream().sorted().toList();
            for (int k = 0; k < heights.size(); k++) {
                ValueMarker m = mark(plot, heights.get(k), p.markers().get(heights.get(k)), Color.GRAY);
                if (k % 2 == 1) {
                    m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
                    m.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
                }
            }
            combined.add(plot, 1);
        }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, true);
        chart.setBackgroundPaint(Color.WHITE);
        write(base, chart, WIDTH, Math.max(HEIGHT, 300 * panels.size() + 120));
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
        return OTHER;
    }

    /** A series {@link #colour} does not know. */
    static final Color OTHER = new Color(0x7f7f7f);

    /** The colours of such series, in turn. */
    static final Color[] PALETTE = {
        new Color(0x1f77b4),
        new Color(0xff7f0e),
        new Color(0x2ca02c),
        new Color(0xd62728),
        new Color(0x9467bd),
        new Color(0x8c564b)
    };

    private static ValueMarker mark(XYPlot plot, double y, String label, Color color) {
        ValueMarker m = new ValueMarker(y);
        m.setPaint(color);
        m.setStroke(new BasicStroke(0.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {2, 3}, 0));
        m.setLabel(label);
        m.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        m.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
        plot.addRangeMarker(m);
        return m;
    }

    static void write(Path base, JFreeChart chart) throws IOException {
        write(base, chart, WIDTH, HEIGHT);
    }

    static void write(Path base, JFreeChart chart, int width, int height) throws IOException {
        Files.createDirectories(base.toAbsolutePath().getParent());
        ChartUtils.saveChartAsPNG(
                base.resolveSibling(base.getFileName() + ".png").toFile(), chart, width, height);
        SVGGraphics2D g2 = new SVGGraphics2D(width, height);
        // the same file for the same run (JFreeSVG's default prefix is the time)
        g2.setDefsKeyPrefix("_" + base.getFileName().toString().replaceAll("[^A-Za-z0-9]", "") + "_");
        chart.draw(g2, new Rectangle(0, 0, width, height));
        SVGUtils.writeToSVG(base.resolveSibling(base.getFileName() + ".svg").toFile(), g2.getSVGElement());
    }
}
