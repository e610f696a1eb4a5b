use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloudops_core::{Store, StoreError};

use crate::commands::CommandError;

/// Shared by every command. The store opens on first use, not at start-up,
/// so that the window appears at once and an unreadable cache becomes an
/// error on screen (retried on the next call) instead of a failed launch.
pub struct AppState {
    data_dir: PathBuf,
    store: Arc<Mutex<Option<Store>>>,
}

impl AppState {
    pub fn new(data_dir: PathBuf) -> Self {
        AppState {
            data_dir,
            store: Arc::new(Mutex::new(None)),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
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
