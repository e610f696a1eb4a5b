use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use cloudops_cloud::secrets::{Secrets, SecretsError};

use cloudops_core::Store;
use tokio::sync::Notify;

use crate::{
    actions::{ActionState, AppSettings},
    commands::CommandError,
    fleet::Mode,
    logs::LogSessions,
};

/// Reads one environment variable. The process environment in the app; a
/// map (or nothing) in tests, so that a test never picks up the developer's
/// cloud credentials.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Shared by every command. The store opens on first use, not at start-up,
/// so that the window appears at once and an unreadable cache becomes an
/// error on screen (retried on the next call) instead of a failed launch.
pub struct AppState {
    /// The real data dir: `accounts.toml` and the live cache live here.
    base_dir: PathBuf,
    /// Sandbox → live when the user adds the first account.
    mode: RwLock<Mode>,
    /// The open cache and the directory it was opened in.
    store: Arc<Mutex<Option<(PathBuf, Store)>>>,
    /// Wakes the discovery loop for an on-demand refresh.
    refresh: Arc<Notify>,
    /// The keyring, opened on first need (a user of ambient logins only
    /// never needs one). Tests inject the mock store.
    secrets: Arc<Mutex<Option<Secrets>>>,
    env: EnvLookup,
    /// Previews awaiting confirmation and the targets to connect through.
    actions: Arc<ActionState>,
    /// The persisted read-only setting (`settings.json`), the `WriteGuard`
    /// of every apply.
    read_only: Arc<RwLock<bool>>,
    /// The log streams the webview follows (`logs_follow` / `logs_stop`).
    log_sessions: Arc<LogSessions>,
}

impl AppState {
    /// Cache only: no discovery loop (the tests, and `--offline`).
    pub fn new(data_dir: PathBuf) -> Self {
        AppState::with_mode(data_dir, Mode::Offline)
    }

    /// `base_dir` is the data dir; the sandbox keeps its cache in
    /// `base_dir/sandbox` so simulated clusters never mix with real ones.
    pub fn with_mode(base_dir: PathBuf, mode: Mode) -> Self {
        let read_only = AppSettings::load(&base_dir).read_only;
        AppState {
            base_dir,
            mode: RwLock::new(mode),
            store: Arc::new(Mutex::new(None)),
            refresh: Arc::new(Notify::new()),
            secrets: Arc::new(Mutex::new(None)),
            env: Arc::new(|k: &str| std::env::var(k).ok()),
            actions: Arc::new(ActionState::default()),
            read_only: Arc::new(RwLock::new(read_only)),
            log_sessions: Arc::new(LogSessions::default()),
        }
    }

    /// Uses this keyring instead of the OS one (tests: the mock store).
    pub fn with_secrets(self, secrets: Secrets) -> Self {
        *self.secrets.lock().unwrap_or_else(|p| p.into_inner()) = Some(secrets);
        self
    }

    /// Reads the environment through `env` instead of the process's.
    pub fn with_env(mut self, env: EnvLookup) -> Self {
        self.env = env;
        self
    }

    pub fn env(&self) -> EnvLookup {
        Arc::clone(&self.env)
    }

    /// Where `accounts.toml` lives.
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// Where the current mode's cache lives.
    pub fn data_dir(&self) -> PathBuf {
        match self.mode() {
            Mode::Sandbox => self.base_dir.join("sandbox"),
            _ => self.base_dir.clone(),
        }
    }

    pub fn mode(&self) -> Mode {
        *self.mode.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The first account turns a sandbox session into a live one (the
    /// views then read the live cache); other modes stay as they are.
    pub fn leave_sandbox(&self) -> bool {
        let mut mode = self.mode.write().unwrap_or_else(|p| p.into_inner());
        if *mode == Mode::Sandbox {
            *mode = Mode::Live;
            true
        } else {
            false
        }
    }

    pub fn actions(&self) -> &ActionState {
        &self.actions
    }

    pub fn read_only(&self) -> bool {
        *self.read_only.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Persists the setting, then applies it (a failed write changes
    /// nothing).
    pub fn set_read_only(&self, enabled: bool) -> std::io::Result<()> {
        let mut current = self.read_only.write().unwrap_or_else(|p| p.into_inner());
        AppSettings { read_only: enabled }.save(&self.base_dir)?;
        *current = enabled;
        Ok(())
    }

    pub fn log_sessions(&self) -> Arc<LogSessions> {
        Arc::clone(&self.log_sessions)
    }

    pub fn refresh_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.refresh)
    }

    /// Runs `f` on a blocking thread (keyring and file work).
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, CommandError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, CommandError> + Send + 'static,
    {
        tauri::async_runtime::spawn_blocking(f)
            .await
            .map_err(|e| CommandError::internal(format!("background task failed: {e}")))?
    }

    /// A handle on the keyring slot for blocking closures.
    pub fn secrets_slot(&self) -> SecretsSlot {
        SecretsSlot(Arc::clone(&self.secrets))
    }

    /// Runs `f` against the store on a blocking thread.
    pub async fn with_store<T, E, F>(&self, f: F) -> Result<T, CommandError>
    where
        T: Send + 'static,
        E: Into<CommandError>,
        F: FnOnce(&mut Store) -> Result<T, E> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let data_dir = self.data_dir();
        tauri::async_runtime::spawn_blocking(move || {
            // A panic in another command must not lock the cache forever.
            let mut guard = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Reopen when the mode moved the cache (sandbox → live).
            if guard.as_ref().is_none_or(|(dir, _)| *dir != data_dir) {
                *guard = None;
                *guard = Some((data_dir.clone(), Store::open_in(&data_dir)?));
            }
            match guard.as_mut() {
                Some((_, store)) => f(store).map_err(Into::into),
                None => Err(CommandError::internal("the cache was not opened")),
            }
        })
        .await
        .map_err(|e| CommandError::internal(format!("cache task failed: {e}")))?
    }
}

/// The keyring slot, movable into a blocking closure.
#[derive(Clone)]
pub struct SecretsSlot(Arc<Mutex<Option<Secrets>>>);

impl SecretsSlot {
    /// The keyring, opening the OS one on first use. Blocking.
    pub fn get(&self) -> Result<Secrets, SecretsError> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let opened = Secrets::open_os()?;
        *slot = Some(opened.clone());
        Ok(opened)
    }
}
