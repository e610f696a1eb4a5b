//! What a log consumer keeps for the cache while lines pass: the error and
//! warning patterns per cluster, and the newest lines per stream. The app's
//! pump and `cloudops logs` both keep the same, so both write the same
//! cache and raise the same log alerts.

use std::collections::BTreeMap;

use cloudops_core::analysis::alerts::AlertRules;
use cloudops_core::analysis::log_alerts::record_patterns;
use cloudops_core::analysis::logs::{Pattern, PatternLimits, PatternTable};
use cloudops_core::store::logs::{LINE_RETENTION_MS, PATTERN_RETENTION_MS};
use cloudops_core::store::{AlertChanges, AlertPolicy, CachedLogLine, StoreError};
use cloudops_core::Store;

use super::LogLine;

/// Pattern sets held back after failed writes, at most; older ones are
/// dropped first (their counts are lost, and the caller says so).
pub const MAX_UNWRITTEN_PATTERN_SETS: usize = 64;

/// Patterns and lines not yet in the cache.
#[derive(Debug, Default)]
pub struct PendingLogs {
    /// Drained pattern tables, by cluster.
    pub patterns: Vec<(String, Vec<Pattern>)>,
    /// The recent lines of each stream.
    pub lines: Vec<Vec<CachedLogLine>>,
}

impl PendingLogs {
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.lines.is_empty()
    }

    /// Writes into the cache and prunes it. Each pattern set and each
    /// stream's lines is one transaction: on an error, what was written is
    /// not given back (a pattern merged twice would count twice) and the
    /// rest is. The alerts raised so far are returned either way.
    pub fn write(
        self,
        store: &mut Store,
        rules: &AlertRules,
        keep: usize,
        now_ms: i64,
    ) -> (AlertChanges, Result<(), (StoreError, PendingLogs)>) {
        let mut raised = AlertChanges::default();
        let mut patterns = self.patterns.into_iter();
        while let Some((cluster, p)) = patterns.next() {
            match record_patterns(
                store,
                rules,
                &AlertPolicy::default(),
                &cluster,
                &p,
                now_ms / 1000,
            ) {
                Ok(c) => {
                    raised.opened.extend(c.opened);
                    raised.folded.extend(c.folded);
                    raised.raised.extend(c.raised);
                    raised.escalated.extend(c.escalated);
                }
                Err(e) => {
                    let rest = PendingLogs {
                        patterns: std::iter::once((cluster, p)).chain(patterns).collect(),
                        lines: self.lines,
                    };
                    return (raised, Err((e, rest)));
                }
            }
        }
        let mut lines = self.lines.into_iter();
        while let Some(buf) = lines.next() {
            if let Err(e) = store.append_log_lines(&buf, keep, now_ms) {
                let rest = PendingLogs {
                    patterns: Vec::new(),
                    lines: std::iter::once(buf).chain(lines).collect(),
                };
                return (raised, Err((e, rest)));
            }
        }
        // Housekeeping only: the next write prunes if this one cannot.
        if let Err(e) = store.prune_logs(now_ms - LINE_RETENTION_MS, now_ms - PATTERN_RETENTION_MS)
        {
            tracing::debug!(error = %e, "log cache not pruned this time");
        }
        (raised, Ok(()))
    }
}

/// See the module documentation.
pub struct LogKeeper {
    tables: BTreeMap<String, PatternTable>,
    lines: BTreeMap<(String, String, String, String), Vec<CachedLogLine>>,
    keep: usize,
    /// What a busy cache refused, written first next time.
    unwritten: Option<PendingLogs>,
}

impl LogKeeper {
    /// Keeps the newest `keep` lines per stream (at least one).
    pub fn new(keep: usize) -> Self {
        Self {
            tables: BTreeMap::new(),
            lines: BTreeMap::new(),
            keep: keep.max(1),
            unwritten: None,
        }
    }

    /// Lines kept per stream.
    pub fn keep(&self) -> usize {
        self.keep
    }

    pub fn see(&mut self, l: &LogLine) {
        self.tables
            .entry(l.cluster.clone())
            .or_insert_with(|| PatternTable::new(PatternLimits::default()))
            .observe(&l.cluster, &l.pod, l.ts_ns / 1_000_000, &l.line);
        let buf = self
            .lines
            .entry((
                l.cluster.clone(),
                l.namespace.clone(),
                l.pod.clone(),
                l.container.clone(),
            ))
            .or_default();
        buf.push(CachedLogLine {
            cluster_id: l.cluster.clone(),
            namespace: l.namespace.clone(),
            pod: l.pod.clone(),
            container: l.container.clone(),
            ts: l.ts_ns / 1_000_000,
            level: l.level,
            line: l.line.clone(),
        });
        // Only the newest `keep` survive the cache's ring anyway.
        if buf.len() > 2 * self.keep {
            let cut = buf.len() - self.keep;
            buf.drain(..cut);
        }
    }

    /// Whether a failed write left something for the next one.
    pub fn has_unwritten(&self) -> bool {
        self.unwritten.is_some()
    }

    /// What to write: anything given back earlier first (so that the ring
    /// keeps the newest lines), then what was seen since. Leaves the keeper
    /// empty.
    pub fn take(&mut self) -> PendingLogs {
        let mut out = self.unwritten.take().unwrap_or_default();
        out.patterns.extend(
            self.tables
                .iter_mut()
                .map(|(c, t)| (c.clone(), t.drain()))
                .filter(|(_, p)| !p.is_empty()),
        );
        out.lines.extend(
            self.lines
                .values_mut()
                .filter(|b| !b.is_empty())
                .map(std::mem::take),
        );
        out
    }

    /// Holds what a write could not store for the next [`take`](Self::take),
    /// bounded: the newest `keep` lines of each stream and the newest
    /// [`MAX_UNWRITTEN_PATTERN_SETS`] pattern sets.
    pub fn give_back(&mut self, mut rest: PendingLogs) {
        for buf in &mut rest.lines {
            let cut = buf.len().saturating_sub(self.keep);
            buf.drain(..cut);
        }
        let cut = rest
            .patterns
            .len()
            .saturating_sub(MAX_UNWRITTEN_PATTERN_SETS);
        rest.patterns.drain(..cut);
        self.unwritten = Some(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudops_core::analysis::logs::Level;

    fn line(pod: &str, ts_ms: i64, text: &str) -> LogLine {
        LogLine {
            cluster: "c1".into(),
            namespace: "shop".into(),
            pod: pod.into(),
            container: "app".into(),
            ts_ns: ts_ms * 1_000_000,
            level: Level::Error,
            line: text.into(),
            truncated: false,
        }
    }

    #[test]
    fn a_stream_keeps_its_newest_lines_and_the_patterns_are_drained_once() {
        let mut k = LogKeeper::new(3);
        for i in 0..10 {
            k.see(&line("p1", i, &format!("error: order {i} failed")));
        }
        let first = k.take();
        assert_eq!(first.patterns.len(), 1, "one cluster's patterns");
        let kept: Vec<i64> = first.lines[0].iter().map(|l| l.ts).collect();
        assert!(kept.len() <= 6 && kept.ends_with(&[7, 8, 9]), "{kept:?}");
        assert!(k.take().is_empty(), "take leaves the keeper empty");
    }

    #[test]
    fn what_is_given_back_comes_first_and_bounded() {
        let mut k = LogKeeper::new(2);
        k.see(&line("p1", 1, "error: a"));
        let mut failed = k.take();
        let one = failed.lines[0][0].clone();
        failed.lines[0].extend([one.clone(), one]);
        k.give_back(failed);
        k.see(&line("p1", 5, "error: b"));
        let next = k.take();
        assert_eq!(
            next.lines.len(),
            2,
            "the given-back stream, then the new one"
        );
        assert_eq!(next.lines[0].len(), 2, "bounded to keep");
        assert_eq!(next.lines[1][0].ts, 5);
    }

    #[test]
    fn a_write_stores_lines_and_patterns_in_a_real_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open_in(dir.path()).expect("store");
        let mut k = LogKeeper::new(100);
        for i in 0..5 {
            k.see(&line("p1", 1_000 + i, "error: timeout talking to db-7"));
        }
        let now = 2_000;
        let (_, written) = k.take().write(&mut store, &AlertRules::default(), 100, now);
        assert!(written.is_ok());
        let cached = store
            .cached_log_lines("c1", "shop", "p1", None, 100)
            .expect("read back");
        assert_eq!(cached.len(), 5);
    }
}
