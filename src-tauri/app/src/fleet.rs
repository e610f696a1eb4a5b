//! The background discovery loop: on start, every 300 s, and on demand
//! (`refresh_fleet`). It writes into the cache and tells the webview through
//! events; views keep reading the cache only (BRIEF §2).
//!
//! In sandbox mode it first starts the in-process sandbox on loopback and
//! discovers from it with the sandbox's own variables, never the process's,
//! so a demo cannot touch a real cloud.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Duration};

use cloudops_cloud::{
    ambient::Shared,
    collect::{
        fleet::{collect_fleet, targets, FleetTarget},
        persist::write_pass,
        CollectSettings,
    },
    cost::refresh::{refresh_costs, CostPolicy},
    discovery::{self, Limits},
    providers::Provider as CloudProvider,
    resilience::{BreakerState, CallPolicy},
    sources,
};
use cloudops_core::analysis::alerts::AlertRules;
use cloudops_core::analysis::budget_alerts::evaluate_budgets;
use cloudops_core::analysis::pass::{after_pass, PassPolicies};
use cloudops_core::model::DiscoveryProgress;
use cloudops_core::store::{now_ms, retention::Retention};
use cloudops_core::store::{Alert, AlertChanges, AlertPolicy};
use cloudops_sandbox::{Sandbox, World};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use ts_rs::TS;

use crate::commands::{health::record_scores, CommandError};
use crate::state::AppState;

/// Where the fleet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Mode {
    /// The built-in simulated fleet (no cloud account configured, or
    /// `--sandbox`). The UI shows a persistent badge.
    Sandbox,
    /// The environment's cloud accounts.
    Live,
    /// The cache only, no network (`--offline`): review on a plane.
    Offline,
}

/// Default re-sync period (BRIEF §5: discovery every 300 s).
pub const RESYNC: Duration = Duration::from_secs(300);

/// Event names the webview listens to.
pub const EVENT_PROGRESS: &str = "discovery-progress";
pub const EVENT_FINISHED: &str = "discovery-finished";
pub const EVENT_COLLECTED: &str = "collection-finished";
pub const EVENT_ALERTS: &str = "alerts-changed";

/// Sent after each collection pass (the cache already holds it), so that
/// open views can re-read.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CollectionFinished {
    #[ts(type = "number")]
    pub collected_at: i64,
    pub clusters: u32,
    /// Clusters with at least one failed collector.
    pub clusters_with_problems: u32,
    #[ts(type = "number")]
    pub samples: u64,
    /// Set when the pass could not be written to the cache.
    pub failure: Option<String>,
}

/// Sent when a run ends (the cache already holds its result).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DiscoveryFinished {
    pub clusters: u32,
    pub errors: u32,
    /// Set when the run could not start at all (no accounts, no sandbox).
    pub failure: Option<String>,
    /// Endpoints whose circuit breaker is not closed after the run: calls
    /// to them are paused (open) or being tried again (half-open).
    pub breakers: Vec<EndpointBreaker>,
}

/// One provider endpoint's circuit breaker, as the Fleet screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EndpointBreaker {
    pub endpoint: String,
    /// `open` or `half_open`.
    pub state: String,
}

/// The breakers that are not closed, sorted by endpoint.
fn troubled_breakers(shared: &Shared) -> Vec<EndpointBreaker> {
    let mut out: Vec<EndpointBreaker> = shared
        .breakers
        .states()
        .into_iter()
        .filter_map(|(endpoint, state)| {
            let state = match state {
                BreakerState::Closed => return None,
                BreakerState::Open => "open",
                BreakerState::HalfOpen => "half_open",
            };
            Some(EndpointBreaker {
                endpoint,
                state: state.into(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    out
}

impl DiscoveryFinished {
    /// A run that could not start: `failure` is "message — hint".
    fn failed(failure: String) -> Self {
        DiscoveryFinished {
            clusters: 0,
            errors: 1,
            failure: Some(failure),
            breakers: Vec::new(),
        }
    }
}

/// Starts the loop on Tauri's async runtime; it runs until the app exits.
pub fn spawn<R: Runtime>(app: AppHandle<R>, mode: Mode) {
    if mode == Mode::Offline {
        return;
    }
    tauri::async_runtime::spawn(async move { run(app, mode).await });
}

async fn run<R: Runtime>(app: AppHandle<R>, _started_in: Mode) {
    let finish = |app: &AppHandle<R>, done: DiscoveryFinished| {
        if let Err(e) = app.emit(EVENT_FINISHED, done) {
            tracing::warn!(error = %e, "cannot notify the window");
        }
    };
    let shared = match Shared::new(CallPolicy::default()) {
        Ok(s) => s,
        Err(e) => {
            finish(
                &app,
                DiscoveryFinished::failed(format!("{e} — {}", e.hint())),
            );
            return;
        }
    };
    let refresh = app.state::<AppState>().refresh_signal();
    // Kept alive while the app is in sandbox mode: dropping it stops it.
    let mut sandbox: Option<cloudops_sandbox::RunningSandbox> = None;
    loop {
        let state = app.state::<AppState>();
        let mode = state.mode();
        let settings = collect_settings(&state, mode);
        tracing::debug!(?mode, "discovery run starting");
        let mut fleet: Vec<FleetTarget> = Vec::new();
        let mut cost_sources: Vec<Arc<dyn CloudProvider>> = Vec::new();
        let done = match prepare(&state, mode, &mut sandbox).await {
            Err(failure) => DiscoveryFinished::failed(failure),
            Ok((vars, accounts)) => {
                let env = state.env();
                let lookup = |k: &str| match &vars {
                    Some(v) => v.get(k).cloned(),
                    None => env(k),
                };
                let found = sources::gather(&lookup, accounts, &shared).await;
                let providers = found.providers.clone();
                cost_sources = providers.clone();
                let progress_app = app.clone();
                let report =
                    sources::discover(found, &Limits::default(), move |p: DiscoveryProgress| {
                        let _ = progress_app.emit(EVENT_PROGRESS, p);
                    })
                    .await;
                if state.mode() != mode {
                    // The user added an account mid-run: these results
                    // belong to the sandbox; run again for the live fleet.
                    continue;
                }
                if let Ok(r) = &report {
                    fleet = targets(&providers, &r.clusters);
                    // The action commands connect through the same targets.
                    state.actions().set_targets(fleet.clone());
                }
                let mut done = record(&state, report).await;
                done.breakers = troubled_breakers(&shared);
                done
            }
        };
        finish(&app, done);
        // Collect every interval until the next discovery is due (or the
        // user asks for a refresh, or the mode changes).
        let next_discovery = tokio::time::Instant::now() + RESYNC;
        loop {
            if !fleet.is_empty() {
                collect(&app, &state, &fleet, &settings, &shared).await;
            }
            // Cost after the metrics: it is due only every few hours.
            if refresh_costs_if_due(&state, &cost_sources).await {
                evaluate_budget_alerts(&app, &state).await;
            }
            tokio::select! {
                _ = tokio::time::sleep(settings.interval) => {}
                _ = tokio::time::sleep_until(next_discovery) => break,
                _ = refresh.notified() => break,
            }
            if tokio::time::Instant::now() >= next_discovery || state.mode() != mode {
                break;
            }
        }
    }
}

/// `collect.toml` from the data dir, read again each discovery run so that
/// edits apply without a restart. The sandbox always uses the defaults: a
/// demo must not reach for a real Prometheus the file names.
fn collect_settings(state: &AppState, mode: Mode) -> CollectSettings {
    if mode == Mode::Sandbox {
        return CollectSettings::default();
    }
    match cloudops_cloud::collect::config::load(state.base_dir()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, hint = %e.hint(), "using the default collection settings");
            CollectSettings::default()
        }
    }
}

/// One collection pass over the discovered clusters, written to the cache.
async fn collect<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    fleet: &[FleetTarget],
    settings: &CollectSettings,
    shared: &Shared,
) {
    let now = now_ms() / 1000;
    // Its own task, over owned data: the pass borrows nothing from this
    // loop, which keeps the loop's future `Send` for any lifetime.
    let (fleet, settings, breakers) = (
        fleet.to_vec(),
        settings.clone(),
        std::sync::Arc::clone(&shared.breakers),
    );
    let pass = tauri::async_runtime::spawn(async move {
        collect_fleet(&fleet, &settings, &breakers, now, |_| {}).await
    });
    let collections = match pass.await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "the collection pass failed");
            return;
        }
    };
    let clusters = collections.len() as u32;
    let clusters_with_problems = collections.iter().filter(|c| !c.is_complete()).count() as u32;
    for c in collections.iter().filter(|c| !c.is_complete()) {
        for p in c.problems() {
            tracing::warn!(cluster = %c.cluster_id, collector = %p.collector, kind = %p.kind, "{}", p.message);
        }
    }
    // The pass, then the scores it gives, on the store's thread: the
    // Fleet screen re-reads both on `collection-finished`.
    // Only clusters that produced data this pass are evaluated: an
    // unreachable one keeps its alerts as they were.
    let evaluated: Vec<String> = collections
        .iter()
        .filter(|c| !c.batch.samples.is_empty())
        .map(|c| c.cluster_id.clone())
        .collect();
    let written = state
        .with_store(move |store| write_pass(store, &collections, now, &Retention::default()))
        .await;
    if written.is_ok() {
        evaluate_alerts(app, state, evaluated, now).await;
        // Scored after the alerts and anomalies of this pass, so the
        // recorded score includes them (not the previous pass's).
        let recorded = state
            .with_store(move |store| record_scores(store, now))
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e.message, "the health scores were not recorded");
        }
    }
    let event = match written {
        Ok(w) => CollectionFinished {
            collected_at: now,
            clusters,
            clusters_with_problems,
            samples: w.samples as u64,
            failure: None,
        },
        Err(e) => CollectionFinished {
            collected_at: now,
            clusters,
            clusters_with_problems,
            samples: 0,
            failure: Some(format!("{} — {}", e.message, e.hint)),
        },
    };
    if let Err(e) = app.emit(EVENT_COLLECTED, event) {
        tracing::warn!(error = %e, "cannot notify the window");
    }
}

/// Refreshes the cost of the accounts that are due (every 6 h by default:
/// Cost Explorer bills each page). The cheap "is anything due" check runs
/// first, so the cache is held across the billing calls only when a fetch
/// will actually happen; both run on the store's blocking thread, never on
/// the async runtime. `true` when a refresh ran (the budgets are then
/// checked again).
async fn refresh_costs_if_due(state: &AppState, providers: &[Arc<dyn CloudProvider>]) -> bool {
    if providers.is_empty() {
        return false;
    }
    let providers = providers.to_vec();
    let refreshed = state
        .with_store(move |store| {
            let now = jiff::Timestamp::now();
            let mut due = false;
            for p in &providers {
                let last = store.last_cost_fetch(p.kind(), p.account())?;
                due |= last.is_none_or(|f| f.next_refresh_at <= now.as_second());
            }
            if !due {
                return Ok::<_, cloudops_core::store::StoreError>(None);
            }
            let policy = CostPolicy {
                // The Cost screen's forecast and anomaly baseline read eight weeks.
                history_days: cloudops_core::views::cost::HISTORY_DAYS,
                ..CostPolicy::default()
            };
            tauri::async_runtime::block_on(refresh_costs(store, &providers, &policy, now)).map(Some)
        })
        .await;
    match refreshed {
        Ok(Some(accounts)) => {
            for a in &accounts {
                tracing::debug!(provider = %a.provider, account = %a.account, outcome = ?a.outcome, "cost refresh");
            }
            true
        }
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e.message, hint = %e.hint, "the cost refresh failed");
            false
        }
    }
}

/// Checks the budgets against the cached cost (the same core function as
/// `cloudops refresh`) and announces what changed like any alert: after a
/// cost refresh, and after a budget is saved or deleted.
pub(crate) async fn evaluate_budget_alerts<R: Runtime>(app: &AppHandle<R>, state: &AppState) {
    let now = now_ms() / 1000;
    let done = state
        .with_store(move |store| {
            evaluate_budgets(store, now, &AlertPolicy::default()).map_err(CommandError::from)
        })
        .await;
    match done {
        Ok(pass) => announce_alerts(app, &pass.changes, 0, now),
        Err(e) => {
            tracing::error!(kind = %e.kind, hint = %e.hint, "checking the budgets failed: {}", e.message)
        }
    }
}

/// Sent after the alert rules ran on a collection pass (the cache already
/// holds the alerts), so that the alert list and badges re-read.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AlertsChanged {
    #[ts(type = "number")]
    pub evaluated_at: i64,
    pub clusters: u32,
    pub opened: u32,
    pub folded: u32,
    pub escalated: u32,
    pub resolved: u32,
    /// What deserves a desktop notification now: new high/critical alerts,
    /// alerts raised to high/critical, escalations.
    pub notify: Vec<Alert>,
}

/// Evaluates the alert rules on the clusters of a pass just written (their
/// last 15 minutes in the cache) and tells the window what changed.
///
/// The alerts of `AlertsChanged::notify` (new high/critical ones, raised
/// ones, escalations) also go out as desktop notifications, one each.
pub(crate) async fn evaluate_alerts<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    evaluated: Vec<String>,
    now: i64,
) {
    let clusters = evaluated.len() as u32;
    // Read each pass so that an edit applies without a restart; a bad file
    // is logged and the seed thresholds are used rather than no alerts.
    let rules = AlertRules::load(state.base_dir()).unwrap_or_else(|e| {
        tracing::error!(kind = e.kind(), hint = %e.hint(), "{e}; using the seed thresholds");
        AlertRules::default()
    });
    // Alerts, then anomalies (their probable causes cite the alerts), in
    // one call shared with `cloudops refresh`.
    let done = state
        .with_store(move |store| {
            Ok::<_, CommandError>(after_pass(
                store,
                &rules,
                &evaluated,
                now,
                &PassPolicies::default(),
            ))
        })
        .await;
    let done = match done {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(kind = %e.kind, hint = %e.hint, "evaluating the pass failed: {}", e.message);
            return;
        }
    };
    match &done.anomalies {
        Ok(pass) => {
            for a in &pass.changes.opened {
                tracing::warn!(anomaly = a.id, cluster = %a.cluster_id, subject = %a.subject, metric = a.metric.as_str(), "anomaly opened");
            }
        }
        Err(e) => {
            tracing::error!(kind = e.kind(), hint = %e.hint(), "evaluating the anomalies failed: {e}")
        }
    }
    let changes = match done.alerts {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(kind = e.kind(), hint = %e.hint(), "evaluating the alert rules failed: {e}");
            return;
        }
    };
    announce_alerts(app, &changes, clusters, now);
}

/// Tells the window what an evaluation changed (`alerts-changed`) and sends
/// the desktop notifications it calls for. Shared by the collection pass
/// and the log streams (whose new patterns and spikes raise alerts).
pub(crate) fn announce_alerts<R: Runtime>(
    app: &AppHandle<R>,
    changes: &AlertChanges,
    clusters: u32,
    now: i64,
) {
    let notify: Vec<Alert> = changes.to_notify().cloned().collect();
    for a in &notify {
        tracing::warn!(alert = a.id, cluster = %a.cluster_id, "{}", a.message);
    }
    crate::notify::notify_alerts(app, &notify);
    let event = AlertsChanged {
        evaluated_at: now,
        clusters,
        opened: changes.opened.len() as u32,
        folded: changes.folded.len() as u32,
        escalated: (changes.escalated.len() + changes.raised.len()) as u32,
        resolved: changes.resolved.len() as u32,
        notify,
    };
    if let Err(e) = app.emit(EVENT_ALERTS, event) {
        tracing::warn!(error = %e, "cannot notify the window");
    }
}

type Prepared = (
    Option<BTreeMap<String, String>>,
    Vec<cloudops_cloud::accounts::Resolved>,
);

/// The variables and accounts for one run: the sandbox's own variables and
/// no accounts in sandbox mode (a demo never touches a real cloud), the
/// process environment and `accounts.toml` otherwise.
async fn prepare(
    state: &AppState,
    mode: Mode,
    sandbox: &mut Option<cloudops_sandbox::RunningSandbox>,
) -> Result<Prepared, String> {
    if mode != Mode::Sandbox {
        if let Some(s) = sandbox.take() {
            tracing::info!(url = s.base_url(), "leaving sandbox mode");
            drop(s);
        }
        let dir = state.base_dir().to_path_buf();
        let slot = state.secrets_slot();
        let accounts = tauri::async_runtime::spawn_blocking(move || {
            sources::load_accounts(&dir, || slot.get())
        })
        .await
        .map_err(|e| format!("reading the accounts failed: {e}"))?
        .map_err(|e| format!("{e} — {}", e.hint()))?;
        return Ok((None, accounts));
    }
    if sandbox.is_none() {
        let s = Sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)), World::default())
            .map_err(|e| format!("the built-in sandbox could not start: {e}"))?;
        tracing::info!(url = s.base_url(), "sandbox started");
        *sandbox = Some(s);
    }
    Ok((sandbox.as_ref().map(|s| s.env_map()), Vec::new()))
}

/// Writes a run into the cache and says how it went.
async fn record(
    state: &AppState,
    report: Result<discovery::Report, discovery::NoAccounts>,
) -> DiscoveryFinished {
    match report {
        Ok(report) => {
            let run = report.to_run();
            let (clusters, errors) = (run.rows.len() as u32, run.errors.len() as u32);
            match state
                .with_store(move |store| store.apply_discovery(&run))
                .await
            {
                Ok(_) => DiscoveryFinished {
                    clusters,
                    errors,
                    failure: None,
                    breakers: Vec::new(),
                },
                Err(e) => DiscoveryFinished {
                    clusters,
                    errors: errors + 1,
                    failure: Some(format!("{} — {}", e.message, e.hint)),
                    breakers: Vec::new(),
                },
            }
        }
        Err(e) => DiscoveryFinished {
            clusters: 0,
            errors: 0,
            failure: Some(format!(
                "{e}: add an account in Settings → Accounts or export the provider variables"
            )),
            breakers: Vec::new(),
        },
    }
}

/// Is any cloud configured in the environment (provider variables, a
/// kubeconfig)? When none is, and no account is registered, the app opens
/// on the sandbox.
pub fn live_accounts_configured(var: impl Fn(&str) -> Option<String>) -> bool {
    cloudops_cloud::ambient::configured(&var)
}

/// Does `accounts.toml` in `data_dir` list any account? A file that cannot
/// be read counts as "yes": the app then starts live and shows the file's
/// error instead of hiding it behind the sandbox.
pub fn accounts_registered(data_dir: &std::path::Path) -> bool {
    let path = cloudops_cloud::accounts::AccountsFile::path_in(data_dir);
    match cloudops_cloud::accounts::AccountsFile::load(&path) {
        Ok(file) => !file.accounts.is_empty(),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_and_half_open_breakers_are_reported() {
        let shared = Shared::new(CallPolicy::default()).unwrap();
        shared.breakers.get("https://ok.example").on_success();
        let failing = shared.breakers.get("https://down.example");
        for _ in 0..50 {
            failing.on_failure();
        }
        assert_eq!(
            troubled_breakers(&shared),
            vec![EndpointBreaker {
                endpoint: "https://down.example".into(),
                state: "open".into(),
            }]
        );
    }
}
