//! What both heatmaps share: merging time columns to the pixel budget, the
//! stepped colour scale, the time axis, the colour-bar legend, and drawing a
//! grid of cells with equal neighbours merged into one rect.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{draw_err, ChartColumn, ChartError, ChartRow, PlotRect, FONT};

/// How the input's time steps map onto drawn columns: `groups[c]` is the
/// range of input indices merged into column `c`.
pub(crate) struct Columns {
    pub groups: Vec<std::ops::Range<usize>>,
    pub spans: Vec<ChartColumn>,
}

/// The step of a regular series: the smallest positive gap between times
/// (60 s when there is only one time).
pub(crate) fn step_of(times: &[i64]) -> i64 {
    times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(60)
}

/// Merges adjacent times so that each column is at least `min_cell_px`
/// wide, and tiles the plot's width with the columns.
pub(crate) fn columns(times: &[i64], plot: PlotRect, min_cell_px: u32) -> Columns {
    let n = times.len();
    let max_cols = (plot.width / min_cell_px.max(1)).max(1) as usize;
    let per = n.div_ceil(max_cols).max(1);
    let groups: Vec<std::ops::Range<usize>> =
        (0..n).step_by(per).map(|s| s..(s + per).min(n)).collect();
    let step = step_of(times);
    let count = groups.len() as u64;
    let spans = groups
        .iter()
        .enumerate()
        .map(|(c, g)| {
            let x = |c: u64| plot.x + (c * u64::from(plot.width) / count) as u32;
            ChartColumn {
                x0: x(c as u64),
                x1: x(c as u64 + 1),
                start: times[g.start] - step,
                end: times[g.end - 1],
                steps: g.len() as u32,
            }
        })
        .collect();
    Columns { groups, spans }
}

/// `[y0, y1)` of row `i` of `rows` rows tiling the plot's height, top down.
pub(crate) fn row_band(plot: PlotRect, i: usize, rows: usize) -> (u32, u32) {
    let y = |i: usize| plot.y + (i as u64 * u64::from(plot.height) / rows.max(1) as u64) as u32;
    (y(i), y(i + 1))
}

/// The number of steps of the colour scale: few enough that neighbours
/// often share a colour (one rect), enough to read.
pub(crate) const LEVELS: usize = 24;

pub(crate) fn level_color(level: usize) -> RGBColor {
    let t = level as f64 / (LEVELS - 1) as f64;
    ViridisRGB.get_color(t)
}

/// Maps a value to a colour level, or `None` for "draw nothing".
pub(crate) trait Scale {
    fn level(&self, v: f64) -> Option<usize>;
    /// The value at the bottom edge of `level` (for legend labels).
    fn value_at(&self, frac: f64) -> f64;
}

/// Log scale from the smallest positive value to the largest; 0 and
/// missing draw nothing.
pub(crate) struct LogScale {
    pub min: f64,
    pub max: f64,
}

impl LogScale {
    pub fn over<'a>(values: impl Iterator<Item = &'a Option<f64>>) -> Option<LogScale> {
        let (mut min, mut max) = (f64::INFINITY, 0.0_f64);
        for v in values.flatten() {
            if *v > 0.0 && v.is_finite() {
                min = min.min(*v);
                max = max.max(*v);
            }
        }
        (max > 0.0).then_some(LogScale { min, max })
    }
}

impl Scale for LogScale {
    fn level(&self, v: f64) -> Option<usize> {
        if v.is_nan() || v <= 0.0 {
            return None;
        }
        let span = (self.max / self.min).ln();
        let t = if span > 0.0 {
            ((v / self.min).ln() / span).clamp(0.0, 1.0)
        } else {
            1.0
        };
        Some((t * (LEVELS - 1) as f64).round() as usize)
    }

    fn value_at(&self, frac: f64) -> f64 {
        self.min * (self.max / self.min).powf(frac)
    }
}

/// Linear 0–100 %; values above 100 % (overcommit) take the top colour.
pub(crate) struct PercentScale;

impl Scale for PercentScale {
    fn level(&self, v: f64) -> Option<usize> {
        if v.is_nan() {
            return None;
        }
        let t = (v / 100.0).clamp(0.0, 1.0);
        Some((t * (LEVELS - 1) as f64).round() as usize)
    }

    fn value_at(&self, frac: f64) -> f64 {
        100.0 * frac
    }
}

pub(crate) fn text_style(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(&RGBColor(40, 40, 40))
        .pos(Pos::new(h, v))
}

/// Draws the cells: `values[column][row]`, each row's run of equal colour
/// levels as one rect. Returns how many rects it drew.
pub(crate) fn draw_cells<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    columns: &[ChartColumn],
    rows: &[ChartRow],
    values: &[Vec<Option<f64>>],
    scale: &dyn Scale,
) -> Result<usize, ChartError> {
    let mut drawn = 0;
    for (r, row) in rows.iter().enumerate() {
        if row.y1 <= row.y0 {
            continue;
        }
        let mut run: Option<(usize, u32)> = None; // (level, x0)
        let mut flush = |run: Option<(usize, u32)>, x1: u32| -> Result<(), ChartError> {
            if let Some((level, x0)) = run {
                if x1 > x0 {
                    let rect = Rectangle::new(
                        [(x0 as i32, row.y0 as i32), (x1 as i32, row.y1 as i32)],
                        level_color(level).filled(),
                    );
                    area.draw(&rect).map_err(draw_err)?;
                    drawn += 1;
                }
            }
            Ok(())
        };
        for (c, col) in columns.iter().enumerate() {
            let level = values
                .get(c)
                .and_then(|v| v.get(r))
                .copied()
                .flatten()
                .and_then(|v| scale.level(v));
            match (run, level) {
                (Some((l, _)), Some(level)) if l == level => {}
                _ => {
                    flush(run, col.x0)?;
                    run = level.map(|l| (l, col.x0));
                }
            }
        }
        flush(run, columns.last().map_or(0, |c| c.x1))?;
    }
    Ok(drawn)
}

/// The colour bar right of the plot: one rect per level, bottom = low,
/// with the min, middle and max values labelled.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: PlotRect,
    scale: &dyn Scale,
    title: &str,
    fmt: impl Fn(f64) -> String,
) -> Result<(), ChartError> {
    let x0 = (plot.x + plot.width + 14) as i32;
    let (top, bottom) = (plot.y as i32, (plot.y + plot.height) as i32);
    let h = f64::from((bottom - top).max(1));
    for level in 0..LEVELS {
        let y1 = bottom - (h * level as f64 / LEVELS as f64).round() as i32;
        let y0 = bottom - (h * (level + 1) as f64 / LEVELS as f64).round() as i32;
        area.draw(&Rectangle::new(
            [(x0, y0), (x0 + 12, y1)],
            level_color(level).filled(),
        ))
        .map_err(draw_err)?;
    }
    let label = text_style(11, HPos::Left, VPos::Center);
    for frac in [0.0, 0.5, 1.0] {
        let y = bottom - (h * frac).round() as i32;
        area.draw(&Text::new(
            fmt(scale.value_at(frac)),
            (x0 + 16, y),
            label.clone(),
        ))
        .map_err(draw_err)?;
    }
    area.draw(&Text::new(
        title.to_owned(),
        (x0, top - 8),
        text_style(11, HPos::Left, VPos::Bottom),
    ))
    .map_err(draw_err)?;
    Ok(())
}

/// Time ticks under the plot at round UTC times, about one per 110 px.
pub(crate) fn draw_time_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: PlotRect,
    columns: &[ChartColumn],
) -> Result<(), ChartError> {
    let (Some(first), Some(last)) = (columns.first(), columns.last()) else {
        return Ok(());
    };
    let (t0, t1) = (first.start, last.end);
    let axis_y = (plot.y + plot.height) as i32;
    let stroke = RGBColor(120, 120, 120);
    area.draw(&PathElement::new(
        vec![
            (plot.x as i32, axis_y),
            ((plot.x + plot.width) as i32, axis_y),
        ],
        stroke,
    ))
    .map_err(draw_err)?;
    let max_ticks = (plot.width / 110).max(2) as i64;
    const NICE: [i64; 14] = [
        1, 5, 15, 30, 60, 300, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800,
    ];
    let span = (t1 - t0).max(1);
    let every = NICE
        .iter()
        .copied()
        .find(|n| span / n <= max_ticks)
        .unwrap_or(span / max_ticks + 1);
    let label = text_style(11, HPos::Center, VPos::Top);
    let mut t = (t0.div_euclid(every) + 1) * every;
    let with_date = span > 86_400 || utc_day(t0) != utc_day(t1);
    while t <= t1 {
        if let Some(x) = x_of_time(columns, t) {
            area.draw(&PathElement::new(
                vec![(x, axis_y), (x, axis_y + 4)],
                stroke,
            ))
            .map_err(draw_err)?;
            area.draw(&Text::new(
                format_utc(t, with_date, every < 60),
                (x, axis_y + 6),
                label.clone(),
            ))
            .map_err(draw_err)?;
        }
        t += every;
    }
    Ok(())
}

/// The x pixel of time `t` inside the column that covers it.
pub(crate) fn x_of_time(columns: &[ChartColumn], t: i64) -> Option<i32> {
    let c = columns.iter().find(|c| c.start < t && t <= c.end)?;
    let frac = (t - c.start) as f64 / (c.end - c.start).max(1) as f64;
    Some(c.x0 as i32 + (frac * f64::from(c.x1 - c.x0)).round() as i32)
}

fn utc_day(t: i64) -> i64 {
    t.div_euclid(86_400)
}

/// `2026-11-23 14:05` or `14:05` (UTC), with seconds when ticks are closer
/// than a minute.
pub(crate) fn format_utc(t: i64, with_date: bool, with_seconds: bool) -> String {
    let (y, m, d) = civil_from_days(utc_day(t));
    let s = t.rem_euclid(86_400);
    let (hh, mm, ss) = (s / 3600, s % 3600 / 60, s % 60);
    let time = if with_seconds {
        format!("{hh:02}:{mm:02}:{ss:02}")
    } else {
        format!("{hh:02}:{mm:02}")
    };
    if with_date {
        format!("{y:04}-{m:02}-{d:02} {time}")
    } else {
        time
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A short number: `7`, `2.5`, `1.2k`, `3.4M`.
pub(crate) fn format_count(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if scaled.abs() >= 100.0 || (scaled.fract() == 0.0 && suffix.is_empty()) {
        format!("{scaled:.0}{suffix}")
    } else {
        let s = format!("{scaled:.1}");
        format!("{}{suffix}", s.trim_end_matches(".0"))
    }
}

/// A latency bound: `5 ms`, `250 ms`, `1 s`, `2.5 s`, `+Inf`.
pub(crate) fn format_seconds(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let (scaled, unit) = if v.abs() < 1.0 {
        (v * 1e3, "ms")
    } else {
        (v, "s")
    };
    let rounded = (scaled * 1e3).round() / 1e3;
    format!("{rounded} {unit}")
}
