//! The cost refresh: for each account, at most every `interval` (6 h by
//! default: Cost Explorer bills each page), fetch only the days that are
//! not closed yet, and write them to the cache in one transaction.
//!
//! Plan (reads the cache) → fetch (every due account concurrently) → write.
//! A failed account is logged with its error and retried sooner; the
//! others are written all the same.

use std::{sync::Arc, time::Duration};

use cloudops_core::{
    cost::CostFetch, model::Provider as ProviderKind, store::CostWrite, Store, StoreError,
};
use futures_util::future;
use jiff::{civil::Date, Timestamp, ToSpan as _};
use serde::Serialize;

use super::{days_between, utc_day, CostReport, CostRequest};
use crate::{error::ProviderError, providers::Provider};

/// How often and how far back.
#[derive(Debug, Clone)]
pub struct CostPolicy {
    /// The least time between two fetches of one account.
    pub interval: Duration,
    /// How soon a failed fetch is tried again.
    pub retry_after_failure: Duration,
    /// Days of history kept fetched (the forecast wants a few weeks).
    pub history_days: i64,
    /// Fetch even when the interval has not passed (`--force`).
    pub force: bool,
}

impl Default for CostPolicy {
    fn default() -> Self {
        CostPolicy {
            interval: Duration::from_secs(6 * 3600),
            retry_after_failure: Duration::from_secs(15 * 60),
            history_days: 35,
            force: false,
        }
    }
}

/// What the refresh did for one account.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CostOutcome {
    /// The last fetch is recent enough.
    NotDue { next_refresh_at: i64 },
    Fetched {
        first_day: String,
        end_day: String,
        api_calls: u32,
        pages: u32,
        lines: usize,
        notes: Vec<String>,
    },
    /// The provider has no cost source (kubeconfig).
    NoCostSource { reason: String },
    Failed {
        kind: String,
        message: String,
        hint: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountCost {
    pub provider: ProviderKind,
    pub account: String,
    #[serde(flatten)]
    pub outcome: CostOutcome,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The request for one account, or why there is none.
fn plan(
    store: &Store,
    p: &dyn Provider,
    policy: &CostPolicy,
    now: Timestamp,
) -> Result<Result<CostRequest, CostOutcome>, StoreError> {
    let kind = p.kind();
    if kind == ProviderKind::Kubeconfig {
        return Ok(Err(CostOutcome::NoCostSource {
            reason: "a kubeconfig context has no billing API; its cost is not known".into(),
        }));
    }
    if !policy.force {
        if let Some(last) = store.last_cost_fetch(kind, p.account())? {
            if last.next_refresh_at > now.as_second() {
                return Ok(Err(CostOutcome::NotDue {
                    next_refresh_at: last.next_refresh_at,
                }));
            }
        }
    }
    let today = utc_day(now);
    let start = today
        .checked_sub(policy.history_days.max(0).days())
        .unwrap_or(today);
    let end: Date = today.tomorrow().unwrap_or(today);
    let closed = store.closed_cost_days(
        kind,
        p.account(),
        p.primary_cost_source(),
        &start.to_string(),
        &end.to_string(),
    )?;
    // Today is never closed, so there is always a first open day.
    let first_day = days_between(start, end)
        .into_iter()
        .find(|d| !closed.contains(&d.to_string()))
        .unwrap_or(today);
    let clusters = store
        .clusters(Some(kind))?
        .into_iter()
        .filter(|c| c.account == p.account() && c.gone_at.is_none())
        .collect();
    Ok(Ok(CostRequest {
        first_day,
        end_day: end,
        now,
        clusters,
    }))
}

fn write(
    store: &mut Store,
    p: &dyn Provider,
    req: &CostRequest,
    report: CostReport,
    policy: &CostPolicy,
) -> Result<CostOutcome, StoreError> {
    let now = req.now.as_second();
    let fetch = CostFetch {
        provider: p.kind(),
        account: p.account().to_owned(),
        fetched_at: now,
        api_calls: report.api_calls,
        pages: report.pages,
        first_day: Some(req.first_day.to_string()),
        end_day: Some(req.end_day.to_string()),
        next_refresh_at: now.saturating_add(secs(policy.interval)),
        reported_month_to_date: report.reported_month_to_date.clone(),
        notes: report.notes.clone(),
        error: None,
    };
    let lines = report.lines.len() + report.months.len();
    store.write_costs(&CostWrite {
        provider: p.kind(),
        account: p.account().to_owned(),
        collected_at: now,
        windows: report.windows,
        lines: report.lines,
        months: report.months,
        closed_days: report.closed_days,
        fetch,
    })?;
    Ok(CostOutcome::Fetched {
        first_day: req.first_day.to_string(),
        end_day: req.end_day.to_string(),
        api_calls: report.api_calls,
        pages: report.pages,
        lines,
        notes: report.notes,
    })
}

fn failed(
    store: &mut Store,
    p: &dyn Provider,
    req: &CostRequest,
    e: &ProviderError,
    policy: &CostPolicy,
) -> Result<CostOutcome, StoreError> {
    let now = req.now.as_second();
    store.record_cost_fetch(&CostFetch {
        provider: p.kind(),
        account: p.account().to_owned(),
        fetched_at: now,
        api_calls: 0,
        pages: 0,
        first_day: Some(req.first_day.to_string()),
        end_day: Some(req.end_day.to_string()),
        next_refresh_at: now.saturating_add(secs(policy.retry_after_failure)),
        reported_month_to_date: None,
        notes: Vec::new(),
        error: Some(e.to_string()),
    })?;
    Ok(CostOutcome::Failed {
        kind: e.kind().into(),
        message: e.to_string(),
        hint: e.hint(),
    })
}

/// Refreshes the cost of every account that is due, at `now`.
pub async fn refresh_costs(
    store: &mut Store,
    providers: &[Arc<dyn Provider>],
    policy: &CostPolicy,
    now: Timestamp,
) -> Result<Vec<AccountCost>, StoreError> {
    let mut planned = Vec::new();
    let mut out = Vec::new();
    for p in providers {
        match plan(store, p.as_ref(), policy, now)? {
            Ok(req) => planned.push((p.clone(), req)),
            Err(outcome) => out.push(AccountCost {
                provider: p.kind(),
                account: p.account().to_owned(),
                outcome,
            }),
        }
    }
    let fetched = future::join_all(
        planned
            .iter()
            .map(|(p, req)| async move { p.daily_costs(req).await }),
    )
    .await;
    for ((p, req), result) in planned.iter().zip(fetched) {
        let outcome = match result {
            Ok(report) => match write(store, p.as_ref(), req, report, policy) {
                Ok(outcome) => outcome,
                // The provider's answer did not fit what was asked (a line
                // outside the days, a bad amount): that account failed, the
                // others are still written.
                Err(StoreError::InvalidInput { detail }) => {
                    let e = ProviderError::Decode {
                        provider: p.kind(),
                        what: "the cost data".into(),
                        detail,
                    };
                    failed(store, p.as_ref(), req, &e, policy)?
                }
                Err(e) => return Err(e),
            },
            Err(ProviderError::Unsupported { what, hint, .. }) => CostOutcome::NoCostSource {
                reason: format!("{what}: {hint}"),
            },
            Err(e) => {
                tracing::warn!(provider = %p.kind(), account = p.account(), error = %e, "cost refresh failed");
                failed(store, p.as_ref(), req, &e, policy)?
            }
        };
        out.push(AccountCost {
            provider: p.kind(),
            account: p.account().to_owned(),
            outcome,
        });
    }
    out.sort_by(|a, b| (a.provider, &a.account).cmp(&(b.provider, &b.account)));
    Ok(out)
}
