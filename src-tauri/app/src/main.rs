// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use cloudops_core::store::resolve_data_dir;
use cloudops_desktop::{args, fleet, AppState, Mode};

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLOUDOPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let parsed = match args::parse(std::env::args_os().skip(1)) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let data_dir = match resolve_data_dir(parsed.data_dir.as_deref()) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: {e}\nhint: {}", e.hint());
            return ExitCode::from(1);
        }
    };
    let mode = if parsed.offline {
        Mode::Offline
    } else if parsed.sandbox
        || !(fleet::live_accounts_configured(|k| std::env::var(k).ok())
            || fleet::accounts_registered(&data_dir))
    {
        Mode::Sandbox
    } else {
        Mode::Live
    };
    // In sandbox mode the cache lives in `data_dir/sandbox`: simulated
    // clusters never mix with production data (AppState picks the dir).
    tracing::info!(data_dir = %data_dir.display(), ?mode, "starting CloudOps Console");
    match cloudops_desktop::run(AppState::with_mode(data_dir, mode)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: the window could not start: {e}\n\
                 hint: check that a display is available (DISPLAY/WAYLAND_DISPLAY) and that \
                 WebKitGTK 4.1 is installed; `cloudops clusters --offline` works without one"
            );
            ExitCode::from(1)
        }
    }
}
