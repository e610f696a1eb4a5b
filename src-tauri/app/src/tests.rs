//! The real handler list and the real capabilities on Tauri's mock runtime:
//! what a window may call is decided by `capabilities/`, and this checks it.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

use cloudops_core::{ClusterSummary, FleetOverview, NodePoolSummary, Provider, Store};

use super::*;

fn request(cmd: &str) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::default(),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}

fn app(data_dir: &std::path::Path) -> tauri::App<tauri::test::MockRuntime> {
    configure(mock_builder(), AppState::new(data_dir.to_path_buf()))
        .build(context())
        .unwrap()
}

fn seeded_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .upsert_clusters(&[ClusterSummary {
            id: ClusterSummary::make_id(Provider::Aws, "prod", "eu-west-1", "payments"),
            provider: Provider::Aws,
            account: "prod".into(),
            name: "payments".into(),
            region: "eu-west-1".into(),
            version: Some("1.31".into()),
            status: "ACTIVE".into(),
            endpoint: None,
            node_pools: vec![NodePoolSummary {
                name: "general".into(),
                count: 3,
                min: Some(1),
                max: Some(6),
                machine_type: Some("m6i.large".into()),
            }],
            collected_at: 1_700_000_000,
            gone_at: None,
        }])
        .unwrap();
    dir
}

#[test]
fn the_main_window_reads_the_fleet_from_the_cache() {
    let dir = seeded_dir();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();

    let body = get_ipc_response(&main, request("fleet_overview")).expect("fleet_overview refused");
    let fleet: FleetOverview = body.deserialize().unwrap();
    assert_eq!(fleet.clusters.len(), 1);
    assert_eq!(fleet.clusters[0].name, "payments");
    assert_eq!(fleet.clusters[0].node_count(), 3);
    assert!(fleet.cache.path.ends_with("cache.sqlite3"));

    let info: AppInfo = serde_json::from_value(
        get_ipc_response(&main, request("app_info"))
            .expect("app_info refused")
            .deserialize()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(info.data_dir, dir.path().display().to_string());
}

#[test]
fn every_registered_command_is_granted_to_the_main_window() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    for name in COMMAND_NAMES {
        if let Err(e) = get_ipc_response(&main, request(name)) {
            assert!(
                !e.to_string().contains("not allowed"),
                "{name} is registered but the capability refuses it: {e}"
            );
        }
    }
}

#[test]
fn a_command_missing_from_the_capability_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    // Tauri's own window commands exist in every app, but our capability
    // grants none of them: closing the window from script must be refused.
    let err = get_ipc_response(&main, request("plugin:window|close")).unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");

    // Our own commands are granted to the main window only: another window
    // (a future pop-out, or an injected one) gets nothing.
    let other = WebviewWindowBuilder::new(&app, "other", Default::default())
        .build()
        .unwrap();
    let err = get_ipc_response(&other, request("fleet_overview")).unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");
}

#[test]
fn a_broken_cache_is_a_command_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(cloudops_core::store::CACHE_FILE_NAME);
    std::fs::write(&cache, b"not sqlite at all, just text".repeat(100)).unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let err = get_ipc_response(&main, request("fleet_overview")).unwrap_err();
    let err: CommandError = serde_json::from_value(err).unwrap();
    assert_eq!(err.kind, "cache_not_a_database");
    assert!(
        err.message.contains(&cache.display().to_string()),
        "{}",
        err.message
    );
    assert!(!err.hint.is_empty());
}

#[test]
fn offline_mode_reports_itself_and_refuses_a_refresh_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let info: AppInfo = serde_json::from_value(
        get_ipc_response(&main, request("app_info"))
            .unwrap()
            .deserialize()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info.mode, Mode::Offline);
    let err = get_ipc_response(&main, request("refresh_fleet")).unwrap_err();
    let err: CommandError = serde_json::from_value(err).unwrap();
    assert_eq!(err.kind, "offline");
    assert!(err.hint.contains("without --offline"), "{}", err.hint);
}

#[test]
fn live_mode_is_chosen_only_when_a_cloud_is_configured() {
    use crate::fleet::live_accounts_configured;
    assert!(!live_accounts_configured(|_| None));
    assert!(!live_accounts_configured(|_| Some("  ".into())));
    assert!(live_accounts_configured(|k| {
        (k == "DIGITALOCEAN_ACCESS_TOKEN").then(|| "t".into())
    }));
    assert!(live_accounts_configured(
        |k| (k == "AWS_PROFILE").then(|| "prod".into())
    ));
}
