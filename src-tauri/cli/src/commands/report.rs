//! `cloudops report`: the headless fleet report (what `make run` prints
//! without a display), and `cloudops health`, the scores it is built on.
//!
//! The report refreshes once (discovery + one collection pass) unless
//! `--offline`, then reads everything from the cache: a text summary per
//! cluster, worst health first, and, with `--out DIR`, each cluster's CPU
//! heatmap and its slowest service's latency heatmap as SVG files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use cloudops_cloud::resilience::Breakers;
use cloudops_core::analysis::health::{ClusterScore, FleetScore};
use cloudops_core::store::now_ms;
use cloudops_core::views::{self, ClusterDetail, RangeRequest, ResourceKind, ViewError};
use cloudops_core::{ClusterSummary, Store};
use serde::Serialize;

use super::{clusters, refresh, Context};
use crate::output::{print_json, Failure, EXIT_ERROR, EXIT_PARTIAL};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The built-in sandbox (its own cache) instead of the cloud accounts.
    #[arg(long)]
    sandbox: bool,
    /// Read the cache only: no discovery, no collection.
    #[arg(long)]
    offline: bool,
    /// Also write the heatmaps as SVG files into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Only this cluster (its id, as `clusters` prints it).
    #[arg(long)]
    cluster: Option<String>,
    /// Read the sandbox's cache.
    #[arg(long)]
    sandbox: bool,
}

fn view_failure(e: ViewError) -> Failure {
    Failure {
        exit: EXIT_ERROR,
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    }
}

/// The last hour of every cached cluster, with its score.
struct Scored {
    cluster: ClusterSummary,
    detail: ClusterDetail,
    score: ClusterScore,
}

fn score_fleet(
    store: &Store,
    only: Option<&str>,
    now: i64,
    offline: bool,
) -> Result<(Vec<Scored>, FleetScore), Failure> {
    let fleet = views::fleet_health_for(store, only, now).map_err(view_failure)?;
    if let Some(id) = only {
        if fleet.clusters.is_empty() {
            return Err(Failure {
                exit: EXIT_ERROR,
                kind: "unknown_cluster".into(),
                message: format!("no cluster {id:?} in the cache"),
                hint: "List the cached clusters with `cloudops clusters --offline`.".into(),
            });
        }
    }
    // The report shows each cluster's detail beside its score, worst first
    // as the fleet orders them.
    let range = RangeRequest::Preset {
        preset: "1h".into(),
    };
    let mut scored = Vec::new();
    for score in &fleet.clusters {
        let Some(cluster) = store.cluster(&score.cluster_id)? else {
            continue;
        };
        let detail =
            views::cluster_detail(store, &cluster.id, &range, ResourceKind::Cpu, now, offline)
                .map_err(view_failure)?;
        scored.push(Scored {
            cluster,
            detail,
            score: score.clone(),
        });
    }
    Ok((scored, fleet))
}

fn score_text(v: Option<f64>) -> String {
    v.map_or("  ?".to_owned(), |v| format!("{v:>3.0}"))
}

fn age_text(collected_at: Option<i64>, now: i64) -> String {
    match collected_at {
        None => "no data yet".into(),
        Some(t) => {
            let s = (now - t).max(0);
            if s < 120 {
                "data just now".into()
            } else if s < 7200 {
                format!("data {} min old", s / 60)
            } else {
                format!("data {} h old", s / 3600)
            }
        }
    }
}

#[derive(Serialize)]
struct ClusterJson<'a> {
    id: &'a str,
    provider: &'a str,
    name: &'a str,
    region: &'a str,
    score: Option<f64>,
    basis: &'a str,
    reasons: &'a [cloudops_core::analysis::health::Reason],
    collected_at: Option<i64>,
    stale: bool,
    nodes: usize,
    services: usize,
    files: Vec<String>,
}

#[derive(Serialize)]
struct ReportJson<'a> {
    generated_at: i64,
    fleet_score: Option<f64>,
    unknown: usize,
    clusters: Vec<ClusterJson<'a>>,
}

fn write_heatmaps(store: &Store, s: &Scored, dir: &Path, now: i64) -> Result<Vec<String>, Failure> {
    let io = |e: std::io::Error, p: &Path| Failure {
        exit: EXIT_ERROR,
        kind: "report_io".into(),
        message: format!("cannot write {}: {e}", p.display()),
        hint: "Choose a writable --out directory.".into(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    let range = RangeRequest::Preset {
        preset: "1h".into(),
    };
    let mut files = Vec::new();
    let mut charts = vec![views::ChartRef::Resource {
        cluster_id: s.cluster.id.clone(),
        resource: ResourceKind::Cpu,
        range: range.clone(),
    }];
    // The slowest service is the one worth a look.
    if let Some(slowest) = s
        .detail
        .services
        .iter()
        .filter(|v| v.p95.is_some())
        .max_by(|a, b| a.p95.unwrap_or(0.0).total_cmp(&b.p95.unwrap_or(0.0)))
    {
        charts.push(views::ChartRef::Latency {
            cluster_id: s.cluster.id.clone(),
            service: slowest.service.clone(),
            range,
        });
    }
    for chart in &charts {
        match views::export_chart(store, chart, views::ExportFormat::Svg, now) {
            Ok((bytes, name)) => {
                let path = dir.join(&name);
                std::fs::write(&path, bytes).map_err(|e| io(e, &path))?;
                files.push(path.display().to_string());
            }
            // A cluster with no samples yet has nothing to draw.
            Err(ViewError::Chart(_)) => {}
            Err(e) => return Err(view_failure(e)),
        }
    }
    Ok(files)
}

pub fn run(ctx: &Context, args: ReportArgs) -> Result<ExitCode, Failure> {
    let mut store = clusters::open_store(ctx, args.sandbox)?;
    let mut partial = false;
    if !args.offline {
        let settings = refresh::collect_settings(ctx, args.sandbox)?;
        let runtime = refresh::runtime()?;
        partial = runtime.block_on(async {
            let shared = refresh::shared()?;
            let fleet = refresh::Fleet::start(
                ctx,
                args.sandbox,
                cloudops_sandbox::world::DEFAULT_SEED,
                &shared,
            )
            .await?;
            let breakers = Breakers::new(5, Duration::from_secs(30));
            let pass = fleet
                .pass(&mut store, &settings, &breakers, !ctx.json)
                .await;
            fleet.stop().await;
            pass.map(|p| p.is_partial())
        })?;
    }
    let now = now_ms() / 1000;
    let (scored, fleet) = score_fleet(&store, None, now, args.offline)?;
    if !args.offline {
        // A refresh is a collection pass: its scores join the history the
        // Fleet screen's sparklines draw, as the app's passes do.
        if let Err(e) = store.record_health(now, &fleet) {
            tracing::warn!(error = %e, "the health scores were not recorded");
        }
    }
    let mut out = Vec::new();
    for s in &scored {
        let files = match &args.out {
            Some(dir) => write_heatmaps(&store, s, dir, now)?,
            None => Vec::new(),
        };
        out.push((s, files));
    }
    if ctx.json {
        print_json(&ReportJson {
            generated_at: now,
            fleet_score: fleet.value,
            unknown: fleet.unknown,
            clusters: out
                .iter()
                .map(|(s, files)| ClusterJson {
                    id: &s.cluster.id,
                    provider: s.cluster.provider.as_str(),
                    name: &s.cluster.name,
                    region: &s.cluster.region,
                    score: s.score.score.value,
                    basis: s.score.basis,
                    reasons: &s.score.score.reasons,
                    collected_at: s.detail.age.collected_at,
                    stale: s.detail.age.stale,
                    nodes: s.detail.nodes.len(),
                    services: s.detail.services.len(),
                    files: files.clone(),
                })
                .collect(),
        });
    } else {
        println!(
            "CloudOps fleet report · {} clusters · fleet health {}{}",
            scored.len(),
            score_text(fleet.value).trim(),
            if fleet.unknown > 0 {
                format!(" ({} unknown)", fleet.unknown)
            } else {
                String::new()
            }
        );
        println!("Health is 0–100 over the last hour; worst first. ? = no data.\n");
        for (s, files) in &out {
            println!(
                "{}  {:<10} {:<28} {:<16} {} nodes, {} services, {}{}",
                score_text(s.score.score.value),
                s.cluster.provider.badge(),
                s.cluster.name,
                s.cluster.region,
                s.detail.nodes.len(),
                s.detail.services.len(),
                age_text(s.detail.age.collected_at, now),
                s.detail
                    .age
                    .reason
                    .as_deref()
                    .filter(|_| s.detail.age.stale)
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
            for r in s.score.score.reasons.iter().take(3) {
                println!("       −{:<5} {}", format!("{:.1}", r.points), r.detail);
            }
            for f in files {
                println!("       heatmap: {f}");
            }
        }
    }
    Ok(if partial {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn health(ctx: &Context, args: HealthArgs) -> Result<ExitCode, Failure> {
    let store = clusters::open_store(ctx, args.sandbox)?;
    let now = now_ms() / 1000;
    let (scored, fleet) = score_fleet(&store, args.cluster.as_deref(), now, false)?;
    if ctx.json {
        print_json(&fleet);
    } else {
        println!("fleet: {}", score_text(fleet.value).trim());
        for s in &scored {
            println!(
                "{}  {}  ({})",
                score_text(s.score.score.value),
                s.cluster.id,
                s.score.basis
            );
            for r in &s.score.score.reasons {
                println!("       −{:.1}  {}", r.points, r.detail);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
