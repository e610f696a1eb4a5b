//! What the action commands keep between a preview and its apply: the
//! previews (one-shot, expiring), the last discovery's targets to connect
//! through, and the persisted read-only setting.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use cloudops_cloud::act::{hpa, rollout::RolloutPlan, scale};
use cloudops_cloud::collect::fleet::FleetTarget;
use cloudops_core::plan::failover::FailoverPlan;
use cloudops_core::plan::nodepool::NodePoolPlan;
use serde::{Deserialize, Serialize};

/// A preview is good for this long: past it the cluster may have moved on,
/// and the user must look again before confirming.
pub const PREVIEW_TTL: Duration = Duration::from_secs(5 * 60);
/// Bounds the map if a webview previews in a loop without applying.
const MAX_PREVIEWS: usize = 64;

/// A previewed write, waiting for its confirmation.
#[derive(Clone)]
pub enum Pending {
    /// Both boxed: a preview carries its fit report, a plan its pod template.
    Scale(Box<scale::Preview>),
    Rollout(Box<RolloutPlan>),
    /// A failover plan, run on confirmation.
    Failover(Box<FailoverPlan>),
    Hpa(Box<hpa::Preview>),
    NodePool(Box<NodePoolPlan>),
}

struct Entry {
    at: Instant,
    pending: Pending,
}

#[derive(Default)]
pub struct ActionState {
    previews: Mutex<HashMap<String, Entry>>,
    targets: RwLock<Vec<FleetTarget>>,
    /// Failover runs with a task going in this process.
    active_runs: Mutex<HashSet<i64>>,
    /// Runs paused at a manual traffic step, and where their answer goes.
    traffic: Mutex<HashMap<i64, tokio::sync::oneshot::Sender<bool>>>,
}

impl ActionState {
    /// Keeps `pending` and returns its opaque token.
    pub fn remember(&self, pending: Pending) -> String {
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let mut map = self.previews.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, e| e.at.elapsed() < PREVIEW_TTL);
        if map.len() >= MAX_PREVIEWS {
            // Drop the oldest: it is the least likely to be confirmed.
            if let Some(oldest) = map.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(
            token.clone(),
            Entry {
                at: Instant::now(),
                pending,
            },
        );
        token
    }

    /// The preview behind `token`, if it exists and has not expired.
    pub fn get(&self, token: &str) -> Option<Pending> {
        let map = self.previews.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token)
            .filter(|e| e.at.elapsed() < PREVIEW_TTL)
            .map(|e| e.pending.clone())
    }

    /// Forgets `token`: an apply consumes its preview.
    pub fn forget(&self, token: &str) {
        let mut map = self.previews.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(token);
    }

    /// Called by the discovery loop after each run.
    pub fn set_targets(&self, targets: Vec<FleetTarget>) {
        *self.targets.write().unwrap_or_else(|p| p.into_inner()) = targets;
    }

    /// Marks failover run `id` as going; false when it already is.
    pub fn start_run(&self, id: i64) -> bool {
        let mut set = self.active_runs.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(id)
    }

    pub fn end_run(&self, id: i64) {
        let mut set = self.active_runs.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&id);
    }

    /// Run `id` waits for the user's traffic answer: the receiver gets it
    /// (a newer question for the same run replaces an older one).
    pub fn await_traffic(&self, id: i64) -> tokio::sync::oneshot::Receiver<bool> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut map = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(id, tx);
        rx
    }

    /// Hands the answer to run `id`; false when it is not waiting (never
    /// asked, answered already, or its task has ended).
    pub fn answer_traffic(&self, id: i64, confirmed: bool) -> bool {
        let tx = {
            let mut map = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
            map.remove(&id)
        };
        tx.is_some_and(|tx| tx.send(confirmed).is_ok())
    }

    /// Forgets a question nobody answered (the run's task has ended).
    pub fn drop_traffic(&self, id: i64) {
        let mut map = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&id);
    }

    pub fn targets(&self) -> Vec<FleetTarget> {
        self.targets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// `settings.json` in the data dir: app settings that are not accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    pub read_only: bool,
}

impl AppSettings {
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join("settings.json")
    }

    /// A missing file is the defaults. A file that cannot be read or parsed
    /// turns read-only *on*: if the user asked for it, a broken file must
    /// not silently allow writes.
    pub fn load(dir: &Path) -> AppSettings {
        let path = AppSettings::path_in(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::error!(path = %path.display(), error = %e, "unreadable settings; read-only mode is on");
                AppSettings { read_only: true }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AppSettings::default(),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "unreadable settings; read-only mode is on");
                AppSettings { read_only: true }
            }
        }
    }

    /// Writes through a temporary file and a rename, so a crash never leaves
    /// half a file.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let path = AppSettings::path_in(dir);
        let tmp = dir.join("settings.json.tmp");
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_a_broken_file_means_read_only() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(AppSettings::load(dir.path()), AppSettings::default());
        AppSettings { read_only: true }.save(dir.path()).unwrap();
        assert!(AppSettings::load(dir.path()).read_only);
        AppSettings { read_only: false }.save(dir.path()).unwrap();
        assert!(!AppSettings::load(dir.path()).read_only);
        std::fs::write(AppSettings::path_in(dir.path()), b"{not json").unwrap();
        assert!(AppSettings::load(dir.path()).read_only);
    }
}
