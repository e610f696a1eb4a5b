//! `cloudops heatmap latency ... --out FILE.svg|FILE.png` (BRIEF §7): the
//! same plotters chart the app shows, written to a file. The format comes
//! from the file's extension.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cloudops_core::charts::{latency_heatmap, latency_heatmap_png, LatencyChartOptions};
use serde::Serialize;

use super::latency::HistogramSource;
use super::Context;
use crate::output::{print_json, Failure, EXIT_ERROR};

#[derive(Debug, Subcommand)]
pub enum HeatmapCommand {
    /// Time × latency bucket from a Prometheus histogram, with p50/p95/p99.
    Latency(LatencyHeatmapArgs),
    /// Node × time CPU or memory (% of allocatable) of cached clusters.
    Resource(ResourceHeatmapArgs),
}

#[derive(Debug, Args)]
pub struct ResourceHeatmapArgs {
    /// Only this cluster (its id, as `clusters` prints it); default: every
    /// cached cluster, grouped.
    #[arg(long)]
    cluster: Option<String>,
    /// `cpu` or `memory`.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "memory"])]
    resource: String,
    /// How far back: 1h, 24h, 7d or 30d, ending now.
    #[arg(long, default_value = "24h", value_parser = ["1h", "24h", "7d", "30d"])]
    range: String,
    /// Read the sandbox's cache.
    #[arg(long)]
    sandbox: bool,
    #[command(flatten)]
    file: ChartFile,
}

#[derive(Debug, Args)]
pub struct ChartFile {
    /// Where to write the chart: FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Width in px.
    #[arg(long, default_value_t = 960)]
    pub width: u32,
    /// Height in px.
    #[arg(long, default_value_t = 400)]
    pub height: u32,
    /// A title over the chart.
    #[arg(long)]
    pub title: Option<String>,
}

#[derive(Debug, Args)]
pub struct LatencyHeatmapArgs {
    #[command(flatten)]
    source: HistogramSource,
    #[command(flatten)]
    file: ChartFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Svg,
    Png,
}

impl ChartFile {
    /// The format from the extension; anything else is a usage error.
    pub fn format(&self) -> Result<Format, Failure> {
        let ext = self
            .out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(Failure::usage(
                "bad_out_file",
                format!("cannot tell the format of {}", self.out.display()),
                "name the file FILE.svg or FILE.png",
            )),
        }
    }
}

#[derive(Serialize)]
struct WrittenDoc<'a> {
    out: &'a Path,
    format: Format,
    bytes: usize,
    width: u32,
    height: u32,
    /// Drawn time columns (after merging steps to the pixel budget).
    columns: usize,
    rows: usize,
}

pub fn run(ctx: &Context, command: HeatmapCommand) -> Result<ExitCode, Failure> {
    match command {
        HeatmapCommand::Latency(args) => latency(ctx, args),
        HeatmapCommand::Resource(args) => resource(ctx, args),
    }
}

fn resource(ctx: &Context, args: ResourceHeatmapArgs) -> Result<ExitCode, Failure> {
    use cloudops_core::charts::{resource_heatmap, resource_heatmap_png, ResourceChartOptions};
    use cloudops_core::store::{now_ms, Resource};
    use cloudops_core::views::{resolve_range, RangeRequest};

    let format = args.file.format()?;
    let store = super::clusters::open_store(ctx, args.sandbox)?;
    let range = resolve_range(
        &RangeRequest::Preset {
            preset: args.range.clone(),
        },
        now_ms() / 1000,
    )
    .map_err(|e| Failure::usage(e.kind(), e.to_string(), e.hint()))?;
    let kind = if args.resource == "memory" {
        Resource::Memory
    } else {
        Resource::Cpu
    };
    let ids = args.cluster.clone().map(|c| vec![c]);
    let matrix = store.resource_matrix(ids.as_deref(), kind, range.start, range.end, range.step)?;
    let opts = ResourceChartOptions {
        width: args.file.width,
        height: args.file.height,
        title: Some(args.file.title.clone().unwrap_or_else(|| {
            format!(
                "{} % of allocatable · {}",
                args.resource,
                args.cluster.as_deref().unwrap_or("all clusters")
            )
        })),
        ..Default::default()
    };
    let chart = resource_heatmap(&matrix, &opts)?;
    let bytes = match format {
        Format::Svg => chart.svg.into_bytes(),
        Format::Png => resource_heatmap_png(&matrix, &opts)?,
    };
    write_file(&args.file.out, &bytes)?;
    report(
        ctx,
        &WrittenDoc {
            out: &args.file.out,
            format,
            bytes: bytes.len(),
            width: opts.width,
            height: opts.height,
            columns: chart.layout.columns.len(),
            rows: chart.layout.rows.len(),
        },
    );
    Ok(ExitCode::SUCCESS)
}

fn latency(ctx: &Context, args: LatencyHeatmapArgs) -> Result<ExitCode, Failure> {
    let format = args.file.format()?;
    let h = args.source.fetch()?;
    let opts = LatencyChartOptions {
        width: args.file.width,
        height: args.file.height,
        title: Some(
            args.file
                .title
                .clone()
                .unwrap_or_else(|| format!("{}{}", args.source.metric, args.source.selector)),
        ),
        ..Default::default()
    };
    // Layout first (cheap, and it validates), then the file's format.
    let chart = latency_heatmap(&h, &opts)?;
    let bytes = match format {
        Format::Svg => chart.svg.into_bytes(),
        Format::Png => latency_heatmap_png(&h, &opts)?,
    };
    write_file(&args.file.out, &bytes)?;
    let doc = WrittenDoc {
        out: &args.file.out,
        format,
        bytes: bytes.len(),
        width: opts.width,
        height: opts.height,
        columns: chart.layout.columns.len(),
        rows: chart.layout.rows.len(),
    };
    report(ctx, &doc);
    Ok(ExitCode::SUCCESS)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|e| Failure {
        exit: EXIT_ERROR,
        kind: "write_failed".into(),
        message: format!("cannot write {}: {e}", path.display()),
        hint: "check that the directory exists and is writable".into(),
    })
}

fn report(ctx: &Context, doc: &WrittenDoc) {
    if ctx.json {
        print_json(doc);
    } else {
        println!(
            "wrote {} ({} bytes, {}x{} px, {} time columns x {} rows)",
            doc.out.display(),
            doc.bytes,
            doc.width,
            doc.height,
            doc.columns,
            doc.rows
        );
    }
}
