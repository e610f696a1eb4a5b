//! Logs in the cache (issue 8): error patterns per cluster, merged on every
//! write, and the last N lines of each followed pod/container, a ring the
//! insert trims, so that the cache never grows with the stream. Times are
//! unix milliseconds.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{Store, StoreError};
use crate::analysis::logs::{Level, Pattern};

/// Lines kept per followed pod/container unless the caller says otherwise.
pub const DEFAULT_LINES_PER_STREAM: usize = 1000;
/// How long cached lines are kept after they were stored, and patterns
/// after they were last seen: streams of pods long gone must not pile up.
pub const LINE_RETENTION_MS: i64 = 7 * 86_400_000;
pub const PATTERN_RETENTION_MS: i64 = 35 * 86_400_000;
/// Pods and clusters listed per stored pattern.
pub const MAX_PATTERN_MEMBERS: usize = 32;

/// One cached log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CachedLogLine {
    pub cluster_id: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// Unix milliseconds, from the line's own timestamp.
    pub ts: i64,
    pub level: Level,
    pub line: String,
}

/// One pattern as the cache holds it (per cluster, or merged over the fleet
/// by [`merge_patterns`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPattern {
    /// Empty when merged over several clusters.
    pub cluster_id: String,
    pub level: Level,
    pub template: String,
    pub count: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub sample: String,
    pub pods: Vec<String>,
    pub clusters: Vec<String>,
}

/// Which patterns to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogPatternQuery {
    pub cluster: Option<String>,
    /// Only patterns last seen at or after this (unix ms).
    pub since_ms: Option<i64>,
    /// At most this many rows (0: no limit).
    pub limit: u32,
}

fn level_of(s: &str) -> Level {
    Level::parse(s).unwrap_or(Level::Unknown)
}

fn bounded_union(a: &mut BTreeSet<String>, b: impl IntoIterator<Item = String>) {
    for v in b {
        if a.len() >= MAX_PATTERN_MEMBERS {
            break;
        }
        a.insert(v);
    }
}

fn encode(set: &BTreeSet<String>) -> Result<String, StoreError> {
    serde_json::to_string(set).map_err(|e| StoreError::InvalidInput {
        detail: format!("pattern members cannot be encoded: {e}"),
    })
}

/// A damaged JSON column reads as empty rather than failing the view.
fn decode(s: &str) -> BTreeSet<String> {
    serde_json::from_str(s).unwrap_or_default()
}

impl Store {
    /// Adds `patterns` seen in `cluster_id` to the stored ones: counts add
    /// up, first/last seen widen, pods and clusters are unioned (bounded).
    pub fn merge_log_patterns(
        &mut self,
        cluster_id: &str,
        patterns: &[Pattern],
    ) -> Result<(), StoreError> {
        if cluster_id.is_empty() {
            return Err(StoreError::InvalidInput {
                detail: "log patterns need a cluster id".into(),
            });
        }
        let path = self.path().to_path_buf();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        {
            let mut get = tx
                .prepare_cached(
                    "SELECT count, first_seen, last_seen, pods_json, clusters_json
                     FROM log_patterns WHERE cluster_id = ?1 AND level = ?2 AND template = ?3",
                )
                .map_err(sql_err)?;
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO log_patterns
                     (cluster_id, level, template, count, first_seen, last_seen, sample,
                      pods_json, clusters_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                      COALESCE((SELECT sample FROM log_patterns
                                WHERE cluster_id = ?1 AND level = ?2 AND template = ?3), ?7),
                      ?8, ?9)",
                )
                .map_err(sql_err)?;
            for p in patterns {
                let level = p.level.as_str();
                let old = get
                    .query_row(params![cluster_id, level, p.template], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                        ))
                    })
                    .optional()
                    .map_err(sql_err)?;
                let mut pods: BTreeSet<String> = BTreeSet::new();
                let mut clusters: BTreeSet<String> = BTreeSet::new();
                let (mut count, mut first, mut last) = (
                    p.count.min(i64::MAX as u64) as i64,
                    p.first_seen,
                    p.last_seen,
                );
                if let Some((c, f, l, pj, cj)) = old {
                    count = count.saturating_add(c);
                    first = first.min(f);
                    last = last.max(l);
                    bounded_union(&mut pods, decode(&pj));
                    bounded_union(&mut clusters, decode(&cj));
                }
                bounded_union(&mut pods, p.pods.iter().cloned());
                bounded_union(&mut clusters, p.clusters.iter().cloned());
                put.execute(params![
                    cluster_id,
                    level,
                    p.template,
                    count.max(1),
                    first,
                    last,
                    p.sample,
                    encode(&pods)?,
                    encode(&clusters)?
                ])
                .map_err(sql_err)?;
            }
        }
        tx.commit().map_err(sql_err)
    }

    /// Stored patterns, most frequent first.
    pub fn log_patterns(&self, q: &LogPatternQuery) -> Result<Vec<StoredPattern>, StoreError> {
        let limit = if q.limit == 0 { -1 } else { i64::from(q.limit) };
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT cluster_id, level, template, count, first_seen, last_seen, sample,
                        pods_json, clusters_json
                 FROM log_patterns
                 WHERE (?1 IS NULL OR cluster_id = ?1) AND (?2 IS NULL OR last_seen >= ?2)
                 ORDER BY count DESC, last_seen DESC, template
                 LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![q.cluster, q.since_ms, limit], |r| {
                Ok(StoredPattern {
                    cluster_id: r.get(0)?,
                    level: level_of(&r.get::<_, String>(1)?),
                    template: r.get(2)?,
                    count: r.get::<_, i64>(3)?.max(0) as u64,
                    first_seen: r.get(4)?,
                    last_seen: r.get(5)?,
                    sample: r.get(6)?,
                    pods: decode(&r.get::<_, String>(7)?).into_iter().collect(),
                    clusters: decode(&r.get::<_, String>(8)?).into_iter().collect(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Appends lines of one pod/container and keeps only its last `keep`
    /// (at least one). Returns how many old lines were deleted.
    pub fn append_log_lines(
        &mut self,
        lines: &[CachedLogLine],
        keep: usize,
        stored_at_ms: i64,
    ) -> Result<usize, StoreError> {
        let keep = keep.max(1) as i64;
        let path = self.path().to_path_buf();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        let mut streams: BTreeSet<(&str, &str, &str, &str)> = BTreeSet::new();
        let mut deleted = 0;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO log_lines
                     (cluster_id, namespace, pod, container, ts, level, line, stored_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(sql_err)?;
            for l in lines {
                insert
                    .execute(params![
                        l.cluster_id,
                        l.namespace,
                        l.pod,
                        l.container,
                        l.ts,
                        l.level.as_str(),
                        l.line,
                        stored_at_ms
                    ])
                    .map_err(sql_err)?;
                streams.insert((&l.cluster_id, &l.namespace, &l.pod, &l.container));
            }
            // The ring: everything older than the stream's `keep`-th newest
            // row goes (the subquery is NULL while there are fewer).
            let mut trim = tx
                .prepare_cached(
                    "DELETE FROM log_lines
                     WHERE cluster_id = ?1 AND namespace = ?2 AND pod = ?3 AND container = ?4
                       AND id < (SELECT id FROM log_lines
                                 WHERE cluster_id = ?1 AND namespace = ?2 AND pod = ?3
                                   AND container = ?4
                                 ORDER BY id DESC LIMIT 1 OFFSET ?5)",
                )
                .map_err(sql_err)?;
            for (c, ns, pod, container) in streams {
                deleted += trim
                    .execute(params![c, ns, pod, container, keep - 1])
                    .map_err(sql_err)?;
            }
        }
        tx.commit().map_err(sql_err)?;
        Ok(deleted)
    }

    /// Drops lines stored before `lines_before_ms` and patterns last seen
    /// before `patterns_before_ms`; returns how many of each went.
    pub fn prune_logs(
        &mut self,
        lines_before_ms: i64,
        patterns_before_ms: i64,
    ) -> Result<(usize, usize), StoreError> {
        let path = self.path().to_path_buf();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        let lines = tx
            .execute(
                "DELETE FROM log_lines WHERE stored_at < ?1",
                params![lines_before_ms],
            )
            .map_err(sql_err)?;
        let patterns = tx
            .execute(
                "DELETE FROM log_patterns WHERE last_seen < ?1",
                params![patterns_before_ms],
            )
            .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok((lines, patterns))
    }

    /// The cached lines of a workload, for offline review: pods named
    /// `{workload}-…` (a deployment's) or the pod itself, in one cluster or
    /// all, merged by time, at most `limit` (the newest), oldest first.
    pub fn cached_workload_lines(
        &self,
        cluster_id: Option<&str>,
        namespace: &str,
        workload: &str,
        limit: u32,
    ) -> Result<Vec<CachedLogLine>, StoreError> {
        // LIKE with the workload's own `%`/`_` escaped.
        let escaped: String = workload
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT cluster_id, namespace, pod, container, ts, level, line FROM (
                   SELECT * FROM log_lines
                   WHERE (?1 IS NULL OR cluster_id = ?1) AND namespace = ?2
                     AND (pod = ?3 OR pod LIKE ?4 ESCAPE '\\')
                   ORDER BY ts DESC, id DESC LIMIT ?5)
                 ORDER BY ts, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![
                    cluster_id,
                    namespace,
                    workload,
                    format!("{escaped}-%"),
                    i64::from(limit)
                ],
                |r| {
                    Ok(CachedLogLine {
                        cluster_id: r.get(0)?,
                        namespace: r.get(1)?,
                        pod: r.get(2)?,
                        container: r.get(3)?,
                        ts: r.get(4)?,
                        level: level_of(&r.get::<_, String>(5)?),
                        line: r.get(6)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The cached lines of a pod (every container when `container` is
    /// `None`) in one cluster, oldest first, at most `limit` (the newest).
    pub fn cached_log_lines(
        &self,
        cluster_id: &str,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CachedLogLine>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT cluster_id, namespace, pod, container, ts, level, line FROM (
                   SELECT * FROM log_lines
                   WHERE cluster_id = ?1 AND namespace = ?2 AND pod = ?3
                     AND (?4 IS NULL OR container = ?4)
                   ORDER BY id DESC LIMIT ?5)
                 ORDER BY ts, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![cluster_id, namespace, pod, container, i64::from(limit)],
                |r| {
                    Ok(CachedLogLine {
                        cluster_id: r.get(0)?,
                        namespace: r.get(1)?,
                        pod: r.get(2)?,
                        container: r.get(3)?,
                        ts: r.get(4)?,
                        level: level_of(&r.get::<_, String>(5)?),
                        line: r.get(6)?,
                    })
                },
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

/// Per-cluster rows folded into one per (level, template): counts add up,
/// times widen, members union (bounded); most frequent first.
pub fn merge_patterns(rows: Vec<StoredPattern>) -> Vec<StoredPattern> {
    // The merged row with its pods and clusters as sets.
    type Merged = (StoredPattern, BTreeSet<String>, BTreeSet<String>);
    let mut by_key: BTreeMap<(Level, String), Merged> = BTreeMap::new();
    for r in rows {
        let key = (r.level, r.template.clone());
        let cluster = r.cluster_id.clone();
        match by_key.get_mut(&key) {
            Some((m, pods, clusters)) => {
                m.count = m.count.saturating_add(r.count);
                m.first_seen = m.first_seen.min(r.first_seen);
                m.last_seen = m.last_seen.max(r.last_seen);
                bounded_union(pods, r.pods);
                bounded_union(clusters, r.clusters);
                bounded_union(clusters, [cluster]);
            }
            None => {
                let mut pods = BTreeSet::new();
                let mut clusters = BTreeSet::new();
                bounded_union(&mut pods, r.pods.iter().cloned());
                bounded_union(&mut clusters, r.clusters.iter().cloned());
                bounded_union(&mut clusters, [cluster]);
                by_key.insert(key, (r, pods, clusters));
            }
        }
    }
    let mut out: Vec<StoredPattern> = by_key
        .into_values()
        .map(|(mut p, pods, clusters)| {
            p.cluster_id = if clusters.len() == 1 {
                clusters.iter().next().cloned().unwrap_or_default()
            } else {
                String::new()
            };
            p.pods = pods.into_iter().collect();
            p.clusters = clusters.into_iter().collect();
            p
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_seen.cmp(&a.last_seen))
            .then(a.template.cmp(&b.template))
    });
    out
}
