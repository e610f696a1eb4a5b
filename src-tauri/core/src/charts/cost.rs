//! The daily cost chart (issue 7): one stacked bar per day, a segment per
//! series (a cloud, a cluster or a namespace), credits stacked below zero,
//! estimates drawn lighter with a dashed top and named "(estimate)" in the
//! legend (never colour alone), and forecast days as hollow bars with their
//! interval as a whisker.
//!
//! The layout comes back with the SVG so the UI can map a hover to a day
//! and show its segments in words.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::Serialize;
use ts_rs::TS;

use super::layout::text_style;
use super::{check_size, draw_err, render_png, render_svg, ChartError, PlotRect};

/// One stacked series: an amount per day of the input (0 for no cost).
#[derive(Debug, Clone, PartialEq)]
pub struct CostSeries {
    pub label: String,
    pub values: Vec<f64>,
    /// Drawn lighter and named as an estimate.
    pub estimate: bool,
}

/// A forecast day: the expected amount and its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub low: f64,
    pub mid: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CostChartInput {
    /// `YYYY-MM-DD`, ascending.
    pub days: Vec<String>,
    pub series: Vec<CostSeries>,
    /// ISO 4217 code of every amount: one chart never mixes currencies.
    pub currency: String,
    /// Days after the last of `days`.
    pub forecast: Vec<ForecastDay>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CostChartOptions {
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
}

impl Default for CostChartOptions {
    fn default() -> Self {
        CostChartOptions {
            width: 960,
            height: 320,
            title: None,
        }
    }
}

/// One drawn bar: pixels `[x0, x1)` and its total (credits included).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct CostBar {
    pub day: String,
    pub x0: u32,
    pub x1: u32,
    pub total: f64,
    /// A forecast day: `total` is the expected amount.
    pub forecast: bool,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The series' amounts that day, in the legend's order (empty for a
    /// forecast day).
    pub amounts: Vec<f64>,
}

/// A legend entry with the colour it is drawn in (`#rrggbb`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct CostLegend {
    pub label: String,
    pub color: String,
    pub estimate: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct CostChartLayout {
    pub width: u32,
    pub height: u32,
    pub plot: PlotRect,
    pub bars: Vec<CostBar>,
    pub legend: Vec<CostLegend>,
    pub currency: String,
    pub y_min: f64,
    pub y_max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct RenderedCostChart {
    pub svg: String,
    pub layout: CostChartLayout,
}

/// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(90, 90, 90),
];
/// Series past the palette are folded into one "other" segment.
pub const MAX_SERIES: usize = PALETTE.len();

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Half-way to white: the estimate's fill.
fn lighter(c: RGBColor) -> RGBColor {
    let mix = |v: u8| ((u16::from(v) + 255) / 2) as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// A round step for about `n` ticks over `span`: 1, 2 or 5 × 10^k.
fn nice_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// "$1,234", "€12.50", "CAD 3.1k": short amounts for axis labels.
pub fn format_money(v: f64, currency: &str) -> String {
    let sym = match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        _ => "",
    };
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    let body = if a >= 10_000.0 {
        format!("{:.1}k", a / 1000.0)
    } else if a >= 100.0 || a == a.trunc() {
        format!("{a:.0}")
    } else {
        format!("{a:.2}")
    };
    if sym.is_empty() {
        format!("{sign}{currency} {body}")
    } else {
        format!("{sign}{sym}{body}")
    }
}

struct Model {
    layout: CostChartLayout,
    colors: Vec<RGBColor>,
}

impl Model {
    fn build(input: &CostChartInput, opts: &CostChartOptions) -> Result<Model, ChartError> {
        check_size(opts.width, opts.height)?;
        if input.days.is_empty() && input.forecast.is_empty() {
            return Err(ChartError::NoData("no cost days".into()));
        }
        if let Some(s) = input
            .series
            .iter()
            .find(|s| s.values.len() != input.days.len())
        {
            return Err(ChartError::BadInput(format!(
                "series {:?} has {} values for {} days",
                s.label,
                s.values.len(),
                input.days.len()
            )));
        }
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        // Fold the series past the palette into "other", so every segment
        // keeps a distinct colour.
        let mut series: Vec<CostSeries> =
            input.series.iter().take(MAX_SERIES - 1).cloned().collect();
        if input.series.len() > MAX_SERIES - 1 {
            let rest = &input.series[MAX_SERIES - 1..];
            if rest.len() == 1 {
                series.push(rest[0].clone());
            } else {
                series.push(CostSeries {
                    label: format!("{} others", rest.len()),
                    values: (0..input.days.len())
                        .map(|d| rest.iter().map(|s| finite(s.values[d])).sum())
                        .collect(),
                    estimate: rest.iter().any(|s| s.estimate),
                });
            }
        }
        let colors: Vec<RGBColor> = (0..series.len()).map(|i| PALETTE[i]).collect();

        let mut y_min = 0f64;
        let mut y_max = 0f64;
        for d in 0..input.days.len() {
            let (pos, neg) = series.iter().fold((0.0, 0.0), |(p, n), s| {
                let v = finite(s.values[d]);
                if v >= 0.0 {
                    (p + v, n)
                } else {
                    (p, n + v)
                }
            });
            y_max = y_max.max(pos);
            y_min = y_min.min(neg);
        }
        for f in &input.forecast {
            y_max = y_max.max(finite(f.high).max(finite(f.mid)));
        }
        if y_max <= y_min {
            y_max = y_min + 1.0;
        }
        let step = nice_step(y_max - y_min, 5.0);
        y_max = (y_max / step).ceil() * step;
        y_min = (y_min / step).floor() * step;

        let top = if opts.title.is_some() { 30 } else { 12 };
        let left = 64;
        let legend_h = 22 * series.len().div_ceil(4).max(1) as u32;
        let plot = PlotRect {
            x: left,
            y: top,
            width: opts.width.saturating_sub(left + 16).max(1),
            height: opts.height.saturating_sub(top + 24 + legend_h).max(1),
        };
        let n = input.days.len() + input.forecast.len();
        let slot = f64::from(plot.width) / n as f64;
        let gap = if slot >= 6.0 {
            (slot * 0.2).round()
        } else {
            0.0
        };
        let bar = |i: usize| {
            let x0 = f64::from(plot.x) + slot * i as f64;
            let x1 = x0 + slot - gap;
            (
                x0.round() as u32,
                (x1.round() as u32).max(x0.round() as u32 + 1),
            )
        };
        let mut bars = Vec::with_capacity(n);
        for (d, day) in input.days.iter().enumerate() {
            let (x0, x1) = bar(d);
            let amounts: Vec<f64> = series.iter().map(|s| finite(s.values[d])).collect();
            bars.push(CostBar {
                day: day.clone(),
                x0,
                x1,
                total: amounts.iter().sum(),
                forecast: false,
                low: None,
                high: None,
                amounts,
            });
        }
        for (k, f) in input.forecast.iter().enumerate() {
            let (x0, x1) = bar(input.days.len() + k);
            bars.push(CostBar {
                day: f.day.clone(),
                x0,
                x1,
                total: finite(f.mid),
                forecast: true,
                low: Some(finite(f.low)),
                high: Some(finite(f.high)),
                amounts: Vec::new(),
            });
        }
        let legend = series
            .iter()
            .zip(&colors)
            .map(|(s, c)| CostLegend {
                label: s.label.clone(),
                color: hex(if s.estimate { lighter(*c) } else { *c }),
                estimate: s.estimate,
            })
            .collect();
        Ok(Model {
            layout: CostChartLayout {
                width: opts.width,
                height: opts.height,
                plot,
                bars,
                legend,
                currency: input.currency.clone(),
                y_min,
                y_max,
            },
            colors,
        })
    }

    fn y(&self, v: f64) -> i32 {
        let l = &self.layout;
        let frac = (v - l.y_min) / (l.y_max - l.y_min);
        (f64::from(l.plot.y + l.plot.height) - frac * f64::from(l.plot.height)).round() as i32
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &CostChartOptions,
    ) -> Result<(), ChartError> {
        let l = &self.layout;
        let plot = l.plot;
        root.fill(&WHITE).map_err(draw_err)?;
        if let Some(title) = &opts.title {
            root.draw(&Text::new(
                title.clone(),
                (plot.x as i32, 8),
                text_style(14, HPos::Left, VPos::Top),
            ))
            .map_err(draw_err)?;
        }
        // Grid lines and amounts on the left.
        let grid = RGBColor(225, 225, 225);
        let step = nice_step(l.y_max - l.y_min, 5.0);
        let label = text_style(11, HPos::Right, VPos::Center);
        let (px0, px1) = (plot.x as i32, (plot.x + plot.width) as i32);
        let mut v = l.y_min;
        while v <= l.y_max + step * 1e-9 {
            let y = self.y(v);
            root.draw(&PathElement::new(vec![(px0, y), (px1, y)], grid))
                .map_err(draw_err)?;
            root.draw(&Text::new(
                format_money(v, &l.currency),
                (px0 - 6, y),
                label.clone(),
            ))
            .map_err(draw_err)?;
            v += step;
        }
        // Bars: positives stacked up from 0, credits down from 0.
        let zero = self.y(0.0);
        for b in &l.bars {
            let (x0, x1) = (b.x0 as i32, b.x1 as i32);
            if b.forecast {
                let (lo, hi) = (b.low.unwrap_or(b.total), b.high.unwrap_or(b.total));
                let c = RGBColor(90, 90, 90);
                root.draw(&Rectangle::new(
                    [(x0, self.y(b.total)), (x1, zero)],
                    c.stroke_width(1),
                ))
                .map_err(draw_err)?;
                let mid = (x0 + x1) / 2;
                root.draw(&PathElement::new(
                    vec![(mid, self.y(lo)), (mid, self.y(hi))],
                    c,
                ))
                .map_err(draw_err)?;
                for at in [lo, hi] {
                    let y = self.y(at);
                    root.draw(&PathElement::new(vec![(mid - 3, y), (mid + 3, y)], c))
                        .map_err(draw_err)?;
                }
                continue;
            }
            let (mut up, mut down) = (0.0, 0.0);
            for (i, amount) in b.amounts.iter().enumerate() {
                if *amount == 0.0 {
                    continue;
                }
                let estimate = l.legend[i].estimate;
                let base = self.colors[i];
                let fill = if estimate { lighter(base) } else { base };
                let (from, to) = if *amount > 0.0 {
                    up += amount;
                    (up - amount, up)
                } else {
                    down += amount;
                    (down - amount, down)
                };
                root.draw(&Rectangle::new(
                    [(x0, self.y(to)), (x1, self.y(from))],
                    fill.filled(),
                ))
                .map_err(draw_err)?;
                if estimate {
                    // A dashed top edge marks an estimate without colour.
                    let y = self.y(to);
                    let mut x = x0;
                    while x < x1 {
                        root.draw(&PathElement::new(vec![(x, y), ((x + 3).min(x1), y)], base))
                            .map_err(draw_err)?;
                        x += 6;
                    }
                }
            }
        }
        let axis = RGBColor(120, 120, 120);
        root.draw(&PathElement::new(vec![(px0, zero), (px1, zero)], axis))
            .map_err(draw_err)?;
        // Day labels, as many as fit at about 56 px apart ("11-03").
        let every = (56.0 / (f64::from(plot.width) / l.bars.len().max(1) as f64)).ceil() as usize;
        let day_label = text_style(11, HPos::Center, VPos::Top);
        let base_y = (plot.y + plot.height) as i32 + 4;
        for b in l.bars.iter().step_by(every.max(1)) {
            let text = b.day.get(5..).unwrap_or(&b.day).to_owned();
            root.draw(&Text::new(
                text,
                (((b.x0 + b.x1) / 2) as i32, base_y),
                day_label.clone(),
            ))
            .map_err(draw_err)?;
        }
        // Legend under the axis, four entries per line.
        let legend_y = base_y + 22;
        let item = text_style(11, HPos::Left, VPos::Center);
        let col_w = (plot.width / 4).max(1) as i32;
        for (i, e) in l.legend.iter().enumerate() {
            let x = px0 + col_w * (i % 4) as i32;
            let y = legend_y + 22 * (i / 4) as i32;
            let fill = if e.estimate {
                lighter(self.colors[i])
            } else {
                self.colors[i]
            };
            root.draw(&Rectangle::new(
                [(x, y - 5), (x + 10, y + 5)],
                fill.filled(),
            ))
            .map_err(draw_err)?;
            let name = if e.estimate {
                format!("{} (estimate)", e.label)
            } else {
                e.label.clone()
            };
            root.draw(&Text::new(name, (x + 14, y), item.clone()))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

/// Renders the daily cost chart to SVG. No days at all is
/// [`ChartError::NoData`]; a series with the wrong length is
/// [`ChartError::BadInput`].
pub fn cost_chart(
    input: &CostChartInput,
    opts: &CostChartOptions,
) -> Result<RenderedCostChart, ChartError> {
    let model = Model::build(input, opts)?;
    let svg = render_svg(opts.width, opts.height, |root| model.draw(root, opts))?;
    Ok(RenderedCostChart {
        svg,
        layout: model.layout,
    })
}

/// The same chart as a PNG (exports).
pub fn cost_chart_png(
    input: &CostChartInput,
    opts: &CostChartOptions,
) -> Result<Vec<u8>, ChartError> {
    let model = Model::build(input, opts)?;
    render_png(opts.width, opts.height, |root| model.draw(root, opts))
}

#[cfg(test)]
#[path = "cost_tests.rs"]
mod tests;
