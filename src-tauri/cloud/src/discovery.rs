//! The discovery engine (BRIEF §2, issue 4): every account × scope runs
//! concurrently, bounded per account and per provider kind, and a failing
//! account or scope yields a typed error for that source next to everyone
//! else's results, never a failed refresh. A scope that answers only in part
//! keeps what it listed and is flagged `partial`. The outcome is recorded in
//! the cache with its time; clusters a complete scope no longer lists are
//! marked gone.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use cloudops_core::{
    model::{Provider as ProviderKind, SourceError},
    store::{CompleteScope, DiscoveredRow, DiscoveryRun},
};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    task::JoinSet,
};

use crate::{
    error::ProviderError,
    providers::{DiscoveredCluster, Provider, Scope, ScopeListing},
};

/// How many scopes are listed at once.
///
/// A scope is the clouds' own rate-limit unit: EKS throttles per account
/// and region, GKE's quota is per project, ARM's read budget (12k reads an
/// hour, refilled as a token bucket) is per subscription. Listing an
/// account's scopes side by side therefore does not pile calls onto one
/// bucket, and each provider bounds the burst *within* a scope itself (EKS:
/// a few describes at a time). So the account bound is set to cover an
/// account's usual scopes in one wave (ten or so enabled regions, a handful
/// of projects or subscriptions): with 8, ten regions took two waves, i.e.
/// twice the wall time, for no protection of any limit.
///
/// The provider-wide bound is about this machine, not the clouds: with many
/// accounts of one kind, it caps the sockets and tasks in flight.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Scopes listed at once per account (and one account's `scopes()` call).
    pub per_account: usize,
    /// Scopes listed at once over every account of one provider kind.
    pub per_provider: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_account: 16,
            per_provider: 48,
        }
    }
}

/// The two gates one account's work passes: its own, then its kind's.
#[derive(Clone)]
struct Gates {
    account: Arc<Semaphore>,
    provider: Arc<Semaphore>,
}

impl Gates {
    /// Waits for both permits. The account's is taken first, so that a task
    /// queued behind its own account never holds one of the kind's permits
    /// that another account could use. Every holder of a permit runs to the
    /// end without waiting on another task, so the two cannot deadlock.
    async fn enter(&self) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let a = self.account.clone().acquire_owned().await.ok()?;
        let p = self.provider.clone().acquire_owned().await.ok()?;
        Some((a, p))
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

/// The flag for a listing that answered for only part of its scope: the
/// clusters found are kept, the scope is not complete (nothing in it is
/// marked gone), and this says where the rest could not be seen.
fn partial_error(p: &dyn Provider, scope: &Scope, listing: &ScopeListing) -> SourceError {
    let what = match p.kind() {
        ProviderKind::Gcp => "zones",
        _ => "locations",
    };
    SourceError {
        provider: p.kind(),
        account: p.account().to_owned(),
        scope: scope.label.clone(),
        kind: "partial".into(),
        message: format!(
            "{}: {} listed {} cluster(s), but {what} {} did not answer; clusters there are missing \
             from this refresh (account {}, {})",
            p.kind(),
            scope.id,
            listing.clusters.len(),
            listing.unreachable.join(", "),
            p.account(),
            scope.label
        ),
        hint: format!(
            "Clusters in {} keep their last known state until a refresh reaches them; this is \
             usually a provider outage there (check its status page), and the next refresh retries.",
            listing.unreachable.join(", ")
        ),
    }
}

/// A scope (or the scope list) failed: one progress event, one source error.
fn fail_scope(
    report: &mut Report,
    progress: &impl Fn(Progress),
    p: &dyn Provider,
    scope_label: &str,
    err: SourceError,
) {
    progress(Progress::ScopeFailed {
        provider: p.kind(),
        account: p.account().to_owned(),
        scope: scope_label.to_owned(),
        kind: err.kind.clone(),
        message: err.message.clone(),
    });
    report.errors.push(err);
}

enum Outcome {
    Scopes(Arc<dyn Provider>, Result<Vec<Scope>, ProviderError>),
    Listed(
        Arc<dyn Provider>,
        Scope,
        Duration,
        Result<ScopeListing, ProviderError>,
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
    let mut kinds: HashMap<ProviderKind, Arc<Semaphore>> = HashMap::new();
    let mut accounts: HashMap<(ProviderKind, String), Gates> = HashMap::new();
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    for p in providers {
        let provider = kinds
            .entry(p.kind())
            .or_insert_with(|| Arc::new(Semaphore::new(limits.per_provider.max(1))))
            .clone();
        let gates = accounts
            .entry((p.kind(), p.account().to_owned()))
            .or_insert_with(|| Gates {
                account: Arc::new(Semaphore::new(limits.per_account.max(1))),
                provider,
            })
            .clone();
        let p = p.clone();
        tasks.spawn(async move {
            // The semaphores are never closed, so `None` cannot happen; if it
            // did, running ungated beats failing the source.
            let _permits = gates.enter().await;
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
                let gates = accounts
                    .get(&(p.kind(), p.account().to_owned()))
                    .cloned()
                    .unwrap_or_else(|| Gates {
                        account: Arc::new(Semaphore::new(1)),
                        provider: Arc::new(Semaphore::new(1)),
                    });
                for scope in scopes {
                    let (p, gates) = (p.clone(), gates.clone());
                    tasks.spawn(async move {
                        let _permits = gates.enter().await;
                        let t = Instant::now();
                        let found = p.discover_listing(&scope).await;
                        Outcome::Listed(p, scope, t.elapsed(), found)
                    });
                }
            }
            Ok(Outcome::Scopes(p, Err(e))) => {
                tracing::warn!(provider = %p.kind(), account = p.account(), error = %e, "listing scopes failed");
                let err = source_error(p.as_ref(), "", &e);
                fail_scope(&mut report, &progress, p.as_ref(), "", err);
            }
            Ok(Outcome::Listed(p, scope, took, Ok(listing))) if listing.is_complete() => {
                progress(Progress::ScopeDone {
                    provider: p.kind(),
                    account: p.account().to_owned(),
                    scope: scope.label.clone(),
                    clusters: u32::try_from(listing.clusters.len()).unwrap_or(u32::MAX),
                    millis: took.as_millis() as u64,
                });
                report.complete.push(CompleteScope {
                    provider: p.kind(),
                    account: p.account().to_owned(),
                    scope: scope.id.clone(),
                });
                report.clusters.extend(listing.clusters);
            }
            // Partial: keep what was listed, flag the rest, and leave the
            // scope out of `complete` so its unseen clusters are not gone.
            // One event per scope, as for a failure (progress counts
            // done + failed against planned); its message carries the count.
            Ok(Outcome::Listed(p, scope, _, Ok(listing))) => {
                tracing::warn!(provider = %p.kind(), account = p.account(), scope = %scope.label, unreachable = ?listing.unreachable, "partial listing");
                let err = partial_error(p.as_ref(), &scope, &listing);
                fail_scope(&mut report, &progress, p.as_ref(), &scope.label, err);
                report.clusters.extend(listing.clusters);
            }
            Ok(Outcome::Listed(p, scope, _, Err(e))) => {
                tracing::warn!(provider = %p.kind(), account = p.account(), scope = %scope.label, error = %e, "discovery failed");
                let err = source_error(p.as_ref(), &scope.label, &e);
                fail_scope(&mut report, &progress, p.as_ref(), &scope.label, err);
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

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    };

    use async_trait::async_trait;

    use super::*;
    use crate::providers::{ClusterConnection, ClusterLocator, ScaleOutcome};

    /// Scope listings in flight, now and at most, per account and overall.
    #[derive(Default)]
    struct InFlight {
        now: Mutex<HashMap<String, usize>>,
        max: Mutex<HashMap<String, usize>>,
        total_now: AtomicUsize,
        total_max: AtomicUsize,
    }

    /// An account whose scopes each hold their permit across a few yields,
    /// so that the engine's gates are what limits how many overlap.
    struct Fake {
        account: String,
        scopes: usize,
        seen: Arc<InFlight>,
    }

    #[async_trait]
    impl Provider for Fake {
        fn kind(&self) -> ProviderKind {
            ProviderKind::DigitalOcean
        }

        fn account(&self) -> &str {
            &self.account
        }

        fn endpoint(&self) -> &str {
            "fake"
        }

        async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
            Ok((0..self.scopes)
                .map(|i| Scope::new(format!("s{i}"), format!("scope {i}")))
                .collect())
        }

        async fn discover(&self, _: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError> {
            {
                let mut now = self.seen.now.lock().unwrap();
                let n = now.entry(self.account.clone()).or_default();
                *n += 1;
                let mut max = self.seen.max.lock().unwrap();
                let m = max.entry(self.account.clone()).or_default();
                *m = (*m).max(*n);
            }
            let total = self.seen.total_now.fetch_add(1, Ordering::SeqCst) + 1;
            self.seen.total_max.fetch_max(total, Ordering::SeqCst);
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
            self.seen.total_now.fetch_sub(1, Ordering::SeqCst);
            *self
                .seen
                .now
                .lock()
                .unwrap()
                .get_mut(&self.account)
                .unwrap() -= 1;
            Ok(Vec::new())
        }

        async fn describe(&self, _: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError> {
            Err(self.unsupported())
        }

        async fn scale_node_pool(
            &self,
            _: &ClusterLocator,
            _: &str,
            _: u32,
        ) -> Result<ScaleOutcome, ProviderError> {
            Err(self.unsupported())
        }

        async fn connect(&self, _: &ClusterLocator) -> Result<ClusterConnection, ProviderError> {
            Err(self.unsupported())
        }
    }

    impl Fake {
        fn unsupported(&self) -> ProviderError {
            ProviderError::NotFound {
                provider: self.kind(),
                what: "anything (a fake)".into(),
            }
        }
    }

    fn fakes(accounts: &[&str], scopes: usize, seen: &Arc<InFlight>) -> Vec<Arc<dyn Provider>> {
        accounts
            .iter()
            .map(|account| {
                Arc::new(Fake {
                    account: (*account).into(),
                    scopes,
                    seen: seen.clone(),
                }) as Arc<dyn Provider>
            })
            .collect()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_accounts_scopes_overlap_up_to_the_account_limit() {
        let seen = Arc::new(InFlight::default());
        let limits = Limits {
            per_account: 3,
            per_provider: 100,
        };
        let report = discover_all(&fakes(&["a"], 7, &seen), &limits, |_| {}).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.complete.len(), 7);
        // A full wave of the account's width, and never more.
        assert_eq!(seen.max.lock().unwrap().get("a"), Some(&3));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn accounts_of_one_kind_share_the_provider_limit() {
        let seen = Arc::new(InFlight::default());
        let limits = Limits {
            per_account: 3,
            per_provider: 5,
        };
        let report = discover_all(&fakes(&["a", "b", "c"], 7, &seen), &limits, |_| {}).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.complete.len(), 21);
        assert_eq!(seen.total_max.load(Ordering::SeqCst), 5);
        let max = seen.max.lock().unwrap().clone();
        assert!(max.values().all(|m| *m <= 3), "{max:?}");
    }
}
