//! The Cluster screen's commands: views built from the cache on a blocking
//! thread, and chart exports written to the user's Downloads folder.

use std::path::{Path, PathBuf};

use cloudops_core::store::now_ms;
use cloudops_core::views::{
    self, ChartRef, ClusterDetail, ExportFormat, ExportResult, HeatmapView, RangeRequest,
    ResourceKind,
};
use tauri::State;

use super::CommandError;
use crate::{fleet::Mode, state::AppState};

/// Longer than any id a provider hands out (`provider/account/region/name`).
const MAX_ID: usize = 512;
/// Kubernetes names are at most 253 characters.
const MAX_NAME: usize = 253;

pub(crate) fn check_text(what: &str, value: &str, max: usize) -> Result<(), CommandError> {
    if value.trim().is_empty() {
        return Err(CommandError::invalid(format!("{what} is empty")));
    }
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(CommandError::invalid(format!(
            "{what} is not valid (longer than {max} characters or has control characters)"
        )));
    }
    Ok(())
}

fn check_range(range: &RangeRequest) -> Result<(), CommandError> {
    // Resolving checks presets and bounds the same way the view will.
    views::resolve_range(range, now_ms() / 1000)
        .map(|_| ())
        .map_err(CommandError::from)
}

/// The Cluster screen for one cluster and range.
#[tauri::command]
pub async fn cluster_detail(
    state: State<'_, AppState>,
    cluster_id: String,
    range: RangeRequest,
    resource: ResourceKind,
) -> Result<ClusterDetail, CommandError> {
    check_text("the cluster id", &cluster_id, MAX_ID)?;
    check_range(&range)?;
    let offline = state.mode() == Mode::Offline;
    state
        .with_store(move |store| {
            views::cluster_detail(
                store,
                &cluster_id,
                &range,
                resource,
                now_ms() / 1000,
                offline,
            )
        })
        .await
}

/// One service's latency heatmap with p50/p95/p99.
#[tauri::command]
pub async fn latency_heatmap(
    state: State<'_, AppState>,
    cluster_id: String,
    service: String,
    range: RangeRequest,
) -> Result<HeatmapView, CommandError> {
    check_text("the cluster id", &cluster_id, MAX_ID)?;
    check_text("the service name", &service, MAX_NAME)?;
    check_range(&range)?;
    state
        .with_store(move |store| {
            let r = views::resolve_range(&range, now_ms() / 1000)?;
            store
                .cluster(&cluster_id)?
                .ok_or_else(|| views::ViewError::UnknownCluster(cluster_id.clone()))?;
            views::latency_view(store, &cluster_id, &service, &r)
        })
        .await
}

/// Writes a chart as SVG, PNG or CSV into the Downloads folder (the home
/// folder when there is none), never over an existing file.
#[tauri::command]
pub async fn chart_export(
    state: State<'_, AppState>,
    chart: ChartRef,
    format: ExportFormat,
) -> Result<ExportResult, CommandError> {
    match &chart {
        ChartRef::Latency {
            cluster_id,
            service,
            range,
        } => {
            check_text("the cluster id", cluster_id, MAX_ID)?;
            check_text("the service name", service, MAX_NAME)?;
            check_range(range)?;
        }
        ChartRef::Resource {
            cluster_id, range, ..
        } => {
            check_text("the cluster id", cluster_id, MAX_ID)?;
            check_range(range)?;
        }
    }
    let (bytes, name) = state
        .with_store(move |store| views::export_chart(store, &chart, format, now_ms() / 1000))
        .await?;
    let dir = export_dir().ok_or_else(|| CommandError {
        kind: "no_export_dir".into(),
        message: "There is no Downloads or home folder to export into.".into(),
        hint: "Set HOME (or XDG_DOWNLOAD_DIR) and try again.".into(),
    })?;
    state.blocking(move || write_new(&dir, &name, &bytes)).await
}

pub(crate) fn export_dir() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(
        dirs.download_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dirs.home_dir().to_path_buf()),
    )
}

/// `name`, or `name (2)`, … : an export never replaces a file.
pub(crate) fn write_new(
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<ExportResult, CommandError> {
    let io = |e: std::io::Error, path: &Path| CommandError {
        kind: "export_io".into(),
        message: format!("Cannot write {}: {e}", path.display()),
        hint: "Check that the folder exists and is writable, and that the disk is not full.".into(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    for n in 1..1000 {
        let file = if n == 1 {
            name.to_owned()
        } else {
            format!("{stem} ({n}).{ext}")
        };
        let path = dir.join(file);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| io(e, &path))?;
                return Ok(ExportResult {
                    path: path.display().to_string(),
                    bytes: bytes.len() as u64,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e, &path)),
        }
    }
    Err(CommandError {
        kind: "export_io".into(),
        message: format!("Too many exports named {name} in {}", dir.display()),
        hint: "Move or delete old exports.".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_never_replace_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_new(dir.path(), "cpu-x.svg", b"one").unwrap();
        let b = write_new(dir.path(), "cpu-x.svg", b"two").unwrap();
        assert!(a.path.ends_with("cpu-x.svg"));
        assert!(b.path.ends_with("cpu-x (2).svg"), "{}", b.path);
        assert_eq!(std::fs::read(&a.path).unwrap(), b"one");
        assert_eq!(b.bytes, 3);
    }

    #[test]
    fn text_arguments_are_checked() {
        assert!(check_text("x", "aws/acc/eu-west-1/prod", MAX_ID).is_ok());
        assert!(check_text("x", "  ", MAX_ID).is_err());
        assert!(check_text("x", "a\nb", MAX_ID).is_err());
        assert!(check_text("x", &"a".repeat(600), MAX_ID).is_err());
    }
}
