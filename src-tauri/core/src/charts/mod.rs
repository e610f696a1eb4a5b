//! Charts rendered with plotters (BRIEF §2, §5): SVG strings for the webview
//! and the CLI's reports, PNG for exports. Both come from the same drawing
//! code over a backend-independent [`Grid`]: the PNG is drawn again on the
//! bitmap backend, never rasterised from the SVG.
//!
//! Cost control: the SVG's size and DOM node count are what a heatmap costs
//! (57,600 one-rect cells are 4.7 MiB). So time columns are merged until
//! each is at least `min_cell_px` wide (default 2 px: at most 0.5 columns,
//! well under 2 points, per pixel column), colours are quantised to a
//! stepped scale, equal adjacent cells of a row are drawn as one `<rect>`,
//! and empty cells (no data, or a count of 0) draw nothing.
//!
//! Empty input is an error ([`ChartError::NoData`]), not a blank chart: the
//! caller says "no data for this range" in its own words.
//!
//! Text: SVG charts emit `<text>` elements with `font-family="sans-serif"`,
//! which the webview's fonts draw. The bitmap backend draws text through
//! `ab_glyph` with the one embedded font (`assets/DejaVuSans-subset.ttf`,
//! see `assets/README.md` for its license).

pub mod cost;
pub mod latency;
mod layout;
pub mod resource;

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;
use ts_rs::TS;

pub use cost::{
    cost_chart, cost_chart_png, CostChartInput, CostChartOptions, CostSeries, ForecastDay,
};
pub use latency::{latency_heatmap, latency_heatmap_png, LatencyChartOptions};
pub use resource::{resource_heatmap, resource_heatmap_png, ResourceChartOptions};

/// The font family every chart asks for: the webview maps it to its own
/// sans-serif in SVG; the bitmap backend finds the embedded font under it.
pub(crate) const FONT: &str = "sans-serif";
static EMBEDDED_FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");

/// Smallest and largest chart sizes we draw, in px.
pub const MIN_SIZE: (u32, u32) = (240, 160);
pub const MAX_SIZE: u32 = 8192;

/// A chart drawn to SVG, with where things are in it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct RenderedChart {
    pub svg: String,
    pub layout: PlotLayout,
}

/// Where the cells of a heatmap are in the SVG (in SVG px, origin top left),
/// so the UI can map a mouse position to a cell (hover tooltips) and a drag
/// to a time range (click-to-select).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct PlotLayout {
    pub width: u32,
    pub height: u32,
    /// The area the cells fill.
    pub plot: PlotRect,
    /// Drawn columns, left to right; they tile the plot's width.
    pub columns: Vec<ChartColumn>,
    /// Drawn rows: for the latency heatmap bucket `i` is `rows[i]` (the
    /// lowest bucket is at the bottom, so `y0` decreases with `i`); for the
    /// resource heatmap one per node, top to bottom.
    pub rows: Vec<ChartRow>,
    /// The value each cell shows, `values[column][row]`: the summed count
    /// per bucket (latency) or the mean % of allocatable (resource); `null`
    /// where there was no data.
    pub values: Vec<Vec<Option<f64>>>,
    /// Latency only: the quantile lines drawn over the cells, one value (in
    /// seconds) per column, the quantile of the column's merged histogram
    /// (`null`: no observations there). Empty for the resource heatmap.
    pub lines: Vec<ChartLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChartLine {
    /// "p50", "p95", "p99.9".
    pub name: String,
    pub q: f64,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PlotRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// One drawn column: pixels `[x0, x1)`, and the time it covers, `(start,
/// end]` in unix seconds (`steps` merged input steps; each input time is the
/// end of its step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ChartColumn {
    pub x0: u32,
    pub x1: u32,
    #[ts(type = "number")]
    pub start: i64,
    #[ts(type = "number")]
    pub end: i64,
    pub steps: u32,
}

/// One drawn row: pixels `[y0, y1)`, its label, and what it is: a latency
/// bucket `(lower, upper]` in seconds (`upper` `null` for `+Inf`), or a
/// node of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ChartRow {
    pub y0: u32,
    pub y1: u32,
    pub label: String,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub cluster_id: Option<String>,
    pub node: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("no data to draw: {0}")]
    NoData(String),
    #[error("chart size {width}x{height} px is out of range")]
    BadSize { width: u32, height: u32 },
    #[error("malformed chart input: {0}")]
    BadInput(String),
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("encoding the PNG failed: {0}")]
    Png(String),
}

impl ChartError {
    pub fn kind(&self) -> &'static str {
        match self {
            ChartError::NoData(_) => "chart_no_data",
            ChartError::BadSize { .. } => "chart_bad_size",
            ChartError::BadInput(_) => "chart_bad_input",
            ChartError::Draw(_) => "chart_draw",
            ChartError::Png(_) => "chart_png",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            ChartError::NoData(_) => {
                "widen the time range, or check that the metric and selector match series".into()
            }
            ChartError::BadSize { .. } => format!(
                "use a width of {}..={} and a height of {}..={} px",
                MIN_SIZE.0, MAX_SIZE, MIN_SIZE.1, MAX_SIZE
            ),
            ChartError::BadInput(_) => {
                "every row of the matrix needs one value per time (and per bucket)".into()
            }
            ChartError::Draw(_) | ChartError::Png(_) => {
                "this is a bug; please report it with the command line".into()
            }
        }
    }
}

fn draw_err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

pub(crate) fn check_size(width: u32, height: u32) -> Result<(), ChartError> {
    if width < MIN_SIZE.0 || height < MIN_SIZE.1 || width > MAX_SIZE || height > MAX_SIZE {
        return Err(ChartError::BadSize { width, height });
    }
    Ok(())
}

/// Registers the embedded font once; the bitmap backend cannot draw text
/// without it.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, EMBEDDED_FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Draw("the embedded font did not load".into()))
    }
}

/// Draws with `draw` on an SVG backend and returns the document.
pub(crate) fn render_svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Draws with `draw` on an RGB bitmap and encodes it as PNG.
pub(crate) fn render_png(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    ensure_font()?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let backend =
            BitMapBackend::with_buffer_and_format(&mut rgb, (width, height)).map_err(draw_err)?;
        let root = backend.into_drawing_area();
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| ChartError::Png(e.to_string()))?;
    writer
        .write_image_data(&rgb)
        .map_err(|e| ChartError::Png(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| ChartError::Png(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests;
