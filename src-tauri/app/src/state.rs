use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloudops_core::{Store, StoreError};
use tokio::sync::Notify;

use crate::{commands::CommandError, fleet::Mode};

/// Shared by every command. The store opens on first use, not at start-up,
/// so that the window appears at once and an unreadable cache becomes an
/// error on screen (retried on the next call) instead of a failed launch.
pub struct AppState {
    data_dir: PathBuf,
    mode: Mode,
    store: Arc<Mutex<Option<Store>>>,
    /// Wakes the discovery loop for an on-demand refresh.
    refresh: Arc<Notify>,
}

impl AppState {
    /// Cache only: no discovery loop (the tests, and `--offline`).
    pub fn new(data_dir: PathBuf) -> Self {
        AppState::with_mode(data_dir, Mode::Offline)
    }

    pub fn with_mode(data_dir: PathBuf, mode: Mode) -> Self {
        AppState {
            data_dir,
            mode,
            store: Arc::new(Mutex::new(None)),
            refresh: Arc::new(Notify::new()),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn refresh_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.refresh)
    }

    /// Runs `f` against the store on a blocking thread.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, CommandError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let data_dir = self.data_dir.clone();
        tauri::async_runtime::spawn_blocking(move || {
            // A panic in another command must not lock the cache forever.
            let mut guard = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if guard.is_none() {
                *guard = Some(Store::open_in(&data_dir)?);
            }
            match guard.as_mut() {
                Some(store) => f(store).map_err(CommandError::from),
                None => Err(CommandError::internal("the cache was not opened")),
            }
        })
        .await
        .map_err(|e| CommandError::internal(format!("cache task failed: {e}")))?
    }
}
