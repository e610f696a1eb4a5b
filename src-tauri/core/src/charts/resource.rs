//! The resource heatmap: node × time, % of allocatable on a linear 0–100
//! scale (above 100 % takes the top colour), one row per node, grouped by
//! cluster with the cluster named at the head of its group. A gap (`None`)
//! is left blank, never drawn as 0 %.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::layout::{self, PercentScale};
use super::{
    check_size, draw_err, render_png, render_svg, ChartError, ChartRow, PlotLayout, PlotRect,
    RenderedChart,
};
use crate::metrics::ResourceMatrix;

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChartOptions {
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
    /// Time steps are merged (mean of the present values) until a column is
    /// at least this wide.
    pub min_cell_px: u32,
}

impl Default for ResourceChartOptions {
    fn default() -> Self {
        ResourceChartOptions {
            width: 960,
            height: 400,
            title: None,
            min_cell_px: 2,
        }
    }
}

/// Longest node name drawn in full; longer ones are cut with `…`.
const NAME_CHARS: usize = 22;

/// Renders the resource heatmap to SVG. No rows or no times is
/// [`ChartError::NoData`].
pub fn resource_heatmap(
    m: &ResourceMatrix,
    opts: &ResourceChartOptions,
) -> Result<RenderedChart, ChartError> {
    let grid = Grid::build(m, opts)?;
    let svg = render_svg(opts.width, opts.height, |root| grid.draw(root, opts))?;
    Ok(RenderedChart {
        svg,
        layout: grid.layout,
    })
}

/// The same chart as a PNG, drawn on the bitmap backend.
pub fn resource_heatmap_png(
    m: &ResourceMatrix,
    opts: &ResourceChartOptions,
) -> Result<Vec<u8>, ChartError> {
    let grid = Grid::build(m, opts)?;
    render_png(opts.width, opts.height, |root| grid.draw(root, opts))
}

struct Grid {
    layout: PlotLayout,
    /// Index of the first row of each cluster's group.
    group_starts: Vec<usize>,
}

impl Grid {
    fn build(m: &ResourceMatrix, opts: &ResourceChartOptions) -> Result<Grid, ChartError> {
        check_size(opts.width, opts.height)?;
        if m.rows.is_empty() || m.times.is_empty() {
            return Err(ChartError::NoData(
                "the matrix has no nodes or no times".into(),
            ));
        }
        if m.values.len() != m.rows.len() || m.values.iter().any(|r| r.len() != m.times.len()) {
            return Err(ChartError::BadInput(format!(
                "{} rows and {} times, but values is {} rows",
                m.rows.len(),
                m.times.len(),
                m.values.len()
            )));
        }
        // Group by cluster, clusters in order of first appearance, nodes in
        // their given order within a cluster (a stable sort).
        let mut first_seen: Vec<&str> = Vec::new();
        for r in &m.rows {
            if !first_seen.contains(&r.cluster_id.as_str()) {
                first_seen.push(&r.cluster_id);
            }
        }
        let mut order: Vec<usize> = (0..m.rows.len()).collect();
        order.sort_by_key(|&i| {
            first_seen
                .iter()
                .position(|c| *c == m.rows[i].cluster_id)
                .unwrap_or(usize::MAX)
        });
        // Room for the legend's title above the colour bar.
        let top = if opts.title.is_some() { 40 } else { 28 };
        let left = 12 + 7 * (NAME_CHARS as u32 + 2);
        let plot = PlotRect {
            x: left,
            y: top,
            width: opts.width.saturating_sub(left + 80).max(1),
            height: opts.height.saturating_sub(top + 34).max(1),
        };
        let cols = layout::columns(&m.times, plot, opts.min_cell_px);
        let n = order.len();
        let mut group_starts = Vec::new();
        let rows: Vec<ChartRow> = order
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let row = &m.rows[i];
                if k == 0 || m.rows[order[k - 1]].cluster_id != row.cluster_id {
                    group_starts.push(k);
                }
                let (y0, y1) = layout::row_band(plot, k, n);
                ChartRow {
                    y0,
                    y1,
                    label: row.node.clone(),
                    lower: None,
                    upper: None,
                    cluster_id: Some(row.cluster_id.clone()),
                    node: Some(row.node.clone()),
                }
            })
            .collect();
        let values = cols
            .groups
            .iter()
            .map(|g| {
                order
                    .iter()
                    .map(|&i| {
                        let present: Vec<f64> = m.values[i][g.clone()]
                            .iter()
                            .flatten()
                            .copied()
                            .filter(|v| v.is_finite())
                            .collect();
                        (!present.is_empty())
                            .then(|| present.iter().sum::<f64>() / present.len() as f64)
                    })
                    .collect()
            })
            .collect();
        Ok(Grid {
            layout: PlotLayout {
                width: opts.width,
                height: opts.height,
                plot,
                columns: cols.spans,
                rows,
                values,
                lines: Vec::new(),
            },
            group_starts,
        })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &ResourceChartOptions,
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
        layout::draw_cells(
            root,
            &self.layout.columns,
            &self.layout.rows,
            &self.layout.values,
            &PercentScale,
        )?;
        layout::draw_legend(root, plot, &PercentScale, "% alloc.", |v| {
            format!("{v:.0}%")
        })?;
        // Node names when the rows are tall enough to read them; the
        // cluster's name at the head of each group, with a rule above it.
        let rows = &self.layout.rows;
        let row_h = rows.first().map_or(0, |r| r.y1 - r.y0);
        let name = layout::text_style(10, HPos::Right, VPos::Center);
        if row_h >= 11 {
            for row in rows {
                root.draw(&Text::new(
                    shorten(&row.label),
                    (plot.x as i32 - 4, ((row.y0 + row.y1) / 2) as i32),
                    name.clone(),
                ))
                .map_err(draw_err)?;
            }
        }
        let cluster = layout::text_style(11, HPos::Left, VPos::Top);
        let rule = RGBColor(160, 160, 160);
        let mut last_label_y: Option<i64> = None;
        for &start in &self.group_starts {
            let y = rows[start].y0 as i32;
            root.draw(&PathElement::new(
                vec![(4, y), ((plot.x + plot.width) as i32, y)],
                rule,
            ))
            .map_err(draw_err)?;
            if last_label_y.is_none_or(|last| i64::from(y) - last >= 12) {
                let id = rows[start].cluster_id.as_deref().unwrap_or("");
                root.draw(&Text::new(
                    shorten(id),
                    (4, y + 1),
                    cluster.clone().color(&RGBColor(20, 60, 140)),
                ))
                .map_err(draw_err)?;
                last_label_y = Some(i64::from(y));
            }
        }
        layout::draw_time_axis(root, plot, &self.layout.columns)
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= NAME_CHARS {
        s.to_owned()
    } else {
        let head: String = s.chars().take(NAME_CHARS - 1).collect();
        format!("{head}…")
    }
}
