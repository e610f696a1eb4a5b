//! `cloudops latency` (BRIEF §7): quantile series and the heatmap matrix
//! from a Prometheus histogram's per-step bucket increases
//! (`sum by (le) (increase(metric_bucket{selector}[step]))`), computed the
//! way Prometheus's `histogram_quantile` does (BRIEF §9 A2).
//!
//! The heatmap counts are **per bucket**: `increase(le_i) − increase(le_{i−1})`
//! after the monotonic fix, so a time's counts add up to its `+Inf`
//! increase. `le` is printed as Prometheus prints the label (`"0.005"`,
//! `"+Inf"`), strings because JSON has no infinity; a missing bucket
//! increase is `null`. Steps without observations have no quantile point.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use cloudops_core::analysis::quantile::{latency_heatmap_matrix, quantile_series};
use cloudops_core::metrics::HistogramSteps;
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure, EXIT_ERROR};

/// Prometheus refuses range queries of more than 11,000 points per series.
const MAX_POINTS: i64 = 11_000;

/// Where the histogram comes from: shared by `latency` and `heatmap latency`.
#[derive(Debug, Args)]
pub struct HistogramSource {
    /// Prometheus base URL, e.g. http://127.0.0.1:9090.
    #[arg(long, value_name = "URL")]
    pub prometheus: String,
    /// The histogram: its base name or its `_bucket` series, e.g.
    /// http_request_duration_seconds.
    #[arg(long, value_name = "NAME")]
    pub metric: String,
    /// A label selector for the bucket series, e.g. '{job="checkout"}'.
    #[arg(long, value_name = "{..}", default_value = "")]
    pub selector: String,
    /// Start of the range: RFC 3339 (2026-11-23T10:00:00Z) or unix seconds.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub start: i64,
    /// End of the range: RFC 3339 or unix seconds.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub end: i64,
    /// Step (and increase window): `60s`, `5m`, `1h` or seconds.
    #[arg(long, value_name = "S", value_parser = parse_step)]
    pub step: i64,
}

#[derive(Debug, Args)]
pub struct LatencyArgs {
    #[command(flatten)]
    pub source: HistogramSource,
    /// Quantiles to compute, each in [0, 1].
    #[arg(long, value_delimiter = ',', value_parser = parse_quantile,
          default_value = "0.5,0.9,0.95,0.99")]
    pub quantiles: Vec<f64>,
}

/// RFC 3339 or unix seconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| {
            format!("{s:?} is neither RFC 3339 (2026-11-23T10:00:00Z) nor unix seconds: {e}")
        })
}

/// `30`, `30s`, `5m`, `1h`, `1d` → seconds (> 0).
pub fn parse_step(s: &str) -> Result<i64, String> {
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a step like 60s, 5m or 300"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    match n.checked_mul(mult) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(format!("{s:?}: the step must be positive")),
    }
}

fn parse_quantile(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(q) if (0.0..=1.0).contains(&q) => Ok(q),
        _ => Err(format!("{s:?} is not a quantile in [0, 1]")),
    }
}

impl HistogramSource {
    /// Checks the range before any request: usage errors exit 2.
    pub fn validate(&self) -> Result<(), Failure> {
        if self.end <= self.start {
            return Err(Failure::usage(
                "bad_range",
                format!("--end ({}) is not after --start ({})", self.end, self.start),
                "give --start before --end, e.g. --start 2026-11-23T10:00:00Z --end 2026-11-23T11:00:00Z",
            ));
        }
        let points = (self.end - self.start) / self.step + 1;
        if points > MAX_POINTS {
            return Err(Failure::usage(
                "too_many_points",
                format!(
                    "{points} steps of {} s; Prometheus answers at most {MAX_POINTS}",
                    self.step
                ),
                format!(
                    "use a larger --step, e.g. --step {}s",
                    (self.end - self.start) / (MAX_POINTS - 1) + 1
                ),
            ));
        }
        Ok(())
    }

    /// The `_bucket` series name.
    pub fn bucket_metric(&self) -> String {
        if self.metric.ends_with("_bucket") {
            self.metric.clone()
        } else {
            format!("{}_bucket", self.metric)
        }
    }

    /// Fetches the per-step bucket increases, summed by `le`.
    pub fn fetch(&self) -> Result<HistogramSteps, Failure> {
        self.validate()?;
        super::prometheus_fetch::histogram(self)
    }
}

/// Prometheus's spelling of a bucket bound (`0.005`, `10`, `+Inf`).
pub fn le_label(le: f64) -> String {
    if le == f64::INFINITY {
        "+Inf".into()
    } else {
        format!("{le}")
    }
}

#[derive(Serialize)]
struct LatencyDoc {
    /// Quantile (as given, e.g. "0.99") → `[[unix_ts, seconds], ...]`.
    quantiles: BTreeMap<String, Vec<(i64, f64)>>,
    heatmap: HeatmapDoc,
}

#[derive(Serialize)]
struct HeatmapDoc {
    times: Vec<i64>,
    le: Vec<String>,
    counts: Vec<Vec<Option<f64>>>,
}

pub fn run(ctx: &Context, args: LatencyArgs) -> Result<ExitCode, Failure> {
    let h = args.source.fetch()?;
    let series = quantile_series(&h, &args.quantiles);
    let matrix = latency_heatmap_matrix(&h);
    if ctx.json {
        print_json(&LatencyDoc {
            quantiles: series
                .iter()
                .map(|s| (format!("{}", s.q), s.points.clone()))
                .collect(),
            heatmap: HeatmapDoc {
                times: matrix.times,
                le: matrix.le.iter().map(|&le| le_label(le)).collect(),
                counts: matrix.counts,
            },
        });
    } else {
        print!("{}", table(&h, &args.quantiles));
    }
    Ok(ExitCode::SUCCESS)
}

/// At most this many rows in text mode; longer ranges show every k-th step.
const TABLE_ROWS: usize = 48;

/// The text table: time, the quantiles (ms/s), requests in the step.
fn table(h: &HistogramSteps, qs: &[f64]) -> String {
    let mut out = String::new();
    if h.times.is_empty() {
        let _ = writeln!(
            out,
            "no data: Prometheus returned no bucket series for this range"
        );
        return out;
    }
    let series = quantile_series(h, qs);
    let every = h.times.len().div_ceil(TABLE_ROWS).max(1);
    let _ = write!(out, "{:<20}", "time (UTC)");
    for q in qs {
        let _ = write!(out, "{:>10}", format!("p{}", (q * 1e5).round() / 1e3));
    }
    let _ = writeln!(out, "{:>10}", "requests");
    for (t, &ts) in h.times.iter().enumerate().step_by(every) {
        let _ = write!(out, "{:<20}", format_utc(ts));
        for s in &series {
            let cell = s
                .points
                .iter()
                .find(|p| p.0 == ts)
                .map_or("-".into(), |p| format_seconds(p.1));
            let _ = write!(out, "{cell:>10}");
        }
        let total = h.counts.get(t).and_then(|r| r.last()).copied();
        let total = total
            .filter(|v| v.is_finite())
            .map_or("-".into(), |v| format!("{v:.0}"));
        let _ = writeln!(out, "{total:>10}");
    }
    if every > 1 {
        let _ = writeln!(
            out,
            "({} steps, one row per {every} shown; --json prints all)",
            h.times.len()
        );
    }
    out
}

fn format_seconds(v: f64) -> String {
    if v.is_infinite() {
        return "+Inf".into();
    }
    if v < 1.0 {
        format!("{:.1}ms", v * 1e3)
    } else {
        format!("{v:.3}s")
    }
}

pub(crate) fn format_utc(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

impl From<cloudops_core::charts::ChartError> for Failure {
    fn from(e: cloudops_core::charts::ChartError) -> Failure {
        Failure {
            exit: EXIT_ERROR,
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_unix_seconds() {
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(parse_time("2023-11-14T23:13:20+01:00"), Ok(1_700_000_000));
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn steps_take_units() {
        assert_eq!(parse_step("60s"), Ok(60));
        assert_eq!(parse_step("5m"), Ok(300));
        assert_eq!(parse_step("1h"), Ok(3600));
        assert_eq!(parse_step("30"), Ok(30));
        assert!(parse_step("0s").is_err());
        assert!(parse_step("5x").is_err());
        assert!(parse_step("-5").is_err());
        assert!(parse_step("").is_err());
    }

    #[test]
    fn quantiles_must_be_in_range() {
        assert_eq!(parse_quantile("0.99"), Ok(0.99));
        assert!(parse_quantile("1.5").is_err());
        assert!(parse_quantile("NaN").is_err());
    }

    #[test]
    fn le_labels_match_prometheus() {
        assert_eq!(le_label(0.005), "0.005");
        assert_eq!(le_label(10.0), "10");
        assert_eq!(le_label(f64::INFINITY), "+Inf");
    }

    #[test]
    fn the_table_shows_quantiles_and_requests() {
        let h = cloudops_core::analysis::quantile::synthetic_histogram(1_700_000_000, 100, 60, 1);
        let t = table(&h, &[0.5, 0.99]);
        assert!(t.starts_with("time (UTC)"), "{t}");
        assert!(t.contains("p50") && t.contains("p99"), "{t}");
        assert!(t.contains("2023-11-14 22:14:20"), "{t}");
        assert!(t.contains("100 steps, one row per 3 shown"), "{t}");
        assert_eq!(t.lines().count(), 1 + 34 + 1, "{t}");
    }
}
