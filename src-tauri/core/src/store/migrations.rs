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

/// Discovery (issue 4): how the provider addresses each cluster, the scope
/// it was found in (so that a complete scope can mark what it no longer
/// sees as gone), and a record of each run with its per-source errors (so
/// the Fleet screen can show them offline).
const V2_DISCOVERY: &str = r#"
ALTER TABLE clusters ADD COLUMN native_id TEXT;
ALTER TABLE clusters ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN gone_at INTEGER;

CREATE TABLE discovery_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    started_ms    INTEGER NOT NULL,
    finished_ms   INTEGER NOT NULL,
    cluster_count INTEGER NOT NULL,
    error_count   INTEGER NOT NULL
);

CREATE TABLE discovery_errors (
    run_id   INTEGER NOT NULL REFERENCES discovery_runs(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    account  TEXT NOT NULL,
    scope    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    message  TEXT NOT NULL,
    hint     TEXT NOT NULL
);
CREATE INDEX discovery_errors_by_run ON discovery_errors(run_id);
"#;

/// Metric samples (issue 5). A series is a cluster + metric + canonical
/// label JSON (keys sorted, what `serde_json` writes for a `BTreeMap`).
/// Samples are keyed by (series, ts) so that a re-sent sample replaces the
/// old one and every range read is a primary-key seek; WITHOUT ROWID keeps
/// them clustered by series, then time. The rollup tiers hold per-bucket
/// count/sum/min/max (bucket start in `ts`), which is enough to rebuild
/// averages of gauges and sums of increases exactly. `rollup_watermarks`
/// says up to where (exclusive) each tier is complete.
const V3_METRICS: &str = r#"
CREATE TABLE series (
    id         INTEGER PRIMARY KEY,
    cluster_id TEXT NOT NULL,
    metric     TEXT NOT NULL,
    labels     TEXT NOT NULL,
    UNIQUE (cluster_id, metric, labels)
);
-- The UNIQUE index serves "a cluster's series of one metric"; this one
-- serves the same question across every cluster.
CREATE INDEX series_by_metric ON series(metric, cluster_id);

CREATE TABLE samples (
    series_id    INTEGER NOT NULL,
    ts           INTEGER NOT NULL,
    value        REAL NOT NULL,
    collected_at INTEGER NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE samples_5m (
    series_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    sum       REAL NOT NULL,
    min       REAL NOT NULL,
    max       REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE samples_1h (
    series_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    sum       REAL NOT NULL,
    min       REAL NOT NULL,
    max       REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE rollup_watermarks (
    tier       TEXT PRIMARY KEY CHECK (tier IN ('5m','1h')),
    done_until INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// What the collectors saw inside each cluster (issue 5): the latest
/// snapshot of nodes, workloads and deduplicated events per cluster, and
/// per cluster and collector the last attempt and last success, so that an
/// unreachable cluster keeps its data and is shown stale.
///
/// No foreign key to `clusters`: clusters are marked gone, not deleted, and
/// a cluster's state outlives a discovery that missed it.
const V4_CLUSTER_STATE: &str = r#"
CREATE TABLE cluster_nodes (
    cluster_id         TEXT NOT NULL,
    name               TEXT NOT NULL,
    pool               TEXT,
    allocatable_cpu    REAL NOT NULL,
    allocatable_memory REAL NOT NULL,
    ready              INTEGER NOT NULL,
    conditions_json    TEXT NOT NULL DEFAULT '[]',
    collected_at       INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, name)
) WITHOUT ROWID;

-- The primary key is the list order (cluster, namespace, name), so a page
-- is an index range; `search_text` (lower-cased name, namespace, cluster
-- and labels) makes the search box one LIKE.
CREATE TABLE cluster_workloads (
    cluster_id       TEXT NOT NULL,
    namespace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    replicas         INTEGER NOT NULL,
    ready            INTEGER NOT NULL,
    updated          INTEGER NOT NULL,
    available        INTEGER NOT NULL,
    labels_json      TEXT NOT NULL DEFAULT '{}',
    images_json      TEXT NOT NULL DEFAULT '[]',
    revision         TEXT,
    replicasets_json TEXT NOT NULL DEFAULT '[]',
    hpa_json         TEXT,
    cpu_cores        REAL,
    memory_bytes     REAL,
    search_text      TEXT NOT NULL,
    collected_at     INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, namespace, name, kind)
) WITHOUT ROWID;
CREATE INDEX cluster_workloads_by_namespace ON cluster_workloads(namespace, cluster_id, name);

CREATE TABLE cluster_events (
    cluster_id    TEXT NOT NULL,
    namespace     TEXT NOT NULL,
    involved_kind TEXT NOT NULL,
    involved_name TEXT NOT NULL,
    reason        TEXT NOT NULL,
    type          TEXT NOT NULL,
    message       TEXT NOT NULL,
    count         INTEGER NOT NULL,
    first_seen    INTEGER,
    last_seen     INTEGER,
    collected_at  INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, namespace, involved_kind, involved_name, reason)
) WITHOUT ROWID;
CREATE INDEX cluster_events_by_time ON cluster_events(cluster_id, last_seen);

CREATE TABLE collections (
    cluster_id   TEXT NOT NULL,
    collector    TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    succeeded_at INTEGER,
    error        TEXT,
    hint         TEXT,
    PRIMARY KEY (cluster_id, collector)
) WITHOUT ROWID;
"#;

/// Health scores (issue 9), recorded after each collection pass so that
/// the Fleet screen can draw a sparkline. One row per cluster and pass;
/// `cluster_id = ''` is the fleet. `score` is NULL when unknown (no data),
/// never 100. Keyed by (cluster, time) so that a history read is a
/// primary-key range; the `at` index serves the 35-day pruning.
const V5_HEALTH: &str = r#"
CREATE TABLE health_scores (
    cluster_id   TEXT NOT NULL,
    at           INTEGER NOT NULL,
    score        REAL,
    basis        TEXT NOT NULL,
    reasons_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (cluster_id, at)
) WITHOUT ROWID;
CREATE INDEX health_scores_by_time ON health_scores(at);
"#;

/// Threshold alerts (issue 9 part 4): one row per alert, from first firing
/// to resolution. `key` (`cluster|subject|rule`) is what repeats fold on;
/// the partial unique index keeps at most one active (open or
/// acknowledged) alert per key, so a fold can never pick between two.
/// Times are unix seconds.
const V6_ALERTS: &str = r#"
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    key              TEXT NOT NULL,
    cluster_id       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    rule             TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('medium','high','critical')),
    state            TEXT NOT NULL CHECK (state IN ('open','acknowledged','resolved')),
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    count            INTEGER NOT NULL CHECK (count >= 1),
    value            REAL NOT NULL,
    threshold        REAL NOT NULL,
    message          TEXT NOT NULL,
    acknowledged_at  INTEGER,
    acknowledged_by  TEXT,
    resolved_at      INTEGER,
    resolved_by      TEXT,
    last_notified_at INTEGER,
    escalations      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX alerts_one_active_per_key ON alerts(key) WHERE state <> 'resolved';
CREATE INDEX alerts_by_cluster ON alerts(cluster_id, state);
CREATE INDEX alerts_by_last_seen ON alerts(last_seen);
"#;

/// Anomalies on the cached series (issue 9): one row per incident of one
/// metric of one subject (`service/NAME`, `node/NAME`), from the first
/// flagged point to the first quiet one. At most one open anomaly per
/// (cluster, subject, metric): the partial unique index is what makes a
/// re-run on the same data extend the open row instead of adding one.
/// `causes_json` holds the ranked probable causes (analysis/causes.rs).
/// Times are unix seconds.
const V7_ANOMALIES: &str = r#"
CREATE TABLE anomalies (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    metric       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    ended_at     INTEGER,
    severity     TEXT NOT NULL CHECK (severity IN ('medium','high','critical')),
    peak_score   REAL NOT NULL,
    value        REAL NOT NULL,
    baseline     REAL,
    causes_json  TEXT NOT NULL DEFAULT '[]',
    state        TEXT NOT NULL CHECK (state IN ('open','closed')),
    CHECK ((state = 'open') = (ended_at IS NULL))
);
CREATE UNIQUE INDEX anomalies_one_open_per_key ON anomalies(cluster_id, subject, metric)
    WHERE state = 'open';
CREATE INDEX anomalies_by_key ON anomalies(cluster_id, subject, metric, ended_at);
CREATE INDEX anomalies_by_cluster ON anomalies(cluster_id, state, last_seen);
CREATE INDEX anomalies_by_last_seen ON anomalies(last_seen);
"#;

/// Logs (issue 8): error patterns per cluster, and the last lines of each
/// followed pod/container as a bounded ring (store/logs.rs deletes beyond N
/// after every insert), so that an incident can be reviewed offline. Times
/// are unix milliseconds (log lines carry sub-second timestamps).
const V8_LOGS: &str = r#"
CREATE TABLE log_patterns (
    cluster_id    TEXT NOT NULL,
    level         TEXT NOT NULL CHECK (level IN ('error','warn','info','debug','unknown')),
    template      TEXT NOT NULL,
    count         INTEGER NOT NULL CHECK (count >= 1),
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    sample        TEXT NOT NULL,
    pods_json     TEXT NOT NULL DEFAULT '[]',
    clusters_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (cluster_id, level, template)
) WITHOUT ROWID;
CREATE INDEX log_patterns_by_last_seen ON log_patterns(last_seen);

CREATE TABLE log_lines (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    pod        TEXT NOT NULL,
    container  TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    level      TEXT NOT NULL,
    line       TEXT NOT NULL,
    stored_at  INTEGER NOT NULL
);
CREATE INDEX log_lines_by_stream ON log_lines(cluster_id, namespace, pod, container, id);
"#;

/// What the endpoint collector sees of each cluster's API server (issue 9
/// health reasons): its version, and its serving certificate's expiry;
/// plus each node's kubelet version, for the skew check. A plain-http
/// endpoint (the loopback sandbox) has no certificate: `cert_not_after` is
/// NULL with `tls = 0`.
const V9_ENDPOINTS: &str = r#"
ALTER TABLE cluster_nodes ADD COLUMN kubelet_version TEXT;
CREATE TABLE cluster_endpoints (
    cluster_id     TEXT NOT NULL PRIMARY KEY,
    server_version TEXT,
    tls            INTEGER NOT NULL,
    cert_not_after INTEGER,
    cert_subject   TEXT,
    collected_at   INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Cost (issue 7). `cost_daily` holds one row per account, cluster ('' for
/// spend no cluster claims: a primary key cannot hold NULL usefully), UTC
/// day, category, source and currency; a refresh replaces the days it
/// fetched, so a re-fetched day is never counted twice. `cost_monthly`
/// holds month-level figures the provider does not split by day.
/// `cost_closed_days` remembers the days whose data is closed (also the
/// days that had no cost at all), so they are not fetched again.
/// `cost_fetches` logs every refresh: its calls (Cost Explorer bills each
/// page), its days and when the next one is due.
const V11_COSTS: &str = r#"
CREATE TABLE cost_daily (
    provider     TEXT NOT NULL,
    account      TEXT NOT NULL,
    cluster_id   TEXT NOT NULL DEFAULT '',
    day          TEXT NOT NULL,
    category     TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL CHECK (source IN ('actual','estimate')),
    currency     TEXT NOT NULL,
    amount       REAL NOT NULL,
    final        INTEGER NOT NULL DEFAULT 0 CHECK (final IN (0,1)),
    collected_at INTEGER NOT NULL,
    PRIMARY KEY (provider, account, cluster_id, day, category, source, currency)
) WITHOUT ROWID;
CREATE INDEX cost_daily_by_day ON cost_daily(day, cluster_id);

CREATE TABLE cost_monthly (
    provider     TEXT NOT NULL,
    account      TEXT NOT NULL,
    cluster_id   TEXT NOT NULL DEFAULT '',
    month        TEXT NOT NULL,
    category     TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL CHECK (source IN ('actual','estimate')),
    currency     TEXT NOT NULL,
    amount       REAL NOT NULL,
    collected_at INTEGER NOT NULL,
    PRIMARY KEY (provider, account, cluster_id, month, category, source, currency)
) WITHOUT ROWID;

CREATE TABLE cost_closed_days (
    provider TEXT NOT NULL,
    account  TEXT NOT NULL,
    source   TEXT NOT NULL CHECK (source IN ('actual','estimate')),
    day      TEXT NOT NULL,
    PRIMARY KEY (provider, account, source, day)
) WITHOUT ROWID;

CREATE TABLE cost_fetches (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT NOT NULL,
    account         TEXT NOT NULL,
    fetched_at      INTEGER NOT NULL,
    api_calls       INTEGER NOT NULL CHECK (api_calls >= 0),
    pages           INTEGER NOT NULL CHECK (pages >= 0),
    first_day       TEXT,
    end_day         TEXT,
    next_refresh_at INTEGER NOT NULL,
    reported_amount REAL,
    reported_currency TEXT,
    notes_json      TEXT NOT NULL DEFAULT '[]',
    error           TEXT
);
CREATE INDEX cost_fetches_by_account ON cost_fetches(provider, account, fetched_at);
"#;

/// Monthly cost budgets (issue 7): per cloud, cluster or tag, with three
/// rising alert thresholds in percent (analysis/cost_budget.rs). `scope_key`
/// is the cloud, the cluster id or the tag key; `scope_value` the tag value
/// (empty otherwise). Names are unique so that the CLI can address a budget
/// by name. Times are unix seconds.
///
/// With them, the per-pod requests the workloads collector now records
/// (issue 7: cost allocation by max(request, usage) reads them from the
/// cache); NULL for rows written before, i.e. unknown.
const V12_BUDGETS: &str = r#"
ALTER TABLE cluster_workloads ADD COLUMN requests_cpu_cores REAL;
ALTER TABLE cluster_workloads ADD COLUMN requests_memory_bytes REAL;
CREATE TABLE budgets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    scope_kind      TEXT NOT NULL CHECK (scope_kind IN ('fleet','cloud','cluster','tag')),
    scope_key       TEXT NOT NULL DEFAULT '',
    scope_value     TEXT NOT NULL DEFAULT '',
    amount          REAL NOT NULL CHECK (amount > 0),
    currency        TEXT NOT NULL,
    thresholds_json TEXT NOT NULL DEFAULT '[50,80,100]',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
"#;

/// Failover runs (issue 6, BRIEF §8): a persisted state machine, written
/// before and after every step so that a crash mid-step resumes by
/// re-running that step; plus the groups the user defines by hand. Depends
/// only on itself (no other table), so it merges beside any V11.
const V10_FAILOVER: &str = r#"
CREATE TABLE failover_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    group_key      TEXT NOT NULL,
    source_cluster TEXT NOT NULL,
    target_cluster TEXT NOT NULL,
    plan_json      TEXT NOT NULL,
    state          TEXT NOT NULL,
    step           TEXT,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    error          TEXT
);
CREATE TABLE failover_steps (
    run_id      INTEGER NOT NULL REFERENCES failover_runs(id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_ms  INTEGER NOT NULL,
    ended_ms    INTEGER,
    detail_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE failover_groups (
    group_key  TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    deployment TEXT NOT NULL,
    added_ms   INTEGER NOT NULL,
    PRIMARY KEY (group_key, cluster_id)
) WITHOUT ROWID;
"#;

/// Every migration, oldest first; `user_version` counts how many have run.
const MIGRATIONS: &[M<'static>] = &[
    M::up(V1_FOUNDATION),
    M::up(V2_DISCOVERY),
    M::up(V3_METRICS),
    M::up(V4_CLUSTER_STATE),
    M::up(V5_HEALTH),
    M::up(V6_ALERTS),
    M::up(V7_ANOMALIES),
    M::up(V8_LOGS),
    M::up(V9_ENDPOINTS),
    M::up(V10_FAILOVER),
    M::up(V11_COSTS),
    M::up(V12_BUDGETS),
];

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
