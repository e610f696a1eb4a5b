//! Cache care: online backup with a `sha256sum`-style checksum, verified
//! restore, and vacuum.
//!
//! A restore checks the backup before it touches anything: the checksum
//! file first (a backup without one, or that does not match it, is refused),
//! then SQLite's own integrity check on a read-only open. Only then is the
//! cache replaced, by rename, so a crash leaves either the old or the new
//! cache, never a mix.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{migrations, Store, StoreError, CACHE_FILE_NAME};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path} already exists")]
    Exists { path: PathBuf },
    #[error("the backup {path} has no checksum file {checksum}")]
    ChecksumMissing { path: PathBuf, checksum: PathBuf },
    #[error("the checksum file {checksum} is not in sha256sum format")]
    ChecksumUnreadable { checksum: PathBuf },
    #[error(
        "the backup {path} does not match its checksum (expected {expected}, file has {found})"
    )]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("the backup {path} is not a usable cache: {detail}")]
    Invalid { path: PathBuf, detail: String },
    #[error("the cache {path} is in use by another process")]
    CacheInUse { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BackupError {
    pub fn kind(&self) -> &'static str {
        match self {
            BackupError::Exists { .. } => "backup_exists",
            BackupError::ChecksumMissing { .. } => "backup_checksum_missing",
            BackupError::ChecksumUnreadable { .. } => "backup_checksum_unreadable",
            BackupError::ChecksumMismatch { .. } => "backup_checksum_mismatch",
            BackupError::Invalid { .. } => "backup_invalid",
            BackupError::CacheInUse { .. } => "cache_in_use",
            BackupError::Io { .. } => "backup_io",
            BackupError::Store(e) => e.kind(),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            BackupError::Exists { .. } => {
                "Nothing was written. Choose another file name, or pass --force to replace it."
                    .to_owned()
            }
            BackupError::ChecksumMissing { checksum, .. } => format!(
                "Nothing was changed. Restore only backups made by `cloudops cache backup`, which \
                 writes {} next to the backup; copy both files together.",
                checksum.display()
            ),
            BackupError::ChecksumUnreadable { .. } | BackupError::ChecksumMismatch { .. } => {
                "Nothing was changed. The backup or its .sha256 file was modified or damaged; \
                 use another backup."
                    .to_owned()
            }
            BackupError::Invalid { .. } => "Nothing was changed. Use another backup.".to_owned(),
            BackupError::CacheInUse { .. } => "Nothing was changed. Close CloudOps Console and \
                 other `cloudops` commands using this data dir, then try again."
                .to_owned(),
            BackupError::Io { path, .. } => format!(
                "Check that {} is readable and its directory writable.",
                path.display()
            ),
            BackupError::Store(e) => e.hint(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub path: String,
    pub checksum_path: String,
    pub sha256: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub restored_from: String,
    pub cache_path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub schema_version: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct VacuumReport {
    pub path: String,
    pub size_before: u64,
    pub size_after: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `<file>.sha256`, next to the file.
pub fn checksum_path(file: &Path) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(".sha256");
    PathBuf::from(p)
}

fn sibling(file: &Path, suffix: &str) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, BackupError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl Store {
    /// Copies the live cache to `path` with SQLite's online backup (writers
    /// may keep going), then writes `<path>.sha256` (`<hex>  <name>`).
    /// An existing `path` is replaced only with `overwrite`.
    pub fn backup_to(&self, path: &Path, overwrite: bool) -> Result<BackupReport, BackupError> {
        if path.exists() && !overwrite {
            return Err(BackupError::Exists {
                path: path.to_path_buf(),
            });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| BackupError::Invalid {
                path: path.to_path_buf(),
                detail: "the backup path has no file name".into(),
            })?;
        let same_file = match (
            std::fs::canonicalize(path),
            std::fs::canonicalize(&self.path),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same_file {
            return Err(BackupError::Invalid {
                path: path.to_path_buf(),
                detail: "that is the live cache itself".into(),
            });
        }
        // Written beside the target and renamed into place: a failed backup
        // never leaves a half file under the final name.
        let partial = sibling(path, ".partial");
        let _ = std::fs::remove_file(&partial);
        let copied = self.copy_to(&partial);
        if copied.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        copied?;
        let sha256 = sha256_file(&partial)?;
        std::fs::rename(&partial, path).map_err(io(path))?;
        let checksum = checksum_path(path);
        let checksum_partial = sibling(&checksum, ".partial");
        {
            let mut f = File::create(&checksum_partial).map_err(io(&checksum_partial))?;
            writeln!(f, "{sha256}  {name}").map_err(io(&checksum_partial))?;
            f.sync_all().map_err(io(&checksum_partial))?;
        }
        std::fs::rename(&checksum_partial, &checksum).map_err(io(&checksum))?;
        sync_dir(parent(path))?;
        Ok(BackupReport {
            path: path.display().to_string(),
            checksum_path: checksum.display().to_string(),
            sha256,
            size_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        })
    }

    /// The online backup of the live cache into a new file at `partial`.
    fn copy_to(&self, partial: &Path) -> Result<(), BackupError> {
        let sql = |e| BackupError::Store(StoreError::from_sqlite(partial, e));
        {
            let mut dst = Connection::open(partial).map_err(sql)?;
            {
                let backup = rusqlite::backup::Backup::new(&self.conn, &mut dst).map_err(sql)?;
                backup
                    .run_to_completion(1024, Duration::ZERO, None)
                    .map_err(sql)?;
            }
            // A self-contained file: no -wal beside it to forget when copying.
            dst.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get::<_, String>(0))
                .map_err(sql)?;
        }
        File::open(partial)
            .and_then(|f| f.sync_all())
            .map_err(io(partial))
    }

    /// Rebuilds the file without free pages, then truncates the WAL.
    pub fn vacuum(&self) -> Result<VacuumReport, StoreError> {
        let size_before = self.size_bytes();
        self.conn.execute_batch("VACUUM").map_err(|e| self.err(e))?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| self.err(e))?;
        Ok(VacuumReport {
            path: self.path.display().to_string(),
            size_before,
            size_after: self.size_bytes(),
        })
    }
}

/// The hash a `sha256sum`-format file gives for its (single) file.
fn read_checksum(checksum: &Path) -> Result<String, BackupError> {
    let text = std::fs::read_to_string(checksum).map_err(io(checksum))?;
    let hex = text.split_whitespace().next().unwrap_or("");
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BackupError::ChecksumUnreadable {
            checksum: checksum.to_path_buf(),
        });
    }
    Ok(hex.to_ascii_lowercase())
}

/// Checks that `backup` is an intact CloudOps cache this build can open.
fn verify_backup(backup: &Path) -> Result<(), BackupError> {
    let invalid = |detail: String| BackupError::Invalid {
        path: backup.to_path_buf(),
        detail,
    };
    let conn = Connection::open_with_flags(
        backup,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| invalid(e.to_string()))?;
    let findings: Vec<String> = conn
        .prepare("PRAGMA integrity_check(20)")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| invalid(e.to_string()))?;
    if findings != ["ok"] {
        return Err(invalid(format!("integrity check: {}", findings.join("; "))));
    }
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| invalid(e.to_string()))?;
    if version == 0 || version > migrations::latest_version() {
        return Err(invalid(format!(
            "schema version {version}; this build reads 1 to {}",
            migrations::latest_version()
        )));
    }
    Ok(())
}

/// Refuses when another connection is reading or writing the cache: a
/// TRUNCATE checkpoint cannot finish then. (An idle open connection holds no
/// lock and cannot be seen; it would keep its old file handle.) The
/// checkpoint also folds the WAL into the file, so removing the WAL
/// afterwards drops nothing.
fn ensure_idle(cache: &Path) -> Result<(), BackupError> {
    if !cache.exists() {
        return Ok(());
    }
    let Ok(conn) = Connection::open_with_flags(cache, OpenFlags::SQLITE_OPEN_READ_WRITE) else {
        return Ok(());
    };
    // A damaged or foreign current cache is what restores are for: only a
    // clear "busy" stops us.
    match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(0) => Ok(()),
        Ok(_) => Err(BackupError::CacheInUse {
            path: cache.to_path_buf(),
        }),
        Err(e) => match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Err(BackupError::CacheInUse {
                    path: cache.to_path_buf(),
                })
            }
            _ => Ok(()),
        },
    }
}

/// Replaces the cache in `data_dir` with `backup` after verifying it (see
/// the module doc). Nothing is changed when any check fails.
pub fn restore(data_dir: &Path, backup: &Path) -> Result<RestoreReport, BackupError> {
    let checksum = checksum_path(backup);
    if !backup.is_file() {
        return Err(BackupError::Io {
            path: backup.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    if !checksum.is_file() {
        return Err(BackupError::ChecksumMissing {
            path: backup.to_path_buf(),
            checksum,
        });
    }
    let expected = read_checksum(&checksum)?;
    let found = sha256_file(backup)?;
    if found != expected {
        return Err(BackupError::ChecksumMismatch {
            path: backup.to_path_buf(),
            expected,
            found,
        });
    }
    verify_backup(backup)?;

    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let cache = data_dir.join(CACHE_FILE_NAME);
    ensure_idle(&cache)?;
    let temp = data_dir.join(format!("{CACHE_FILE_NAME}.restore-partial"));
    std::fs::copy(backup, &temp).map_err(io(&temp))?;
    File::open(&temp)
        .and_then(|f| f.sync_all())
        .map_err(io(&temp))?;
    // The copy must be what was checked (the backup could change under us).
    if sha256_file(&temp)? != expected {
        let _ = std::fs::remove_file(&temp);
        return Err(BackupError::ChecksumMismatch {
            path: backup.to_path_buf(),
            expected,
            found: "changed while copying".into(),
        });
    }
    // A WAL left from the old cache would be replayed onto the new file.
    for suffix in ["-wal", "-shm", "-journal"] {
        let stale = sibling(&cache, suffix);
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&stale)(e)),
        }
    }
    std::fs::rename(&temp, &cache).map_err(io(&cache))?;
    sync_dir(data_dir)?;
    // Opening migrates an older backup to this build's schema.
    let store = Store::open(&cache)?;
    Ok(RestoreReport {
        restored_from: backup.display().to_string(),
        cache_path: cache.display().to_string(),
        sha256: expected,
        size_bytes: store.size_bytes(),
        schema_version: store.schema_version()?,
    })
}

#[cfg(test)]
#[path = "backup_tests.rs"]
mod tests;
