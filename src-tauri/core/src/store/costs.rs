//! The cost cache (issue 7): daily lines per account, cluster, category,
//! source and currency; month-level lines; the closed days; and the fetch
//! log. Schema in `migrations::V11_COSTS`.
//!
//! A refresh is written as one [`CostWrite`] in one transaction: the days
//! it fetched are *replaced* for each source it covers, so writing the same
//! fetch twice, or re-fetching a day that changed, never counts a cost
//! twice. Queries group by currency and never add two currencies up.

use std::collections::BTreeSet;

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};
use crate::cost::{
    is_day, is_month, CostDay, CostFetch, CostLine, CostMonthToDate, CostSource, Money,
    MonthCostLine,
};
use crate::model::Provider;

/// The days `[first_day, end_day)` of one source that a fetch covered: the
/// cache's rows of that source there are replaced by the fetch's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostWindow {
    pub source: CostSource,
    pub first_day: String,
    pub end_day: String,
}

/// One account's cost refresh, written at once.
#[derive(Debug, Clone, PartialEq)]
pub struct CostWrite {
    pub provider: Provider,
    pub account: String,
    pub collected_at: i64,
    pub windows: Vec<CostWindow>,
    /// Every line must fall in a window of its source.
    pub lines: Vec<CostLine>,
    /// Replace, per source, the whole month they name.
    pub months: Vec<MonthCostLine>,
    /// Days whose data is closed (with or without lines): not fetched again.
    pub closed_days: Vec<(CostSource, String)>,
    pub fetch: CostFetch,
}

/// What a write changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostWriteReceipt {
    /// Rows removed from the windows before the fetch's rows went in.
    pub replaced: usize,
    pub written: usize,
}

fn invalid(detail: String) -> StoreError {
    StoreError::InvalidInput { detail }
}

fn check_amount(amount: f64, what: &str) -> Result<(), StoreError> {
    if amount.is_finite() {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what}: the amount {amount} is not a number"
        )))
    }
}

fn check_currency(currency: &str, what: &str) -> Result<(), StoreError> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what}: {currency:?} is not an ISO 4217 currency code"
        )))
    }
}

fn cluster_key(id: &Option<String>) -> &str {
    id.as_deref().unwrap_or("")
}

fn cluster_of(key: String) -> Option<String> {
    (!key.is_empty()).then_some(key)
}

impl CostWrite {
    fn validate(&self) -> Result<(), StoreError> {
        for w in &self.windows {
            if !is_day(&w.first_day) || !is_day(&w.end_day) || w.first_day > w.end_day {
                return Err(invalid(format!(
                    "the cost window [{}, {}) is not a range of days",
                    w.first_day, w.end_day
                )));
            }
        }
        for l in &self.lines {
            let what = format!(
                "the cost line of {} on {}",
                cluster_key(&l.cluster_id),
                l.day
            );
            check_amount(l.amount, &what)?;
            check_currency(&l.currency, &what)?;
            let inside = self.windows.iter().any(|w| {
                w.source == l.source && w.first_day.as_str() <= l.day.as_str() && l.day < w.end_day
            });
            if !is_day(&l.day) || !inside {
                return Err(invalid(format!(
                    "{what} ({}) is outside the fetched days",
                    l.source
                )));
            }
        }
        for m in &self.months {
            let what = format!(
                "the month line of {} for {}",
                cluster_key(&m.cluster_id),
                m.month
            );
            check_amount(m.amount, &what)?;
            check_currency(&m.currency, &what)?;
            if !is_month(&m.month) {
                return Err(invalid(format!("{what}: not a YYYY-MM month")));
            }
        }
        if let Some(d) = self.closed_days.iter().find(|(_, d)| !is_day(d)) {
            return Err(invalid(format!("the closed day {:?} is not a day", d.1)));
        }
        if let Some(m) = &self.fetch.reported_month_to_date {
            check_amount(m.amount, "the reported month to date")?;
            check_currency(&m.currency, "the reported month to date")?;
        }
        Ok(())
    }
}

impl Store {
    /// Writes one account's refresh in one transaction (see the module docs).
    pub fn write_costs(&mut self, w: &CostWrite) -> Result<CostWriteReceipt, StoreError> {
        w.validate()?;
        let notes = serde_json::to_string(&w.fetch.notes)
            .map_err(|e| invalid(format!("the fetch notes cannot be encoded: {e}")))?;
        let path = self.path().to_path_buf();
        let sql_err = |e| StoreError::from_sqlite(&path, e);
        let (provider, account) = (w.provider.as_str(), w.account.as_str());
        let tx = self.conn_mut().transaction().map_err(sql_err)?;
        let mut replaced = 0;
        let mut written = 0;
        {
            for win in &w.windows {
                replaced += tx
                    .execute(
                        "DELETE FROM cost_daily WHERE provider = ?1 AND account = ?2 AND source = ?3
                           AND day >= ?4 AND day < ?5",
                        params![provider, account, win.source.as_str(), win.first_day, win.end_day],
                    )
                    .map_err(sql_err)?;
            }
            let months: BTreeSet<(&str, CostSource)> = w
                .months
                .iter()
                .map(|m| (m.month.as_str(), m.source))
                .collect();
            for (month, source) in months {
                replaced += tx
                    .execute(
                        "DELETE FROM cost_monthly WHERE provider = ?1 AND account = ?2
                           AND month = ?3 AND source = ?4",
                        params![provider, account, month, source.as_str()],
                    )
                    .map_err(sql_err)?;
            }
            // Two lines with the same key in one fetch are two charges
            // (a usage line and its credit in the same category): they add.
            let mut daily = tx
                .prepare_cached(
                    "INSERT INTO cost_daily (provider, account, cluster_id, day, category, source,
                        currency, amount, final, collected_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT DO UPDATE SET amount = amount + excluded.amount,
                        final = excluded.final, collected_at = excluded.collected_at",
                )
                .map_err(sql_err)?;
            for l in &w.lines {
                daily
                    .execute(params![
                        provider,
                        account,
                        cluster_key(&l.cluster_id),
                        l.day,
                        l.category,
                        l.source.as_str(),
                        l.currency,
                        l.amount,
                        l.is_final,
                        w.collected_at
                    ])
                    .map_err(sql_err)?;
                written += 1;
            }
            let mut monthly = tx
                .prepare_cached(
                    "INSERT INTO cost_monthly (provider, account, cluster_id, month, category,
                        source, currency, amount, collected_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT DO UPDATE SET amount = amount + excluded.amount,
                        collected_at = excluded.collected_at",
                )
                .map_err(sql_err)?;
            for m in &w.months {
                monthly
                    .execute(params![
                        provider,
                        account,
                        cluster_key(&m.cluster_id),
                        m.month,
                        m.category,
                        m.source.as_str(),
                        m.currency,
                        m.amount,
                        w.collected_at
                    ])
                    .map_err(sql_err)?;
                written += 1;
            }
            let mut closed = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO cost_closed_days (provider, account, source, day)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sql_err)?;
            for (source, day) in &w.closed_days {
                closed
                    .execute(params![provider, account, source.as_str(), day])
                    .map_err(sql_err)?;
            }
            let f = &w.fetch;
            tx.execute(
                "INSERT INTO cost_fetches (provider, account, fetched_at, api_calls, pages,
                    first_day, end_day, next_refresh_at, reported_amount, reported_currency,
                    notes_json, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    provider,
                    account,
                    f.fetched_at,
                    f.api_calls,
                    f.pages,
                    f.first_day,
                    f.end_day,
                    f.next_refresh_at,
                    f.reported_month_to_date.as_ref().map(|m| m.amount),
                    f.reported_month_to_date
                        .as_ref()
                        .map(|m| m.currency.clone()),
                    notes,
                    f.error
                ],
            )
            .map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)?;
        Ok(CostWriteReceipt { replaced, written })
    }

    /// Logs a fetch that wrote nothing (it failed, or nothing was due).
    pub fn record_cost_fetch(&mut self, fetch: &CostFetch) -> Result<(), StoreError> {
        self.write_costs(&CostWrite {
            provider: fetch.provider,
            account: fetch.account.clone(),
            collected_at: fetch.fetched_at,
            windows: Vec::new(),
            lines: Vec::new(),
            months: Vec::new(),
            closed_days: Vec::new(),
            fetch: fetch.clone(),
        })
        .map(|_| ())
    }

    /// The days in `[first_day, end_day)` already closed for this source.
    pub fn closed_cost_days(
        &self,
        provider: Provider,
        account: &str,
        source: CostSource,
        first_day: &str,
        end_day: &str,
    ) -> Result<BTreeSet<String>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT day FROM cost_closed_days WHERE provider = ?1 AND account = ?2
                   AND source = ?3 AND day >= ?4 AND day < ?5",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(
                params![
                    provider.as_str(),
                    account,
                    source.as_str(),
                    first_day,
                    end_day
                ],
                |r| r.get::<_, String>(0),
            )
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The latest fetch of each account (or of one), newest first.
    pub fn cost_fetches(&self) -> Result<Vec<CostFetch>, StoreError> {
        self.fetch_rows(
            "SELECT provider, account, fetched_at, api_calls, pages, first_day, end_day,
                    next_refresh_at, reported_amount, reported_currency, notes_json, error
             FROM cost_fetches f
             WHERE id = (SELECT max(id) FROM cost_fetches g
                         WHERE g.provider = f.provider AND g.account = f.account)
             ORDER BY fetched_at DESC, provider, account",
            params![],
        )
    }

    /// The latest fetch of one account.
    pub fn last_cost_fetch(
        &self,
        provider: Provider,
        account: &str,
    ) -> Result<Option<CostFetch>, StoreError> {
        Ok(self
            .fetch_rows(
                "SELECT provider, account, fetched_at, api_calls, pages, first_day, end_day,
                        next_refresh_at, reported_amount, reported_currency, notes_json, error
                 FROM cost_fetches WHERE provider = ?1 AND account = ?2
                 ORDER BY id DESC LIMIT 1",
                params![provider.as_str(), account],
            )?
            .pop())
    }

    /// API calls the cost refreshes of one account made since `since`
    /// (unix seconds): what the user pays Cost Explorer for.
    pub fn cost_api_calls_since(
        &self,
        provider: Provider,
        account: &str,
        since: i64,
    ) -> Result<u64, StoreError> {
        self.conn()
            .query_row(
                "SELECT coalesce(sum(api_calls), 0) FROM cost_fetches
                 WHERE provider = ?1 AND account = ?2 AND fetched_at >= ?3",
                params![provider.as_str(), account, since],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    fn fetch_rows(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<CostFetch>, StoreError> {
        let mut stmt = self.conn().prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    CostFetch {
                        provider: Provider::Aws,
                        account: r.get(1)?,
                        fetched_at: r.get(2)?,
                        api_calls: r.get(3)?,
                        pages: r.get(4)?,
                        first_day: r.get(5)?,
                        end_day: r.get(6)?,
                        next_refresh_at: r.get(7)?,
                        reported_month_to_date: match (
                            r.get::<_, Option<f64>>(8)?,
                            r.get::<_, Option<String>>(9)?,
                        ) {
                            (Some(amount), Some(currency)) => Some(Money { amount, currency }),
                            _ => None,
                        },
                        notes: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default(),
                        error: r.get(11)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (provider, mut fetch) = row.map_err(|e| self.err(e))?;
            // A provider this build does not know (a newer build wrote it)
            // is skipped rather than shown under the wrong cloud.
            let Ok(p) = provider.parse() else { continue };
            fetch.provider = p;
            out.push(fetch);
        }
        Ok(out)
    }

    /// Daily totals per account, cluster, day, source and currency in
    /// `[since, until)`, oldest first; `cluster` keeps one cluster's rows.
    pub fn cost_days(
        &self,
        since: &str,
        until: &str,
        cluster: Option<&str>,
    ) -> Result<Vec<CostDay>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT provider, account, cluster_id, day, source, currency, sum(amount), min(final)
                 FROM cost_daily
                 WHERE day >= ?1 AND day < ?2 AND (?3 IS NULL OR cluster_id = ?3)
                 GROUP BY provider, account, cluster_id, day, source, currency
                 ORDER BY day, provider, account, cluster_id, source, currency",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![since, until, cluster], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, f64>(6)?,
                    r.get::<_, bool>(7)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (p, account, cluster, day, source, currency, amount, is_final) =
                row.map_err(|e| self.err(e))?;
            let (Ok(provider), Some(source)) = (p.parse(), CostSource::parse(&source)) else {
                continue;
            };
            out.push(CostDay {
                provider,
                account,
                cluster_id: cluster_of(cluster),
                day,
                source,
                currency,
                amount,
                is_final,
            });
        }
        Ok(out)
    }

    /// Month to date per account, cluster and currency: the daily rows of
    /// `month` (`YYYY-MM`) plus its month-level rows, actual and estimate
    /// side by side.
    pub fn cost_month_to_date(
        &self,
        month: &str,
        cluster: Option<&str>,
    ) -> Result<Vec<CostMonthToDate>, StoreError> {
        if !is_month(month) {
            return Err(invalid(format!("{month:?} is not a YYYY-MM month")));
        }
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT provider, account, cluster_id, currency,
                        sum(CASE WHEN source = 'actual' THEN amount END),
                        sum(CASE WHEN source = 'estimate' THEN amount END),
                        max(collected_at)
                 FROM (
                    SELECT provider, account, cluster_id, currency, source, amount, collected_at
                      FROM cost_daily WHERE substr(day, 1, 7) = ?1
                    UNION ALL
                    SELECT provider, account, cluster_id, currency, source, amount, collected_at
                      FROM cost_monthly WHERE month = ?1
                 )
                 WHERE (?2 IS NULL OR cluster_id = ?2)
                 GROUP BY provider, account, cluster_id, currency
                 ORDER BY provider, account, cluster_id, currency",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![month, cluster], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<f64>>(4)?,
                    r.get::<_, Option<f64>>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (p, account, cluster, currency, actual, estimate, collected_at) =
                row.map_err(|e| self.err(e))?;
            let Ok(provider) = p.parse() else { continue };
            out.push(CostMonthToDate {
                provider,
                account,
                cluster_id: cluster_of(cluster),
                month: month.to_owned(),
                currency,
                actual,
                estimate,
                collected_at,
            });
        }
        Ok(out)
    }

    /// Unix seconds of the oldest account's latest cost fetch: the data age
    /// the views show. `None` when cost was never fetched.
    pub fn oldest_cost_fetch(&self) -> Result<Option<i64>, StoreError> {
        self.conn()
            .query_row(
                "SELECT min(latest) FROM (SELECT max(fetched_at) AS latest FROM cost_fetches
                   WHERE error IS NULL GROUP BY provider, account)",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// The months (`YYYY-MM`) that have any cost in the cache, newest
    /// first: what the Cost screen's month picker offers. Reads the day
    /// index's leading column, so it does not scan the amounts.
    pub fn cost_months(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT substr(day, 1, 7) AS m FROM cost_daily
                 UNION SELECT DISTINCT month FROM cost_monthly
                 ORDER BY m DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for m in rows {
            let m = m.map_err(|e| self.err(e))?;
            if is_month(&m) {
                out.push(m);
            }
        }
        Ok(out)
    }
}
