use std::process::ExitCode;

use clap::Args;
use cloudops_core::{ClusterSummary, Provider};
use serde::Serialize;

use super::Context;
use crate::output::{age, print_json, Failure};

#[derive(Debug, Args)]
pub struct ClustersArgs {
    /// Only clusters of this provider.
    #[arg(long, value_parser = parse_provider)]
    provider: Option<Provider>,
    /// Read the cache instead of asking the clouds.
    #[arg(long)]
    offline: bool,
}

fn parse_provider(s: &str) -> Result<Provider, String> {
    s.parse()
        .map_err(|e: cloudops_core::model::UnknownProvider| e.to_string())
}

/// The `clusters` JSON document of the CLI contract.
#[derive(Serialize)]
struct ClustersDoc {
    clusters: Vec<ClusterSummary>,
    /// Providers that failed during a live discovery (empty offline).
    errors: Vec<serde_json::Value>,
}

pub fn run(ctx: &Context, args: ClustersArgs) -> Result<ExitCode, Failure> {
    if !args.offline {
        return Err(Failure::usage(
            "not_available",
            "live discovery is not in this build yet (it arrives with the providers work, issue 4)",
            "use `cloudops clusters --offline` to read the cache",
        ));
    }
    let store = ctx.open_store()?;
    let clusters = store.clusters(args.provider)?;
    if ctx.json {
        print_json(&ClustersDoc {
            clusters,
            errors: Vec::new(),
        });
    } else if clusters.is_empty() {
        println!(
            "No clusters in the cache at {}.\n\
             Add a cloud account (`cloudops accounts add ...`) and refresh, or start the sandbox \
             (`cloudops sandbox serve`).",
            store.path().display()
        );
    } else {
        print_table(&clusters);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(clusters: &[ClusterSummary]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let rows: Vec<[String; 7]> = clusters
        .iter()
        .map(|c| {
            [
                c.provider.badge().to_owned(),
                c.name.clone(),
                c.region.clone(),
                c.version.clone().unwrap_or_else(|| "-".into()),
                c.status.clone(),
                c.node_count().to_string(),
                age(c.collected_at, now),
            ]
        })
        .collect();
    let header = [
        "PROVIDER", "NAME", "REGION", "VERSION", "STATUS", "NODES", "DATA AGE",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!("{}", line(&header));
    for row in &rows {
        println!("{}", line(&row.each_ref().map(String::as_str)));
    }
}
