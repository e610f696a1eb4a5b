//! The background discovery loop: on start, every 300 s, and on demand
//! (`refresh_fleet`). It writes into the cache and tells the webview through
//! events; views keep reading the cache only (BRIEF §2).
//!
//! In sandbox mode it first starts the in-process sandbox on loopback and
//! discovers from it with the sandbox's own variables, never the process's,
//! so a demo cannot touch a real cloud.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use cloudops_cloud::{
    ambient::Shared,
    discovery::{self, Limits},
    resilience::CallPolicy,
};
use cloudops_core::model::DiscoveryProgress;
use cloudops_sandbox::{Sandbox, World};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use ts_rs::TS;

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

/// Sent when a run ends (the cache already holds its result).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DiscoveryFinished {
    pub clusters: u32,
    pub errors: u32,
    /// Set when the run could not start at all (no accounts, no sandbox).
    pub failure: Option<String>,
}

impl DiscoveryFinished {
    /// A run that could not start: `failure` is "message — hint".
    fn failed(failure: String) -> Self {
        DiscoveryFinished {
            clusters: 0,
            errors: 1,
            failure: Some(failure),
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

async fn run<R: Runtime>(app: AppHandle<R>, mode: Mode) {
    let finish = |app: &AppHandle<R>, done: DiscoveryFinished| {
        if let Err(e) = app.emit(EVENT_FINISHED, done) {
            tracing::warn!(error = %e, "cannot notify the window");
        }
    };
    // Kept alive for the whole loop: dropping it stops the sandbox.
    let mut _sandbox = None;
    let vars: Option<BTreeMap<String, String>> = if mode == Mode::Sandbox {
        match Sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)), World::default()) {
            Ok(s) => {
                tracing::info!(url = s.base_url(), "sandbox started");
                let vars = s.env_map();
                _sandbox = Some(s);
                Some(vars)
            }
            Err(e) => {
                finish(
                    &app,
                    DiscoveryFinished::failed(format!("the built-in sandbox could not start: {e}")),
                );
                return;
            }
        }
    } else {
        None
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
    let lookup = |k: &str| match &vars {
        Some(v) => v.get(k).cloned(),
        None => std::env::var(k).ok(),
    };
    let refresh = app.state::<AppState>().refresh_signal();
    loop {
        let progress_app = app.clone();
        let report = discovery::discover_env(
            &lookup,
            &shared,
            &Limits::default(),
            move |p: DiscoveryProgress| {
                let _ = progress_app.emit(EVENT_PROGRESS, p);
            },
        )
        .await;
        let done = match report {
            Ok(report) => {
                let run = report.to_run();
                let (clusters, errors) = (run.rows.len() as u32, run.errors.len() as u32);
                let state = app.state::<AppState>();
                match state
                    .with_store(move |store| store.apply_discovery(&run))
                    .await
                {
                    Ok(_) => DiscoveryFinished {
                        clusters,
                        errors,
                        failure: None,
                    },
                    Err(e) => DiscoveryFinished {
                        clusters,
                        errors: errors + 1,
                        failure: Some(format!("{} — {}", e.message, e.hint)),
                    },
                }
            }
            Err(e) => DiscoveryFinished {
                clusters: 0,
                errors: 0,
                failure: Some(format!(
                    "{e}: add an account in Settings → Accounts or export the provider variables"
                )),
            },
        };
        finish(&app, done);
        tokio::select! {
            _ = tokio::time::sleep(RESYNC) => {}
            _ = refresh.notified() => {}
        }
    }
}

/// Is any cloud configured in the environment? When none is, the app opens
/// on the sandbox.
pub fn live_accounts_configured(var: impl Fn(&str) -> Option<String>) -> bool {
    cloudops_cloud::ambient::CONFIG_VARS
        .iter()
        .any(|k| var(k).is_some_and(|v| !v.trim().is_empty()))
}
