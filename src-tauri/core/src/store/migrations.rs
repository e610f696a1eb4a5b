//! Versioned schema. The version lives in SQLite's `user_version`
//! (rusqlite_migration). Append new migrations; never edit a released one,
//! because users' caches already carry it.

use rusqlite_migration::{Migrations, M};

const V1_FOUNDATION: &str = r#"
-- Accounts hold references only (profile names, project ids, keyring entry
-- names). Secrets live in the OS keyring and never in this file.
CREATE TABLE accounts (
    name          TEXT PRIMARY KEY,
    provider      TEXT NOT NULL CHECK (provider IN ('aws','gcp','azure','do','kubeconfig')),
    settings_json TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE clusters (
    id           TEXT PRIMARY KEY,
    provider     TEXT NOT NULL CHECK (provider IN ('aws','gcp','azure','do','kubeconfig')),
    account      TEXT NOT NULL,
    name         TEXT NOT NULL,
    region       TEXT NOT NULL,
    version      TEXT,
    status       TEXT NOT NULL,
    endpoint     TEXT,
    collected_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE node_pools (
    cluster_id   TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    count        INTEGER NOT NULL CHECK (count >= 0),
    min_count    INTEGER,
    max_count    INTEGER,
    machine_type TEXT,
    PRIMARY KEY (cluster_id, name)
) WITHOUT ROWID;

-- Append-only: the triggers refuse UPDATE and DELETE so that neither a bug
-- nor a later feature can rewrite history.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail_json TEXT NOT NULL DEFAULT '{}',
    outcome     TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"#;

/// Every migration, oldest first; `user_version` counts how many have run.
const MIGRATIONS: &[M<'static>] = &[M::up(V1_FOUNDATION)];

pub(crate) fn all() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// The newest schema version this build understands.
pub fn latest_version() -> u32 {
    MIGRATIONS.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid_and_counted() {
        all().validate().unwrap();
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        all().to_latest(&mut conn).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, latest_version());
    }
}
