//! `cloudops anomalies --csv FILE` (BRIEF §7) and `cloudops bench anomalies
//! --nab DIR` (BRIEF §9 A1): our detector on one NAB-format series, and the
//! seed against ours on the NAB fixtures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use cloudops_core::analysis::anomaly::{Detector, PointScore, SeedZScore, Severity};
use cloudops_core::analysis::nab::{self, Evaluation, NabError, Scored};
use serde::Serialize;

use super::Context;

/// `writeln!` to a String: text output is built whole and written once, so a
/// closed pipe (`| head`) is ignored instead of panicking like `println!`.
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
use crate::output::{print_json, Failure, EXIT_ERROR};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AnomaliesArgs {
    #[command(subcommand)]
    command: Option<super::anomalies_list::AnomaliesCommand>,
    /// A `timestamp,value` CSV (NAB format, e.g. `2014-02-14 14:30:00,1.5`).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchAnomaliesArgs {
    /// The NAB directory (with `data/` and `labels/combined_windows.json`).
    #[arg(long, value_name = "DIR", default_value = "../shared/fixtures/nab")]
    nab: PathBuf,
}

impl From<NabError> for Failure {
    fn from(e: NabError) -> Failure {
        let hint = match &e {
            NabError::Io { .. } => "check the path".to_owned(),
            NabError::BadLabels(_) => "expected NAB's labels/combined_windows.json".to_owned(),
            NabError::Detector { .. } => String::new(),
            _ => "expected a `timestamp,value` header, then rows like `2014-02-14 14:30:00,1.5`, sorted by time".to_owned(),
        };
        Failure {
            exit: EXIT_ERROR,
            kind: e.kind().to_owned(),
            message: e.to_string(),
            hint,
        }
    }
}

#[derive(Serialize)]
struct PointsDoc {
    points: Vec<PointDoc>,
}

#[derive(Serialize)]
struct PointDoc {
    /// Unix seconds (the CSV's time read as UTC).
    timestamp: i64,
    value: f64,
    score: f64,
    anomaly: bool,
    severity: Option<Severity>,
}

pub fn run(ctx: &Context, args: AnomaliesArgs) -> Result<ExitCode, Failure> {
    if let Some(command) = args.command {
        return super::anomalies_list::run(ctx, command);
    }
    let Some(csv) = args.csv else {
        return Err(Failure::usage(
            "missing_csv",
            "`cloudops anomalies` needs --csv FILE or a subcommand",
            "run the detector on a file with `cloudops anomalies --csv FILE`, or list the \
             cached anomalies with `cloudops anomalies list`",
        ));
    };
    run_csv(ctx, &csv)
}

fn run_csv(ctx: &Context, csv: &Path) -> Result<ExitCode, Failure> {
    let parsed = nab::read_series_csv(csv)?;
    if parsed.merged_duplicates > 0 {
        tracing::warn!(
            rows = parsed.merged_duplicates,
            "rows repeating the previous timestamp were merged into their mean"
        );
    }
    let series = parsed.points;
    let scores = Detector::default()
        .score(&series)
        .map_err(|source| NabError::Detector {
            file: csv.display().to_string(),
            source,
        })?;
    if ctx.json {
        let points = series
            .iter()
            .zip(&scores)
            .map(|(&(timestamp, value), s)| PointDoc {
                timestamp,
                value,
                score: s.score,
                anomaly: s.anomaly,
                severity: s.severity,
            })
            .collect();
        print_json(&PointsDoc { points });
    } else {
        print_summary(csv, &series, &scores, parsed.merged_duplicates);
    }
    Ok(ExitCode::SUCCESS)
}

/// One incident: a run of consecutive anomalous points.
struct Incident {
    start: i64,
    end: i64,
    points: usize,
    peak: f64,
}

fn incidents(series: &[(i64, f64)], scores: &[PointScore]) -> Vec<Incident> {
    let mut out: Vec<Incident> = Vec::new();
    let mut open = false;
    for (&(ts, _), s) in series.iter().zip(scores) {
        match (s.anomaly, open, out.last_mut()) {
            (true, true, Some(last)) => {
                last.end = ts;
                last.points += 1;
                if s.score.abs() > last.peak.abs() {
                    last.peak = s.score;
                }
            }
            (true, _, _) => out.push(Incident {
                start: ts,
                end: ts,
                points: 1,
                peak: s.score,
            }),
            (false, _, _) => {}
        }
        open = s.anomaly;
    }
    out
}

fn print_summary(path: &Path, series: &[(i64, f64)], scores: &[PointScore], merged: usize) {
    let (Some(first), Some(last)) = (series.first(), series.last()) else {
        return;
    };
    let found = incidents(series, scores);
    let mut out = String::new();
    outln!(
        out,
        "{}: {} points, {} to {} (UTC){}",
        path.display(),
        series.len(),
        nab::format_timestamp(first.0),
        nab::format_timestamp(last.0),
        if merged > 0 {
            format!(", {merged} duplicate rows merged")
        } else {
            String::new()
        }
    );
    let flagged = scores.iter().filter(|s| s.anomaly).count();
    outln!(out, "anomalies: {} ({flagged} points flagged)", found.len());
    for inc in &found {
        let severity = Severity::from_score(inc.peak).map_or("-", |s| match s {
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        });
        outln!(
            out,
            "  {} → {}  {:>4} points  peak score {:+.1} ({severity})",
            nab::format_timestamp(inc.start),
            nab::format_timestamp(inc.end),
            inc.points,
            inc.peak
        );
    }
    write_stdout(&out);
}

fn write_stdout(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

#[derive(Serialize)]
struct BenchDoc<'a> {
    nab: String,
    seed: SeedZScore,
    ours: Detector,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    /// ours_total.f1 / seed_total.f1 (BRIEF §9 A1 asks for ≥ 2).
    f1_ratio: f64,
    goal_met: bool,
    moonshot_met: bool,
}

pub fn bench(ctx: &Context, args: BenchAnomaliesArgs) -> Result<ExitCode, Failure> {
    let seed = SeedZScore::default();
    let ours = Detector::default();
    let evaluation = nab::evaluate(&args.nab, &seed, &ours)?;
    let (s, o) = (evaluation.seed_total, evaluation.ours_total);
    let ratio = if s.f1 > 0.0 { o.f1 / s.f1 } else { f64::NAN };
    let goal_met = o.f1 >= 2.0 * s.f1;
    let moonshot_met = o.f1 >= 0.30;
    if ctx.json {
        print_json(&BenchDoc {
            nab: args.nab.display().to_string(),
            seed,
            ours,
            evaluation: &evaluation,
            f1_ratio: if ratio.is_finite() { ratio } else { 0.0 },
            goal_met,
            moonshot_met,
        });
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    outln!(
        out,
        "NAB window scoring on {} ({} files): windows detected / FP events, precision, recall, F1",
        args.nab.display(),
        evaluation.files.len()
    );
    outln!(
        out,
        "{:<56} {:>3}  {:>16}  {:>16}",
        "file",
        "win",
        "seed det/fp  F1",
        "ours det/fp  F1"
    );
    for f in &evaluation.files {
        outln!(
            out,
            "{:<56} {:>3}  {}  {}",
            f.file,
            f.seed.counts.windows,
            cell(&f.seed),
            cell(&f.ours)
        );
    }
    outln!(
        out,
        "{:<56} {:>3}  {}  {}",
        "TOTAL (micro)",
        s.counts.windows,
        cell(&s),
        cell(&o)
    );
    outln!(
        out,
        "seed: P {:.3} R {:.3} F1 {:.3} | ours: P {:.3} R {:.3} F1 {:.3} | ratio {:.2} (goal ≥ 2: {}; moonshot F1 ≥ 0.30: {})",
        s.precision,
        s.recall,
        s.f1,
        o.precision,
        o.recall,
        o.f1,
        ratio,
        if goal_met { "met" } else { "not met" },
        if moonshot_met { "met" } else { "not met" },
    );
    write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

fn cell(s: &Scored) -> String {
    format!(
        "{:>3}/{:<4} {:>6.3}",
        s.counts.detected, s.counts.false_positive_events, s.f1
    )
}
