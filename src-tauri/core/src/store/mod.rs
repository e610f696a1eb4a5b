//! The SQLite cache: the truth for every view (BRIEF §2).
//!
//! One file (`cache.sqlite3`) in the data dir, WAL, versioned migrations.
//! Opening never recreates or rewrites a file it cannot read: a foreign file,
//! a damaged one or one from a newer build is reported with its path and
//! what to do, and left untouched.

pub mod alert_actions;
pub mod alerts;
pub mod anomalies;
pub mod backup;
pub mod budgets;
mod cluster_state;
mod clusters;
pub mod costs;
pub mod failover;
pub mod health;
pub mod logs;
pub mod migrations;
pub mod query;
pub mod retention;
pub mod samples;
pub mod writer;

pub use alert_actions::{
    AlertDetail, AlertEvent, BulkAlertOutcome, BulkAlertSkip, MAX_BULK_ALERTS,
};
pub use alerts::{os_user, Alert, AlertChanges, AlertError, AlertPolicy, AlertQuery, AlertState};
pub use anomalies::{
    Anomaly, AnomalyChanges, AnomalyPage, AnomalyQuery, AnomalyState, Detection, SeriesVerdict,
};
pub use backup::{restore, BackupError, BackupReport, RestoreReport, VacuumReport};
pub use cluster_state::{
    ClusterState, CollectionRecord, CollectorFreshness, EndpointState, EventState, HpaMetricState,
    HpaSummary, NodeConditionState, NodeState, ReplicaSetState, WorkloadPage, WorkloadQuery,
    WorkloadRow, WorkloadState, DEFAULT_WORKLOAD_PAGE, MAX_WORKLOAD_PAGE,
};
pub use clusters::{AppliedDiscovery, CompleteScope, DiscoveredRow, DiscoveryRun};
pub use costs::{CostWindow, CostWrite, CostWriteReceipt};
pub use logs::{merge_patterns, CachedLogLine, LogPatternQuery, StoredPattern};
pub use query::{Resource, Selector, SeriesPoints, ServiceSummary, Tier};
pub use retention::{Retention, RollupReport};
pub use samples::BatchReceipt;
pub use writer::{Ack, SampleWriter};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};
use serde::Serialize;

use crate::model::{CacheInfo, FleetOverview};

pub const CACHE_FILE_NAME: &str = "cache.sqlite3";

/// The environment variable that overrides the platform data dir.
pub const DATA_DIR_ENV: &str = "CLOUDOPS_DATA_DIR";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a CloudOps cache (it is not a SQLite database)")]
    NotADatabase { path: PathBuf },
    #[error("the cache {path} is damaged: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the cache {path} has schema version {found}, newer than this build supports ({supported})"
    )]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the cache {path} is locked by another process")]
    Busy { path: PathBuf },
    #[error("cannot use the data dir {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no data dir: the platform has no home directory; pass --data-dir or set {DATA_DIR_ENV}"
    )]
    NoDataDir,
    #[error("SQLite error on {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("migrating the cache {path} failed: {detail}")]
    Migration { path: PathBuf, detail: String },
    #[error("invalid request to the cache: {detail}")]
    InvalidInput { detail: String },
    #[error("the sample writer has stopped")]
    WriterStopped,
}

impl StoreError {
    /// A stable, machine-readable kind for the CLI's JSON and the IPC layer.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::NotADatabase { .. } => "cache_not_a_database",
            StoreError::Corrupt { .. } => "cache_corrupt",
            StoreError::NewerSchema { .. } => "cache_newer_schema",
            StoreError::Busy { .. } => "cache_busy",
            StoreError::Io { .. } => "cache_io",
            StoreError::NoDataDir => "no_data_dir",
            StoreError::Sqlite { .. } => "cache_sqlite",
            StoreError::Migration { .. } => "cache_migration",
            StoreError::InvalidInput { .. } => "cache_invalid_input",
            StoreError::WriterStopped => "cache_writer_stopped",
        }
    }

    /// What the user can do about it. Shown next to the message everywhere.
    pub fn hint(&self) -> String {
        match self {
            StoreError::NotADatabase { path } => format!(
                "Nothing was changed. Point --data-dir (or {DATA_DIR_ENV}) at the right directory, \
                 or move {} aside so that a new cache can be created.",
                path.display()
            ),
            StoreError::Corrupt { path, .. } => format!(
                "Nothing was changed. Restore a backup (`cloudops cache restore FILE`), or move {} \
                 aside to start an empty cache and refresh it from the clouds.",
                path.display()
            ),
            StoreError::NewerSchema { .. } => "Nothing was changed. Upgrade CloudOps Console to \
                 the version that wrote this cache, or use another --data-dir with this one."
                .to_owned(),
            StoreError::Busy { .. } => "Another CloudOps process holds a write lock. Wait for it \
                 to finish, or close the other instance."
                .to_owned(),
            StoreError::Io { path, .. } => format!(
                "Check that {} exists and is writable, or choose another --data-dir.",
                path.display()
            ),
            StoreError::NoDataDir => format!("Pass --data-dir DIR or set {DATA_DIR_ENV}."),
            StoreError::InvalidInput { .. } => "Nothing was read or written; correct the \
                 request (see the message) and try again."
                .to_owned(),
            StoreError::WriterStopped => "The batch was not written. The writer stops after \
                 close or when its thread failed; see the log for the first error."
                .to_owned(),
            StoreError::Sqlite { .. } | StoreError::Migration { .. } => {
                "Run `cloudops cache check` for details; restore a backup if the check fails."
                    .to_owned()
            }
        }
    }

    /// Maps a SQLite failure on `path` to the error the user should see.
    fn from_sqlite(path: &Path, err: rusqlite::Error) -> StoreError {
        let path = path.to_path_buf();
        match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                path,
                detail: err.to_string(),
            },
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                StoreError::Busy { path }
            }
            _ => StoreError::Sqlite { path, source: err },
        }
    }
}

/// Result of `PRAGMA integrity_check` plus what the diagnostics page shows.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub path: String,
    pub ok: bool,
    /// `["ok"]` when healthy, otherwise SQLite's findings (at most 100).
    pub integrity: Vec<String>,
    pub schema_version: u32,
    pub supported_schema_version: u32,
    pub size_bytes: u64,
    pub journal_mode: String,
}

/// The platform data dir (`~/.local/share/cloudops` on Linux), unless
/// `--data-dir` or `CLOUDOPS_DATA_DIR` says otherwise.
pub fn resolve_data_dir(explicit: Option<&Path>) -> Result<PathBuf, StoreError> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::BaseDirs::new()
        .map(|b| b.data_dir().join("cloudops"))
        .ok_or(StoreError::NoDataDir)
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Series ids already in the `series` table (samples.rs).
    series_ids: samples::SeriesIds,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the cache in `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        Store::open(&data_dir.join(CACHE_FILE_NAME))
    }

    /// Opens the cache file at `path`, creating it when absent, and brings
    /// its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let sql_err = |e| StoreError::from_sqlite(path, e);
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql_err)?;

        // SQLite opens lazily: the first read of the header and schema is
        // where a foreign or damaged file shows itself. Do it before any
        // write so that such a file is never modified.
        let found: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql_err)?;
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(sql_err)?;
        let supported = migrations::latest_version();
        if found > supported {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found,
                supported,
            });
        }

        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(sql_err)?;
        // NORMAL in WAL mode: a committed transaction is in the WAL file
        // (the OS page cache) when COMMIT returns, so it survives a process
        // crash (kill -9) and every acknowledged sample batch is kept; only
        // an OS crash or power loss can lose the last commits, because the
        // WAL is fsynced at checkpoints, not at each commit. That trade is
        // deliberate: FULL would fsync every batch. `cloudops bench crash`
        // checks the kill -9 half of it.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(sql_err)?;

        migrations::all()
            .to_latest(&mut conn)
            .map_err(|e| match e {
                rusqlite_migration::Error::RusqliteError { err, .. } => {
                    StoreError::from_sqlite(path, err)
                }
                other => StoreError::Migration {
                    path: path.to_path_buf(),
                    detail: other.to_string(),
                },
            })?;
        if found < supported {
            tracing::info!(path = %path.display(), from = found, to = supported, "cache schema migrated");
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            series_ids: samples::SeriesIds::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Size of the database file plus its WAL, which is what the disk holds.
    pub fn size_bytes(&self) -> u64 {
        let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        len(&self.path) + len(Path::new(&wal))
    }

    pub fn info(&self) -> Result<CacheInfo, StoreError> {
        Ok(CacheInfo {
            path: self.path.display().to_string(),
            schema_version: self.schema_version()?,
            size_bytes: self.size_bytes(),
        })
    }

    /// The Fleet view: every cluster plus where the cache is.
    pub fn fleet_overview(&self) -> Result<FleetOverview, StoreError> {
        Ok(FleetOverview {
            clusters: self.clusters(None)?,
            cache: self.info()?,
            last_discovery: self.last_discovery()?,
        })
    }

    /// Full `PRAGMA integrity_check`; slow on a large cache, so it runs
    /// only on request (CLI, diagnostics page), never on open.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let integrity = match self.integrity_findings() {
            Ok(findings) => findings,
            // Damage bad enough to stop the check itself is a finding too:
            // the caller wants a report, not a bare error.
            Err(StoreError::Corrupt { detail, .. }) => vec![detail],
            Err(other) => return Err(other),
        };
        let journal_mode: String = self
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(CheckReport {
            path: self.path.display().to_string(),
            ok: integrity == ["ok"],
            integrity,
            schema_version: self.schema_version()?,
            supported_schema_version: migrations::latest_version(),
            size_bytes: self.size_bytes(),
            journal_mode,
        })
    }

    fn integrity_findings(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check(100)")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, e)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Current time in unix milliseconds, for rows that record when they happened.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod cluster_state_tests;

#[cfg(test)]
mod costs_tests;

#[cfg(test)]
mod failover_tests;

#[cfg(test)]
mod health_tests;

#[cfg(test)]
mod logs_tests;
