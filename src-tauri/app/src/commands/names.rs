// Shared by build.rs (which generates an `allow-<name>` permission for each
// through tauri_build::AppManifest) and by the app, so that the handler list,
// the permissions and the capability cannot drift apart silently.
pub const COMMAND_NAMES: &[&str] = &[
    "fleet_overview",
    "app_info",
    "refresh_fleet",
    "accounts_list",
    "account_save",
    "account_remove",
    "account_test",
    "cluster_detail",
    "latency_heatmap",
    "chart_export",
    "workloads_page",
    "workloads_usage",
    "fleet_health",
    "alerts_list",
    "alert_acknowledge",
    "alert_resolve",
    "anomalies_list",
    "anomaly_get",
];
