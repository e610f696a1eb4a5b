//! `cloudops sandbox serve`: the local multi-cloud emulator as a process, for
//! the demo and for pointing the CLI or the app at it by hand.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cloudops_sandbox::{Sandbox, World};
use serde::Serialize;

use crate::output::Failure;

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the provider APIs of a simulated fleet on loopback until stopped (Ctrl+C).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Seed of the simulated world: the same seed gives the same fleet.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Printed once, on one line, when the sandbox is listening.
#[derive(Serialize)]
struct ServingDoc {
    base_url: String,
    seed: u64,
    clusters: usize,
    endpoints: Endpoints,
    /// `KEY=value` lines; `export` them to point the CLI or the app here.
    env: Vec<String>,
}

#[derive(Serialize)]
struct Endpoints {
    aws: String,
    gke: String,
    arm: String,
    #[serde(rename = "do")]
    digitalocean: String,
}

pub fn run(command: SandboxCommand) -> Result<ExitCode, Failure> {
    match command {
        SandboxCommand::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> Result<ExitCode, Failure> {
    if !args.addr.ip().is_loopback() {
        return Err(Failure::usage(
            "sandbox_not_loopback",
            format!("the sandbox only listens on loopback, not {}", args.addr),
            "use --addr 127.0.0.1:PORT (or leave it out for a free port)",
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let world = World::generate(args.seed);
        let clusters = world.snapshot().clusters.len();
        let running = Sandbox::start(args.addr, world)
            .map_err(|e| anyhow::anyhow!("{e}: {}", source_text(&e)))?;
        let base = running.base_url().to_owned();
        let doc = ServingDoc {
            endpoints: Endpoints {
                aws: format!("{base}/aws"),
                gke: format!("{base}/gke"),
                arm: format!("{base}/arm"),
                digitalocean: format!("{base}/do"),
            },
            base_url: base,
            seed: args.seed,
            clusters,
            env: running.env_lines(),
        };
        // One line, so a script can read exactly one line and go on.
        println!(
            "{}",
            serde_json::to_string(&doc).map_err(|e| anyhow::anyhow!(e))?
        );
        eprintln!(
            "sandbox: {clusters} clusters on {}; nothing leaves this machine. Ctrl+C stops it.",
            doc.base_url
        );
        wait_for_stop().await;
        running
            .shutdown()
            .await
            .map_err(|e| anyhow::anyhow!("stopping the sandbox: {e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

fn source_text(e: &dyn std::error::Error) -> String {
    e.source().map(|s| s.to_string()).unwrap_or_default()
}

/// Ctrl+C, or SIGTERM from a test harness or a service manager.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
