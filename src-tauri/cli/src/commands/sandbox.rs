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
    /// Inject or clear faults in a running sandbox (region outage, latency, error rate).
    Chaos(ChaosArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Seed of the simulated world: the same seed gives the same fleet.
    #[arg(long, default_value_t = 42, conflicts_with = "world")]
    seed: u64,
    /// A world file (TOML, docs/sandbox-world.md) describing another world,
    /// e.g. 200 clusters for a benchmark; its `seed` replaces --seed.
    #[arg(long, value_name = "FILE")]
    world: Option<std::path::PathBuf>,
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

pub fn run(ctx: &super::Context, command: SandboxCommand) -> Result<ExitCode, Failure> {
    match command {
        SandboxCommand::Serve(args) => serve(args),
        SandboxCommand::Chaos(args) => chaos::run(args, ctx.json),
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
    // Read before anything listens: a bad file is a usage error (exit 2)
    // that names the file, line and field.
    let world = match &args.world {
        Some(path) => World::load(path).map_err(|e| {
            Failure::usage(
                "bad_world_file",
                e.to_string(),
                "fix the world file at the line and field named; the schema is in docs/sandbox-world.md",
            )
        })?,
        None => World::generate(args.seed),
    };
    let seed = world.read().seed;
    runtime.block_on(async move {
        let clusters = world.read().clusters.len();
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
            seed,
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

pub use chaos::ChaosArgs;

/// `cloudops sandbox chaos`: a thin client of the sandbox's `/sandbox/chaos`.
mod chaos {
    use std::process::ExitCode;

    use clap::{Args, Subcommand, ValueEnum};
    use cloudops_sandbox::chaos::{ActiveFault, Fault, Target};
    use serde::{Deserialize, Serialize};

    use crate::output::{print_json, Failure, EXIT_ERROR};

    #[derive(Debug, Args)]
    pub struct ChaosArgs {
        /// The sandbox's base URL, as `sandbox serve` printed it (loopback only).
        #[arg(long, env = "CLOUDOPS_SANDBOX_URL", value_name = "URL")]
        url: String,
        #[command(subcommand)]
        action: Action,
    }

    #[derive(Debug, Subcommand)]
    enum Action {
        /// Add a fault; prints its id.
        Add {
            #[command(subcommand)]
            fault: FaultArg,
        },
        /// List the faults in force, and the requests each API has seen.
        List,
        /// Clear one fault by id, or every fault.
        Clear { id: Option<u64> },
    }

    #[derive(Debug, Subcommand)]
    enum FaultArg {
        /// That region's provider calls fail (503) and its clusters' Kubernetes APIs hang.
        RegionOutage {
            #[arg(long)]
            cloud: CloudArg,
            #[arg(long)]
            region: String,
        },
        /// Every call to the provider (all: every provider; k8s: the Kubernetes APIs) waits first.
        Latency {
            #[arg(long)]
            cloud: CloudArg,
            #[arg(long)]
            millis: u64,
        },
        /// A fraction of the provider's calls fail with STATUS (429 or a 5xx).
        ErrorRate {
            #[arg(long)]
            cloud: CloudArg,
            /// Between 0 and 1.
            #[arg(long)]
            rate: f64,
            #[arg(long, default_value_t = 503)]
            status: u16,
            /// The Retry-After (seconds) the failures carry.
            #[arg(long)]
            retry_after: Option<u64>,
            /// RNG seed (default: the world's), for reproducible runs.
            #[arg(long)]
            seed: Option<u64>,
        },
        /// The cluster's RBAC denies writes to apps/autoscaling resources
        /// (403 Forbidden; access reviews answer allowed: false).
        RbacDeny {
            /// The sandbox cluster's id (as in its /k8s/{id} URL).
            #[arg(long)]
            cluster_id: String,
            /// Only this namespace (default: every namespace).
            #[arg(long)]
            namespace: Option<String>,
        },
    }

    #[derive(Debug, Clone, Copy, ValueEnum)]
    enum CloudArg {
        Aws,
        Gcp,
        Azure,
        Do,
        All,
        K8s,
    }

    impl From<CloudArg> for Target {
        fn from(c: CloudArg) -> Target {
            match c {
                CloudArg::Aws => Target::Aws,
                CloudArg::Gcp => Target::Gcp,
                CloudArg::Azure => Target::Azure,
                CloudArg::Do => Target::Do,
                CloudArg::All => Target::All,
                CloudArg::K8s => Target::K8s,
            }
        }
    }

    impl From<FaultArg> for Fault {
        fn from(f: FaultArg) -> Fault {
            match f {
                FaultArg::RegionOutage { cloud, region } => Fault::RegionOutage {
                    cloud: cloud.into(),
                    region,
                },
                FaultArg::Latency { cloud, millis } => Fault::Latency {
                    cloud: cloud.into(),
                    millis,
                },
                FaultArg::ErrorRate {
                    cloud,
                    rate,
                    status,
                    retry_after,
                    seed,
                } => Fault::ErrorRate {
                    cloud: cloud.into(),
                    rate,
                    status,
                    retry_after_secs: retry_after,
                    seed,
                },
                FaultArg::RbacDeny {
                    cluster_id,
                    namespace,
                } => Fault::RbacDeny {
                    cluster_id,
                    namespace,
                },
            }
        }
    }

    #[derive(Serialize, Deserialize)]
    struct Listing {
        faults: Vec<ActiveFault>,
        #[serde(default)]
        requests: std::collections::BTreeMap<String, u64>,
    }

    #[derive(Serialize)]
    struct AddedDoc {
        id: u64,
        fault: Fault,
    }

    #[derive(Deserialize)]
    struct Added {
        id: u64,
    }

    #[derive(Serialize, Deserialize)]
    struct Cleared {
        cleared: usize,
    }

    /// The sandbox's `{"error": "..."}` on a refused request.
    #[derive(Deserialize)]
    struct Refused {
        error: String,
    }

    /// Only loopback: chaos must never be aimed at anything but a sandbox
    /// on this machine.
    fn loopback_url(raw: &str) -> Result<reqwest::Url, Failure> {
        let refuse = |why: String| {
            Failure::usage(
                "sandbox_not_loopback",
                why,
                "pass the base_url `cloudops sandbox serve` printed, e.g. --url http://127.0.0.1:PORT",
            )
        };
        let url = reqwest::Url::parse(raw.trim_end_matches('/'))
            .map_err(|e| refuse(format!("{raw} is not a URL: {e}")))?;
        let loopback = url.host_str().is_some_and(|h| {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if url.scheme() != "http" || !loopback {
            return Err(refuse(format!(
                "chaos only talks to a sandbox on loopback over http, not {raw}"
            )));
        }
        Ok(url)
    }

    pub fn run(args: ChaosArgs, json: bool) -> Result<ExitCode, Failure> {
        let base = loopback_url(&args.url)?;
        let endpoint = format!("{}/sandbox/chaos", base.as_str().trim_end_matches('/'));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
        runtime.block_on(async move {
            let http = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .no_proxy()
                .build()
                .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?;
            match args.action {
                Action::Add { fault } => {
                    let fault = Fault::from(fault);
                    let resp = send(http.post(&endpoint).json(&fault), &endpoint).await?;
                    let added: Added = read(resp, &endpoint).await?;
                    if json {
                        print_json(&AddedDoc {
                            id: added.id,
                            fault,
                        });
                    } else {
                        println!("added fault {}: {}", added.id, describe(&fault));
                    }
                }
                Action::List => {
                    let resp = send(http.get(&endpoint), &endpoint).await?;
                    let listing: Listing = read(resp, &endpoint).await?;
                    if json {
                        print_json(&listing);
                    } else if listing.faults.is_empty() {
                        println!("no faults");
                    } else {
                        for f in &listing.faults {
                            println!("{:>4}  {}", f.id, describe(&f.fault));
                        }
                    }
                }
                Action::Clear { id } => {
                    let url = match id {
                        Some(id) => format!("{endpoint}/{id}"),
                        None => endpoint.clone(),
                    };
                    let resp = send(http.delete(&url), &url).await?;
                    let cleared: Cleared = read(resp, &url).await?;
                    if json {
                        print_json(&cleared);
                    } else {
                        println!("cleared {} fault(s)", cleared.cleared);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        })
    }

    fn describe(f: &Fault) -> String {
        match f {
            Fault::RegionOutage { cloud, region } => {
                format!("region outage, {} {region}", name(*cloud))
            }
            Fault::Latency { cloud, millis } => format!("latency, {} +{millis} ms", name(*cloud)),
            Fault::ErrorRate {
                cloud,
                rate,
                status,
                retry_after_secs,
                ..
            } => {
                let retry = retry_after_secs
                    .map(|s| format!(", Retry-After {s}s"))
                    .unwrap_or_default();
                format!(
                    "error rate, {} {:.0}% {status}{retry}",
                    name(*cloud),
                    rate * 100.0
                )
            }
            Fault::SlowNode {
                cluster_id, node, ..
            } => format!("slow node, {node} in cluster {cluster_id}"),
            Fault::BadRollout {
                cluster_id,
                namespace,
                deployment,
            } => format!("bad rollout, {namespace}/{deployment} in cluster {cluster_id}"),
            Fault::RbacDeny {
                cluster_id,
                namespace,
            } => format!(
                "rbac deny, workload writes in {} of cluster {cluster_id}",
                namespace
                    .as_deref()
                    .map_or("every namespace".to_owned(), |n| format!("namespace {n}"))
            ),
        }
    }

    fn name(t: Target) -> String {
        serde_json::to_value(t)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{t:?}"))
    }

    async fn send(req: reqwest::RequestBuilder, url: &str) -> Result<reqwest::Response, Failure> {
        req.send().await.map_err(|e| Failure {
            exit: EXIT_ERROR,
            kind: "sandbox_unreachable".into(),
            message: format!("cannot reach the sandbox at {url}: {e}"),
            hint: "start one with `cloudops sandbox serve` and pass its base_url".into(),
        })
    }

    /// The reply as `T`; a refusal becomes a failure with the sandbox's reason
    /// (400: the fault is invalid, a usage error).
    async fn read<T: serde::de::DeserializeOwned>(
        resp: reqwest::Response,
        url: &str,
    ) -> Result<T, Failure> {
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| Failure {
            exit: EXIT_ERROR,
            kind: "sandbox_unreachable".into(),
            message: format!("reading the reply of {url}: {e}"),
            hint: String::new(),
        })?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| Failure {
                exit: EXIT_ERROR,
                kind: "bad_reply".into(),
                message: format!("{url} answered something that is not a chaos reply: {e}"),
                hint: "is this URL a cloudops sandbox?".into(),
            });
        }
        let reason = serde_json::from_slice::<Refused>(&body)
            .map(|r| r.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
        Err(match status.as_u16() {
            400 => Failure::usage(
                "bad_fault",
                reason,
                "see `cloudops sandbox chaos add --help`",
            ),
            404 => Failure {
                exit: EXIT_ERROR,
                kind: "not_found".into(),
                message: reason,
                hint: "`cloudops sandbox chaos list` shows the ids in force".into(),
            },
            code => Failure {
                exit: EXIT_ERROR,
                kind: "sandbox_error".into(),
                message: format!("{url} answered {code}: {reason}"),
                hint: String::new(),
            },
        })
    }
}
