//! Where a refresh's providers come from, in one place for the CLI and the
//! app: the ambient environment (the user's shell, a script, the in-process
//! sandbox's variables) plus the accounts registered in `accounts.toml`.

use std::{path::Path, sync::Arc};

use cloudops_core::model::{ClusterSummary, SourceError};

use crate::{
    accounts::{self, AccountsError, AccountsFile, Resolved},
    ambient::{self, Shared},
    discovery::{self, Limits, NoAccounts, Progress, Report},
    merge,
    providers::Provider,
    secrets::{Secrets, SecretsError},
};

/// The providers of one refresh, and the ones that could not be built.
#[derive(Default)]
pub struct Sources {
    pub providers: Vec<Arc<dyn Provider>>,
    pub errors: Vec<SourceError>,
}

impl Sources {
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty() && self.errors.is_empty()
    }
}

/// Reads `accounts.toml` in `data_dir` and each account's secret. Calls
/// `open_keyring` only when an account has a stored secret, so a user who
/// relies on ambient logins never needs a keyring. Blocking: run on a
/// blocking thread.
pub fn load_accounts(
    data_dir: &Path,
    open_keyring: impl FnOnce() -> Result<Secrets, SecretsError>,
) -> Result<Vec<Resolved>, AccountsError> {
    let file = AccountsFile::load(&AccountsFile::path_in(data_dir))?;
    let secrets = if file.accounts.iter().any(|a| a.keyring) {
        match open_keyring() {
            Ok(s) => Some(s),
            Err(e) => {
                // Only the accounts that need it fail (as source errors),
                // not the refresh.
                tracing::warn!(error = %e, "no keyring for the accounts' secrets");
                None
            }
        }
    } else {
        None
    };
    Ok(accounts::resolve(&file.accounts, secrets.as_ref()))
}

/// One registered account with its secret, for "Test connection". Blocking.
pub fn load_account(
    data_dir: &Path,
    name: &str,
    open_keyring: impl FnOnce() -> Result<Secrets, SecretsError>,
) -> Result<Vec<Resolved>, AccountsError> {
    let file = AccountsFile::load(&AccountsFile::path_in(data_dir))?;
    let account = file
        .get(name)
        .cloned()
        .ok_or_else(|| AccountsError::Unknown(name.to_owned()))?;
    let secrets = if account.keyring {
        Some(open_keyring()?)
    } else {
        None
    };
    Ok(accounts::resolve(
        std::slice::from_ref(&account),
        secrets.as_ref(),
    ))
}

/// What a connection test found: the clusters (not written to the cache)
/// and every error, from building the provider to the last scope.
pub struct Probe {
    pub clusters: Vec<ClusterSummary>,
    pub errors: Vec<SourceError>,
    pub millis: u64,
}

impl Probe {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Discovers with the given accounts only (no ambient sources, no cache).
pub async fn probe(
    resolved: Vec<Resolved>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    shared: &Shared,
) -> Probe {
    let started = std::time::Instant::now();
    let (providers, mut errors) = accounts::providers(resolved, env, shared).await;
    let report = discovery::discover_all(&providers, &Limits::default(), |_| {}).await;
    errors.extend(report.errors.iter().cloned());
    let collected_at = report.finished_ms / 1000;
    Probe {
        clusters: report
            .clusters
            .iter()
            .map(|c| c.to_summary(collected_at))
            .collect(),
        errors,
        millis: started.elapsed().as_millis() as u64,
    }
}

/// The ambient providers plus the accounts' providers.
pub async fn gather(
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    accounts: Vec<Resolved>,
    shared: &Shared,
) -> Sources {
    let ambient = ambient::from_env(env, shared).await;
    let (mut providers, mut errors) = (ambient.providers, ambient.errors);
    let (built, failed) = accounts::providers(accounts, env, shared).await;
    providers.extend(built);
    errors.extend(failed);
    Sources { providers, errors }
}

/// Discovers every source, and adds the sources that could not be built to
/// the report's errors. `NoAccounts` when nothing at all is configured.
pub async fn discover(
    sources: Sources,
    limits: &Limits,
    progress: impl Fn(Progress),
) -> Result<Report, NoAccounts> {
    if sources.is_empty() {
        return Err(NoAccounts);
    }
    let mut report = discovery::discover_all(&sources.providers, limits, progress).await;
    // A cluster seen by a cloud account and in a kubeconfig is one cluster:
    // the cloud's view wins (it knows node pools and can scale them).
    for m in merge::merge_by_endpoint(&mut report.clusters) {
        tracing::debug!(
            context = %m.context.name,
            cluster = %m.cluster.name,
            provider = %m.provider,
            endpoint = %m.endpoint,
            "kubeconfig context merged into its cloud cluster"
        );
    }
    report.errors.extend(sources.errors);
    Ok(report)
}
