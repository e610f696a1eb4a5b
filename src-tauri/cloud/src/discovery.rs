//! The discovery engine (BRIEF §2, issue 4): every account × scope runs
//! concurrently, bounded per provider, and a failing account or scope
//! yields a typed error for that source next to everyone else's results,
//! never a failed refresh. The outcome is recorded in the cache with its
//! time; clusters a complete scope no longer lists are marked gone.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use cloudops_core::{
    model::{Provider as ProviderKind, SourceError},
    store::{CompleteScope, DiscoveredRow, DiscoveryRun},
};
use tokio::{sync::Semaphore, task::JoinSet};

use crate::{
    error::ProviderError,
    providers::{DiscoveredCluster, Provider, Scope},
};

/// Concurrency per provider kind: enough to hide latency, few enough to stay
/// under the APIs' rate limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub per_provider: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { per_provider: 8 }
    }
}

pub use cloudops_core::model::DiscoveryProgress as Progress;

/// What one discovery run found.
#[derive(Debug, Default)]
pub struct Report {
    pub clusters: Vec<DiscoveredCluster>,
    pub errors: Vec<SourceError>,
    /// Sources that were listed completely (their missing clusters are gone).
    pub complete: Vec<CompleteScope>,
    pub started_ms: i64,
    pub finished_ms: i64,
}

impl Report {
    pub fn is_partial(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The cache's view of the run, stamped with its finish time.
    pub fn to_run(&self) -> DiscoveryRun {
        let collected_at = self.finished_ms / 1000;
        DiscoveryRun {
            started_ms: self.started_ms,
            finished_ms: self.finished_ms,
            rows: self
                .clusters
                .iter()
                .map(|c| DiscoveredRow {
                    summary: c.to_summary(collected_at),
                    native_id: c.locator.native_id.clone(),
                    scope: c.locator.scope.clone(),
                })
                .collect(),
            complete_scopes: self.complete.clone(),
            errors: self.errors.clone(),
        }
    }
}

fn source_error(p: &dyn Provider, scope: &str, e: &ProviderError) -> SourceError {
    let place = if scope.is_empty() {
        format!("account {}", p.account())
    } else {
        format!("account {}, {scope}", p.account())
    };
    SourceError {
        provider: p.kind(),
        account: p.account().to_owned(),
        scope: scope.to_owned(),
        kind: e.kind().to_owned(),
        message: format!("{e} ({place})"),
        hint: e.hint(),
    }
}

enum Outcome {
    Scopes(Arc<dyn Provider>, Result<Vec<Scope>, ProviderError>),
    Listed(
        Arc<dyn Provider>,
        Scope,
        Duration,
        Result<Vec<DiscoveredCluster>, ProviderError>,
    ),
}

/// Discovers every scope of every provider. `progress` is called from the
/// engine's task as each step ends; keep it cheap (send on a channel).
pub async fn discover_all(
    providers: &[Arc<dyn Provider>],
    limits: &Limits,
    progress: impl Fn(Progress),
) -> Report {
    let mut report = Report {
        started_ms: cloudops_core::store::now_ms(),
        ..Report::default()
    };
    let mut gates: HashMap<ProviderKind, Arc<Semaphore>> = HashMap::new();
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    for p in providers {
        let gate = gates
            .entry(p.kind())
            .or_insert_with(|| Arc::new(Semaphore::new(limits.per_provider.max(1))))
            .clone();
        let p = p.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let scopes = p.scopes().await;
            Outcome::Scopes(p, scopes)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Outcome::Scopes(p, Ok(scopes))) => {
                progress(Progress::Planned {
                    provider: p.kind(),
                    account: p.account().to_owned(),
                    scopes: u32::try_from(scopes.len()).unwrap_or(u32::MAX),
                });
                let gate = gates
                    .get(&p.kind())
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Semaphore::new(1)));
                for scope in scopes {
                    let (p, gate) = (p.clone(), gate.clone());
                    tasks.spawn(async move {
                        let _permit = gate.acquire_owned().await;
                        let t = Instant::now();
                        let found = p.discover(&scope).await;
                        Outcome::Listed(p, scope, t.elapsed(), found)
                    });
                }
            }
            Ok(Outcome::Scopes(p, Err(e))) => {
                let err = source_error(p.as_ref(), "", &e);
                tracing::warn!(provider = %p.kind(), account = p.account(), error = %e, "listing scopes failed");
                progress(Progress::ScopeFailed {
                    provider: p.kind(),
                    account: p.account().to_owned(),
                    scope: String::new(),
                    kind: err.kind.clone(),
                    message: err.message.clone(),
                });
                report.errors.push(err);
            }
            Ok(Outcome::Listed(p, scope, took, Ok(found))) => {
                progress(Progress::ScopeDone {
                    provider: p.kind(),
                    account: p.account().to_owned(),
                    scope: scope.label.clone(),
                    clusters: u32::try_from(found.len()).unwrap_or(u32::MAX),
                    millis: took.as_millis() as u64,
                });
                report.complete.push(CompleteScope {
                    provider: p.kind(),
                    account: p.account().to_owned(),
                    scope: scope.id.clone(),
                });
                report.clusters.extend(found);
            }
            Ok(Outcome::Listed(p, scope, _, Err(e))) => {
                let err = source_error(p.as_ref(), &scope.label, &e);
                tracing::warn!(provider = %p.kind(), account = p.account(), scope = %scope.label, error = %e, "discovery failed");
                progress(Progress::ScopeFailed {
                    provider: p.kind(),
                    account: p.account().to_owned(),
                    scope: scope.label.clone(),
                    kind: err.kind.clone(),
                    message: err.message.clone(),
                });
                report.errors.push(err);
            }
            // A provider panicked: a bug, but still only that source fails.
            Err(join) => {
                tracing::error!(error = %join, "a discovery task panicked");
                report.errors.push(SourceError {
                    provider: ProviderKind::Kubeconfig,
                    account: String::new(),
                    scope: String::new(),
                    kind: "internal".into(),
                    message: format!("a discovery task failed: {join}"),
                    hint: "Report this with the diagnostics; other sources are unaffected.".into(),
                });
            }
        }
    }
    report.clusters.sort_by(|a, b| {
        (a.provider, &a.account, &a.locator.region, &a.locator.name).cmp(&(
            b.provider,
            &b.account,
            &b.locator.region,
            &b.locator.name,
        ))
    });
    report.errors.sort_by(|a, b| {
        (a.provider, &a.account, &a.scope).cmp(&(b.provider, &b.account, &b.scope))
    });
    report.finished_ms = cloudops_core::store::now_ms();
    report
}

/// Nothing to discover: no cloud is configured in the environment.
#[derive(Debug, thiserror::Error)]
#[error("no cloud account is configured")]
pub struct NoAccounts;

/// The whole refresh for ambient accounts: build the providers the
/// environment configures, discover them all, and add the configuration
/// errors (a bad endpoint override) to the report's source errors.
pub async fn discover_env(
    var: &(dyn Fn(&str) -> Option<String> + Sync),
    shared: &crate::ambient::Shared,
    limits: &Limits,
    progress: impl Fn(Progress),
) -> Result<Report, NoAccounts> {
    let ambient = crate::ambient::from_env(var, shared).await;
    if ambient.providers.is_empty() && ambient.errors.is_empty() {
        return Err(NoAccounts);
    }
    let mut report = discover_all(&ambient.providers, limits, progress).await;
    report.errors.extend(ambient.errors);
    Ok(report)
}
