//! The IPC surface. Each command is thin: validate, call the core on a
//! blocking thread (SQLite must not stall the async runtime), return a DTO.

pub mod accounts;
pub mod actions;
pub mod alerts;
pub mod anomalies;
pub mod budgets;
pub mod cluster;
pub mod cost;
mod error;
pub mod failover;
pub mod health;
pub mod hpa;
pub mod logs;
mod names;
pub mod nodepool;
pub mod workloads;

pub use error::CommandError;
pub use names::COMMAND_NAMES;

use cloudops_core::{CacheInfo, FleetOverview};
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use crate::{fleet::Mode, state::AppState};

/// What the Settings screen shows about this installation.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub cache: CacheInfo,
    /// `sandbox` makes the UI show its persistent badge.
    pub mode: Mode,
}

/// The Fleet screen: every cached cluster, read from the cache only.
#[tauri::command]
pub async fn fleet_overview(state: State<'_, AppState>) -> Result<FleetOverview, CommandError> {
    state.with_store(|store| store.fleet_overview()).await
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let data_dir = state.data_dir().display().to_string();
    let cache = state.with_store(|store| store.info()).await?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir,
        cache,
        mode: state.mode(),
    })
}

/// Asks the discovery loop for a run now. Returns at once: progress and the
/// result arrive as `discovery-progress` / `discovery-finished` events, and
/// the cache holds the result. In offline mode it says so.
#[tauri::command]
pub async fn refresh_fleet(state: State<'_, AppState>) -> Result<(), CommandError> {
    if state.mode() == Mode::Offline {
        return Err(CommandError::offline());
    }
    state.refresh_signal().notify_one();
    Ok(())
}
