//! `cloudops bench cost-forecast`: the month-end forecast's backtest on
//! sandbox cost history (BRIEF §9 A4: the interval covers ≥ 80 % of the
//! held-out days). Each cluster of a sandbox world gets months of daily
//! cost from the sandbox's cost model (`simulated_daily_costs`: node hours ×
//! list price, weekly seasonality, a scale event); the last 7 days are held
//! out (and, with `--windows`, the 7 days before them, and so on, each
//! fitted only on what came before), and we report MAPE and interval
//! coverage for our forecast (`auto`) and for each model alone.

use std::process::ExitCode;

use clap::Args;
use cloudops_core::analysis::{
    cost_forecast::{backtest, ForecastConfig, Method},
    cost_series::DailyCost,
};
use cloudops_sandbox::{simulated_daily_costs, World};
use serde::Serialize;

use super::Context;
use crate::output::{print_json, Failure};

#[derive(Debug, Args)]
pub struct CostForecastBenchArgs {
    /// The world's seed (its clusters, pools and machine types).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Clusters in the world.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=1000))]
    clusters: u32,
    /// Days of history per cluster.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u32).range(21..=3650))]
    days: u32,
    /// Days held out at the end.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=60))]
    holdout: u32,
    /// Consecutive hold-out windows per cluster, the last one ending on the
    /// last day (1 = only the last `holdout` days).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=52))]
    windows: u32,
    /// The interval's nominal level.
    #[arg(long, default_value_t = 0.8)]
    level: f64,
}

#[derive(Debug, Default, Serialize)]
struct MethodScore {
    /// The mean of the windows' MAPEs, in percent.
    mape_pct: f64,
    /// Held-out days inside their interval / days with an interval.
    coverage: f64,
    covered: usize,
    days_with_interval: usize,
    windows: usize,
}

#[derive(Debug, Serialize)]
struct ClusterScore {
    cluster: String,
    cloud: &'static str,
    mean_daily_cost: f64,
    mape_pct: f64,
    coverage: f64,
}

#[derive(Debug, Serialize)]
struct Doc {
    seed: u64,
    /// Clusters generated (the world puts at least one on each cloud).
    clusters: usize,
    days: u32,
    holdout: u32,
    windows: u32,
    level: f64,
    /// What `cloudops cost --forecast` uses: per series, Holt-Winters or
    /// seasonal-naive, whichever forecast its recent weeks better.
    auto: MethodScore,
    holt_winters: MethodScore,
    seasonal_naive: MethodScore,
    per_cluster: Vec<ClusterScore>,
    /// BRIEF §9 A4.
    goal_coverage: f64,
    goal_met: bool,
}

fn score(
    histories: &[Vec<DailyCost>],
    args: &CostForecastBenchArgs,
    method: Method,
) -> Result<(MethodScore, Vec<(f64, f64)>), Failure> {
    let cfg = ForecastConfig {
        method,
        level: args.level,
        ..Default::default()
    };
    let (holdout, windows) = (args.holdout as usize, args.windows as usize);
    let mut s = MethodScore::default();
    let mut mape_sum = 0.0;
    let mut per_cluster = Vec::new();
    for h in histories {
        let (mut c_mape, mut c_cov, mut c_days, mut c_n) = (0.0, 0, 0, 0);
        for w in 0..windows {
            // Window w ends `w × holdout` days before the last day.
            let end = h.len().saturating_sub(w * holdout);
            if end <= holdout {
                break;
            }
            let b = backtest(&h[..end], holdout, &cfg)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.kind(), e))?;
            let mape = b.mape.unwrap_or(f64::NAN);
            mape_sum += mape;
            c_mape += mape;
            c_n += 1;
            s.windows += 1;
            s.covered += b.covered;
            s.days_with_interval += b.with_interval;
            c_cov += b.covered;
            c_days += b.with_interval;
        }
        per_cluster.push((
            c_mape / c_n.max(1) as f64,
            c_cov as f64 / c_days.max(1) as f64,
        ));
    }
    s.mape_pct = mape_sum / s.windows.max(1) as f64;
    s.coverage = s.covered as f64 / s.days_with_interval.max(1) as f64;
    Ok((s, per_cluster))
}

pub fn run(ctx: &Context, args: CostForecastBenchArgs) -> Result<ExitCode, Failure> {
    if !(args.level > 0.0 && args.level < 1.0) {
        return Err(Failure::usage(
            "usage",
            "--level must be between 0 and 1",
            "e.g. --level 0.8 for an 80 % interval",
        ));
    }
    if (args.holdout as usize) * 2 >= args.days as usize {
        return Err(Failure::usage(
            "usage",
            "--holdout must be under half of --days",
            "hold out fewer days, or generate more history with --days",
        ));
    }
    let world = World::generate_with(args.seed, args.clusters as usize).snapshot();
    // Day numbers are arbitrary here (the model only needs them
    // consecutive): the history ends on 2026-11-22.
    let last_day = 20_414;
    let first_day = last_day - i64::from(args.days) + 1;
    let histories: Vec<Vec<DailyCost>> = world
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            simulated_daily_costs(c, args.days as usize, args.seed ^ (i as u64 + 1))
                .into_iter()
                .enumerate()
                .map(|(d, amount)| DailyCost {
                    day: first_day + d as i64,
                    amount,
                })
                .collect()
        })
        .collect();
    let (auto, per) = score(&histories, &args, Method::Auto)?;
    let (hw, _) = score(&histories, &args, Method::HoltWinters)?;
    let (naive, _) = score(&histories, &args, Method::SeasonalNaive)?;
    let per_cluster = world
        .clusters
        .iter()
        .zip(&histories)
        .zip(per)
        .map(|((c, h), (mape_pct, coverage))| ClusterScore {
            cluster: c.name.clone(),
            cloud: c.cloud.as_str(),
            mean_daily_cost: h.iter().map(|d| d.amount).sum::<f64>() / h.len().max(1) as f64,
            mape_pct,
            coverage,
        })
        .collect();
    let doc = Doc {
        seed: args.seed,
        clusters: world.clusters.len(),
        days: args.days,
        holdout: args.holdout,
        windows: args.windows,
        level: args.level,
        goal_coverage: 0.8,
        goal_met: auto.coverage >= 0.8,
        auto,
        holt_winters: hw,
        seasonal_naive: naive,
        per_cluster,
    };
    if ctx.json {
        print_json(&doc);
    } else {
        println!(
            "{} clusters × {} days, hold-out {} days × {} windows, {:.0} % interval",
            doc.clusters,
            doc.days,
            doc.holdout,
            doc.windows,
            doc.level * 100.0
        );
        for (name, s) in [
            ("auto (ours)", &doc.auto),
            ("holt-winters", &doc.holt_winters),
            ("seasonal-naive", &doc.seasonal_naive),
        ] {
            println!(
                "{name:<15} MAPE {:>6.2} %   coverage {:>5.1} % ({}/{} days)",
                s.mape_pct,
                s.coverage * 100.0,
                s.covered,
                s.days_with_interval
            );
        }
        for c in &doc.per_cluster {
            println!(
                "  {:<28} {:<6} ${:>8.2}/day  MAPE {:>6.2} %  coverage {:>5.1} %",
                c.cluster,
                c.cloud,
                c.mean_daily_cost,
                c.mape_pct,
                c.coverage * 100.0
            );
        }
        println!(
            "goal (BRIEF §9 A4): coverage ≥ 80 %: {}",
            if doc.goal_met { "met" } else { "NOT met" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
