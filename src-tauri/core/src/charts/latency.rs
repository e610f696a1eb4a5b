//! The latency heatmap: time × bucket, the observations per bucket in each
//! cell (de-cumulated as in [`latency_heatmap_matrix`]) on a log colour
//! scale, with the quantile lines (p50/p95/p99 by default) drawn over it.
//!
//! Rows are the buckets as equal bands (a bucket's bounds are labelled at
//! its top edge); a quantile line is placed inside its bucket's band by the
//! same linear interpolation `histogram_quantile` uses, so a line sits in the
//! band whose cells hold that rank.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::layout::{self, LogScale};
use super::{
    check_size, draw_err, render_png, render_svg, ChartColumn, ChartError, ChartLine, ChartRow,
    PlotLayout, PlotRect, RenderedChart,
};
use crate::analysis::quantile::{histogram_quantile, latency_heatmap_matrix};
use crate::metrics::HistogramSteps;

#[derive(Debug, Clone, PartialEq)]
pub struct LatencyChartOptions {
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
    /// The quantile lines drawn over the cells, each in `[0, 1]`.
    pub quantiles: Vec<f64>,
    /// Time steps are merged until a column is at least this wide.
    pub min_cell_px: u32,
}

impl Default for LatencyChartOptions {
    fn default() -> Self {
        LatencyChartOptions {
            width: 960,
            height: 400,
            title: None,
            quantiles: vec![0.5, 0.95, 0.99],
            min_cell_px: 2,
        }
    }
}

/// Line colours for the quantiles, picked to stand out on viridis.
const LINE_COLORS: [RGBColor; 4] = [
    RGBColor(255, 255, 255),
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(23, 190, 207),
];

/// Renders the latency heatmap to SVG. Empty input (no times or no
/// buckets) is [`ChartError::NoData`].
pub fn latency_heatmap(
    h: &HistogramSteps,
    opts: &LatencyChartOptions,
) -> Result<RenderedChart, ChartError> {
    let grid = Grid::build(h, opts)?;
    let svg = render_svg(opts.width, opts.height, |root| grid.draw(root, opts))?;
    Ok(RenderedChart {
        svg,
        layout: grid.layout,
    })
}

/// The same chart as a PNG of `opts.width` × `opts.height`, drawn on the
/// bitmap backend.
pub fn latency_heatmap_png(
    h: &HistogramSteps,
    opts: &LatencyChartOptions,
) -> Result<Vec<u8>, ChartError> {
    let grid = Grid::build(h, opts)?;
    render_png(opts.width, opts.height, |root| grid.draw(root, opts))
}

/// Pixel points of one unbroken piece of a line.
type Polyline = Vec<(i32, i32)>;

/// Everything the drawing needs, independent of the backend.
struct Grid {
    layout: PlotLayout,
    le: Vec<f64>,
    scale: Option<LogScale>,
    /// Per quantile, its polyline pieces (a column without observations
    /// breaks the line).
    lines: Vec<(f64, Vec<Polyline>)>,
}

impl Grid {
    fn build(h: &HistogramSteps, opts: &LatencyChartOptions) -> Result<Grid, ChartError> {
        check_size(opts.width, opts.height)?;
        if h.times.is_empty() || h.le.is_empty() {
            return Err(ChartError::NoData("the histogram has no steps".into()));
        }
        if h.counts.len() != h.times.len() || h.counts.iter().any(|r| r.len() != h.le.len()) {
            return Err(ChartError::BadInput(format!(
                "{} times and {} bounds, but counts is {} rows of {:?} values",
                h.times.len(),
                h.le.len(),
                h.counts.len(),
                h.counts.iter().map(Vec::len).min()
            )));
        }
        if let Some(q) = opts.quantiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(ChartError::BadInput(format!(
                "quantile {q} is not in [0, 1]"
            )));
        }
        let matrix = latency_heatmap_matrix(h);
        let top = if opts.title.is_some() { 40 } else { 28 };
        let plot = PlotRect {
            x: 72,
            y: top,
            width: opts.width.saturating_sub(72 + 96).max(1),
            height: opts.height.saturating_sub(top + 34).max(1),
        };
        let cols = layout::columns(&matrix.times, plot, opts.min_cell_px);
        let nb = matrix.le.len();
        let values: Vec<Vec<Option<f64>>> = cols
            .groups
            .iter()
            .map(|g| {
                (0..nb)
                    .map(|i| {
                        matrix.counts[g.clone()]
                            .iter()
                            .filter_map(|row| row[i])
                            .fold(None, |acc: Option<f64>, v| Some(acc.unwrap_or(0.0) + v))
                    })
                    .collect()
            })
            .collect();
        let rows: Vec<ChartRow> = (0..nb)
            .map(|i| {
                let (y0, y1) = layout::row_band(plot, nb - 1 - i, nb);
                let upper = matrix.le[i];
                let lower = match i {
                    0 if upper <= 0.0 => None,
                    0 => Some(0.0),
                    _ => Some(matrix.le[i - 1]),
                };
                ChartRow {
                    y0,
                    y1,
                    label: layout::format_seconds(upper),
                    lower,
                    upper: upper.is_finite().then_some(upper),
                    cluster_id: None,
                    node: None,
                }
            })
            .collect();
        let per_column: Vec<ChartLine> = opts
            .quantiles
            .iter()
            .map(|&q| ChartLine {
                name: format!("p{}", trim_q(q)),
                q,
                values: values
                    .iter()
                    .map(|cells| {
                        let v = histogram_quantile(q, &cumulative(&matrix.le, cells));
                        v.is_finite().then_some(v)
                    })
                    .collect(),
            })
            .collect();
        let lines = per_column
            .iter()
            .map(|l| (l.q, polyline(&l.values, &matrix.le, &cols.spans, &rows)))
            .collect();
        Ok(Grid {
            scale: LogScale::over(values.iter().flatten()),
            layout: PlotLayout {
                width: opts.width,
                height: opts.height,
                plot,
                columns: cols.spans,
                rows,
                values,
                lines: per_column,
            },
            le: matrix.le,
            lines,
        })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &LatencyChartOptions,
    ) -> Result<(), ChartError> {
        let plot = self.layout.plot;
        root.fill(&WHITE).map_err(draw_err)?;
        if let Some(title) = &opts.title {
            root.draw(&Text::new(
                title.clone(),
                (plot.x as i32, 8),
                layout::text_style(14, HPos::Left, VPos::Top),
            ))
            .map_err(draw_err)?;
        }
        if let Some(scale) = &self.scale {
            layout::draw_cells(
                root,
                &self.layout.columns,
                &self.layout.rows,
                &self.layout.values,
                scale,
            )?;
            layout::draw_legend(root, plot, scale, "count", layout::format_count)?;
        }
        // Bucket bounds at the top edge of each band, bottom up, skipping
        // labels that would overlap the one below.
        let label = layout::text_style(11, HPos::Right, VPos::Center);
        let mut last_y = i64::MAX;
        for (row, le) in self.layout.rows.iter().zip(&self.le) {
            let y = i64::from(row.y0);
            if last_y - y >= 12 {
                root.draw(&Text::new(
                    layout::format_seconds(*le),
                    (plot.x as i32 - 6, y as i32),
                    label.clone(),
                ))
                .map_err(draw_err)?;
                last_y = y;
            }
        }
        layout::draw_time_axis(root, plot, &self.layout.columns)?;
        for (k, (q, pieces)) in self.lines.iter().enumerate() {
            let color = LINE_COLORS[k % LINE_COLORS.len()];
            // A dark halo under each line keeps white/orange readable on
            // the yellow end of viridis (and the key on the white page).
            let halo = RGBColor(20, 20, 20).mix(0.55).stroke_width(4);
            for piece in pieces {
                root.draw(&PathElement::new(piece.clone(), halo))
                    .map_err(draw_err)?;
                root.draw(&PathElement::new(piece.clone(), color.stroke_width(2)))
                    .map_err(draw_err)?;
            }
            // The key, top right above the plot.
            let x = (plot.x + plot.width) as i32 - 64 * (self.lines.len() - k) as i32;
            let y = plot.y as i32 - 12;
            for style in [halo, color.stroke_width(2)] {
                root.draw(&PathElement::new(vec![(x, y), (x + 16, y)], style))
                    .map_err(draw_err)?;
            }
            root.draw(&Text::new(
                format!("p{}", trim_q(*q)),
                (x + 20, y),
                layout::text_style(11, HPos::Left, VPos::Center),
            ))
            .map_err(draw_err)?;
        }
        Ok(())
    }
}

/// `0.5` → `50`, `0.999` → `99.9`.
fn trim_q(q: f64) -> String {
    let p = (q * 100.0 * 1000.0).round() / 1000.0;
    format!("{p}")
}

/// A column's per-bucket counts back to cumulative `(le, count)` pairs,
/// leaving missing buckets out.
fn cumulative(le: &[f64], cells: &[Option<f64>]) -> Vec<(f64, f64)> {
    let mut cum = 0.0;
    le.iter()
        .zip(cells)
        .filter_map(|(&le, c)| {
            c.map(|c| {
                cum += c;
                (le, cum)
            })
        })
        .collect()
}

/// A quantile line as polyline pieces through the columns' centres; a
/// column without a value breaks the line.
fn polyline(
    values: &[Option<f64>],
    le: &[f64],
    columns: &[ChartColumn],
    rows: &[ChartRow],
) -> Vec<Polyline> {
    let mut pieces: Vec<Polyline> = Vec::new();
    let mut current: Polyline = Vec::new();
    for (col, v) in columns.iter().zip(values) {
        match v.and_then(|v| y_of_value(v, le, rows)) {
            Some(y) => current.push(((col.x0 + col.x1) as i32 / 2, y)),
            None => {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Where value `v` (seconds) sits: in the band of the first bucket whose
/// bound reaches it, linearly between the bucket's lower and upper bound.
fn y_of_value(v: f64, le: &[f64], rows: &[ChartRow]) -> Option<i32> {
    if !v.is_finite() {
        return None;
    }
    let i = le.iter().position(|&b| v <= b)?;
    let row = rows.get(i)?;
    let upper = le[i];
    let lower = row.lower.unwrap_or(upper);
    let frac = if upper.is_finite() && upper > lower {
        ((v - lower) / (upper - lower)).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let (y0, y1) = (f64::from(row.y0), f64::from(row.y1));
    Some((y1 - frac * (y1 - y0)).round() as i32)
}
