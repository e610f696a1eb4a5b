//! The desktop shell: builds the Tauri app around the core crates. Domain
//! logic lives in `cloudops-core` / `cloudops-cloud`; this crate wires
//! commands, state and windows (BRIEF §3, GitButler-style thin commands).

mod actions;
pub mod args;
mod commands;
pub mod fleet;
pub mod logs;
pub mod notify;
mod state;

pub use commands::{AppInfo, CommandError, COMMAND_NAMES};
pub use fleet::Mode;
pub use state::AppState;

use tauri::Runtime;

/// Adds our state and the one handler list to a builder. Generic over the
/// runtime so that tests run the real handler list and permissions on
/// `tauri::test::mock_builder()`.
pub fn configure<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let mode = state.mode();
    builder
        .manage(state)
        // Alerts notify from Rust (`notify.rs`); the webview gets no
        // notification permission beyond what `capabilities/` grants.
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            fleet::spawn(app.handle().clone(), mode);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::fleet_overview,
            commands::app_info,
            commands::refresh_fleet,
            commands::accounts::accounts_list,
            commands::accounts::account_save,
            commands::accounts::account_remove,
            commands::accounts::account_test,
            commands::cluster::cluster_detail,
            commands::cluster::latency_heatmap,
            commands::cluster::chart_export,
            commands::workloads::workloads_page,
            commands::workloads::workloads_usage,
            commands::health::fleet_health,
            commands::alerts::alerts_list,
            commands::alerts::alert_acknowledge,
            commands::alerts::alert_resolve,
            commands::alerts::alerts_acknowledge,
            commands::alerts::alerts_resolve,
            commands::alerts::alert_get,
            commands::alerts::alerts_history,
            commands::anomalies::anomalies_list,
            commands::anomalies::anomaly_get,
            commands::actions::scale_preview,
            commands::actions::scale_apply,
            commands::actions::rollout_preview,
            commands::actions::rollout_apply,
            commands::actions::audit_log,
            commands::actions::audit_export,
            commands::actions::read_only_get,
            commands::actions::read_only_set,
            commands::logs::logs_follow,
            commands::logs::logs_stop,
            commands::logs::logs_cached,
            commands::logs::logs_patterns,
            commands::logs::logs_export,
            commands::logs::cluster_events,
            commands::failover::failover_groups,
            commands::failover::failover_plan,
            commands::failover::failover_run,
            commands::failover::failover_runs,
            commands::failover::failover_resume,
            commands::failover::failover_rollback,
            commands::hpa::hpa_preview,
            commands::hpa::hpa_apply,
            commands::cost::cost_view,
            commands::cost::cost_export,
            commands::nodepool::nodepool_list,
            commands::nodepool::nodepool_preview,
            commands::nodepool::nodepool_apply,
            commands::failover::failover_traffic_confirm,
            commands::cost::fleet_cost,
            commands::cost::cost_months,
            commands::budgets::budgets_list,
            commands::budgets::budget_set,
            commands::budgets::budget_delete
        ])
}

/// The compiled configuration, capabilities and bundled UI.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

pub fn run(state: AppState) -> tauri::Result<()> {
    configure(tauri::Builder::default(), state).run(context())
}

#[cfg(test)]
mod tests;
