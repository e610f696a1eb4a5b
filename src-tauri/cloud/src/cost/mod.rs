//! Cost ingestion (issue 7, BRIEF §4): what every provider's
//! [`Provider::daily_costs`](crate::providers::Provider::daily_costs) is
//! asked and answers, the helpers they share (days, node-hour estimates,
//! pagination guards), and [`refresh`]: the incremental, rate-limited
//! refresh that writes into the cache.
//!
//! Per cloud (each in its provider's `cost` submodule):
//! - AWS: Cost Explorer GetCostAndUsage, daily, by the `eks:cluster-name`
//!   tag and SERVICE (actual); node hours × list price when the tag
//!   returns nothing (estimate).
//! - Azure: Cost Management query `2025-03-01`, daily, by resource group
//!   (actual); a cluster is its node resource group plus a share of its own.
//! - GCP: node hours × the bundled list price (estimate).
//! - DigitalOcean: node hours × `/v2/sizes` price (estimate, daily) and the
//!   invoice preview items by `group_description` (actual, month to date).

pub mod prices;
pub mod refresh;

use std::collections::BTreeSet;

use cloudops_core::{
    cost::{CostLine, CostSource, Money, MonthCostLine},
    model::{ClusterSummary, Provider as ProviderKind},
    store::CostWindow,
};
use jiff::{civil::Date, Timestamp, ToSpan as _};

use crate::error::ProviderError;

/// What a cost ingestion is asked for: the days `[first_day, end_day)`
/// (UTC), the time now (for today's partial hours and finality), and the
/// account's clusters as the cache knows them (names to ids, node pools
/// for the estimates).
#[derive(Debug, Clone)]
pub struct CostRequest {
    pub first_day: Date,
    pub end_day: Date,
    pub now: Timestamp,
    pub clusters: Vec<ClusterSummary>,
}

impl CostRequest {
    /// The UTC day of `now`.
    pub fn today(&self) -> Date {
        utc_day(self.now)
    }

    /// Every day of the request, in order.
    pub fn days(&self) -> Vec<Date> {
        days_between(self.first_day, self.end_day)
    }

    /// The request's window of `source`, as the cache wants it.
    pub fn window(&self, source: CostSource) -> CostWindow {
        CostWindow {
            source,
            first_day: self.first_day.to_string(),
            end_day: self.end_day.to_string(),
        }
    }

    pub fn contains(&self, day: Date) -> bool {
        self.first_day <= day && day < self.end_day
    }
}

/// What one account's cost ingestion found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostReport {
    pub lines: Vec<CostLine>,
    pub months: Vec<MonthCostLine>,
    /// The days and sources the report covers: the cache replaces its rows
    /// there with [`CostReport::lines`].
    pub windows: Vec<CostWindow>,
    /// Days whose data is closed: they are not fetched again.
    pub closed_days: Vec<(CostSource, String)>,
    /// Calls made to the provider (Cost Explorer bills each page $0.01).
    pub api_calls: u32,
    pub pages: u32,
    /// The provider's own month-to-date figure for the account.
    pub reported_month_to_date: Option<Money>,
    pub notes: Vec<String>,
}

impl CostReport {
    /// Every day of `req` before `today - closed_after_days` is closed for
    /// `source`.
    pub fn close_days_before(
        &mut self,
        req: &CostRequest,
        source: CostSource,
        closed_after_days: i64,
    ) {
        let limit = req
            .today()
            .checked_sub(closed_after_days.days())
            .unwrap_or(req.first_day);
        self.closed_days.extend(
            req.days()
                .into_iter()
                .filter(|d| *d < limit)
                .map(|d| (source, d.to_string())),
        );
    }

    /// Totals per `(cluster id or "", day, currency)` of the daily lines of
    /// `source`: what the tests and the summaries check.
    pub fn daily_totals(
        &self,
        source: CostSource,
    ) -> std::collections::BTreeMap<(String, String, String), f64> {
        let mut out = std::collections::BTreeMap::new();
        for l in self.lines.iter().filter(|l| l.source == source) {
            *out.entry((
                l.cluster_id.clone().unwrap_or_default(),
                l.day.clone(),
                l.currency.clone(),
            ))
            .or_insert(0.0) += l.amount;
        }
        out
    }

    /// Sum per currency of the daily lines of `source` (tests, summaries).
    pub fn totals(&self, source: CostSource) -> Vec<Money> {
        let mut out: Vec<Money> = Vec::new();
        for l in self.lines.iter().filter(|l| l.source == source) {
            match out.iter_mut().find(|m| m.currency == l.currency) {
                Some(m) => m.amount += l.amount,
                None => out.push(Money {
                    amount: l.amount,
                    currency: l.currency.clone(),
                }),
            }
        }
        out
    }
}

/// The UTC calendar day of an instant.
pub fn utc_day(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The first second (UTC) of a day.
pub fn day_start(d: Date) -> Timestamp {
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `[from, to)` day by day.
pub fn days_between(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = from;
    while d < to {
        out.push(d);
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    out
}

/// Parses a day as the providers write it: `2025-06-01`, `20250601` (Azure's
/// numeric `UsageDate`), or an ISO time whose date part is taken.
pub fn parse_day(raw: &str) -> Option<Date> {
    let raw = raw.trim();
    if raw.len() == 8 && raw.bytes().all(|b| b.is_ascii_digit()) {
        let y = raw[0..4].parse().ok()?;
        let m = raw[4..6].parse().ok()?;
        let d = raw[6..8].parse().ok()?;
        return Date::new(y, m, d).ok();
    }
    raw.get(0..10)?.parse().ok()
}

/// Hours of `day` that are billed by `now`: 24 for a past day, the started
/// hours for today (clouds bill node time in started hours or finer), 0 for
/// a future day.
pub fn billed_hours(day: Date, now: Timestamp) -> f64 {
    let start = day_start(day);
    let elapsed = now.as_second() - start.as_second();
    if elapsed <= 0 {
        0.0
    } else if elapsed >= 86_400 {
        24.0
    } else {
        (elapsed as f64 / 3600.0).ceil().min(24.0)
    }
}

/// Node-hour estimate lines for the clusters of `req`: for each day and
/// node pool, `count × billed hours × hourly(machine type)`, with the
/// current count (the cache keeps no history of pool sizes: the first
/// refresh assumes today's sizes for the past days; later refreshes keep
/// each closed day as it was estimated then). Pools whose machine type has
/// no price are named in the returned notes instead.
pub fn node_hour_estimates(
    req: &CostRequest,
    currency: &str,
    hourly: impl Fn(&str) -> Option<f64>,
) -> (Vec<CostLine>, Vec<String>) {
    let today = req.today();
    let mut lines = Vec::new();
    let mut unpriced = BTreeSet::new();
    for c in &req.clusters {
        for pool in &c.node_pools {
            let machine = pool.machine_type.as_deref().unwrap_or("");
            let Some(price) = hourly(machine) else {
                unpriced.insert(format!(
                    "{machine:?} (cluster {}, pool {})",
                    c.name, pool.name
                ));
                continue;
            };
            for day in req.days() {
                let hours = billed_hours(day, req.now);
                if hours <= 0.0 || pool.count == 0 {
                    continue;
                }
                lines.push(CostLine {
                    cluster_id: Some(c.id.clone()),
                    day: day.to_string(),
                    category: format!("node pool {} ({machine})", pool.name),
                    amount: f64::from(pool.count) * hours * price,
                    currency: currency.to_owned(),
                    source: CostSource::Estimate,
                    is_final: day < today,
                });
            }
        }
    }
    let notes = unpriced
        .into_iter()
        .map(|m| format!("no list price for machine type {m}: left out of the estimate"))
        .collect();
    (lines, notes)
}

/// A report made of node-hour estimates from a bundled price table (GKE
/// always; EKS when its tag returns nothing). Past days are closed: an
/// estimate does not improve by asking again.
pub fn estimate_report(req: &CostRequest, table: &prices::PriceTable) -> CostReport {
    let (lines, unpriced) = node_hour_estimates(req, table.currency, |m| table.hourly(m));
    let mut report = CostReport {
        lines,
        windows: vec![req.window(CostSource::Estimate)],
        notes: vec![format!("estimate: node hours × {}", table.provenance())],
        ..CostReport::default()
    };
    report.notes.extend(unpriced);
    report.close_days_before(req, CostSource::Estimate, 0);
    report
}

/// Stops a pagination loop: a next-page token seen before means the
/// provider is sending us round in circles, and following it would count
/// the same pages twice. `what` names the listing for the error.
pub struct PageGuard {
    provider: ProviderKind,
    what: String,
    seen: BTreeSet<String>,
    pages: u32,
    max_pages: u32,
}

impl PageGuard {
    pub fn new(provider: ProviderKind, what: impl Into<String>, max_pages: u32) -> Self {
        PageGuard {
            provider,
            what: what.into(),
            seen: BTreeSet::new(),
            pages: 0,
            max_pages,
        }
    }

    /// Counts one page received.
    pub fn page(&mut self) -> Result<(), ProviderError> {
        self.pages += 1;
        if self.pages > self.max_pages {
            return Err(ProviderError::Decode {
                provider: self.provider,
                what: self.what.clone(),
                detail: format!(
                    "more than {} pages; stopped, nothing from this fetch was kept",
                    self.max_pages
                ),
            });
        }
        Ok(())
    }

    /// Accepts the next token, or refuses one already followed.
    pub fn next(&mut self, token: &str) -> Result<(), ProviderError> {
        if self.seen.insert(token.to_owned()) {
            Ok(())
        } else {
            Err(ProviderError::Decode {
                provider: self.provider,
                what: self.what.clone(),
                detail: format!(
                    "the next-page token {token:?} came back a second time (a pagination loop); \
                     stopped after {} pages, nothing from this fetch was kept",
                    self.pages
                ),
            })
        }
    }

    pub fn pages(&self) -> u32 {
        self.pages
    }
}

/// The cluster of `clusters` called `name` when exactly one is; with two
/// of the same name (two regions) a name alone cannot say which.
pub fn cluster_by_name<'a>(
    clusters: &'a [ClusterSummary],
    name: &str,
) -> Option<&'a ClusterSummary> {
    let mut found = clusters.iter().filter(|c| c.name == name);
    match (found.next(), found.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_hours() {
        let d: Date = "2025-06-30".parse().unwrap();
        assert_eq!(
            days_between(d, "2025-07-02".parse().unwrap())
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["2025-06-30", "2025-07-01"]
        );
        assert_eq!(parse_day("20180417"), Some("2018-04-17".parse().unwrap()));
        assert_eq!(
            parse_day("2018-04-17T00:00:00"),
            Some("2018-04-17".parse().unwrap())
        );
        assert_eq!(parse_day("2018-13-01"), None);
        assert_eq!(parse_day("x"), None);
        let now: Timestamp = "2025-06-30T02:30:00Z".parse().unwrap();
        assert_eq!(billed_hours(d, now), 3.0);
        assert_eq!(billed_hours("2025-06-29".parse().unwrap(), now), 24.0);
        assert_eq!(billed_hours("2025-07-01".parse().unwrap(), now), 0.0);
    }

    #[test]
    fn page_guard_refuses_a_repeated_token() {
        let mut g = PageGuard::new(ProviderKind::Aws, "GetCostAndUsage", 10);
        g.page().unwrap();
        g.next("a").unwrap();
        g.page().unwrap();
        let err = g.next("a").unwrap_err();
        assert_eq!(err.kind(), "bad_reply");
        assert!(err.to_string().contains("second time"), "{err}");
        let mut small = PageGuard::new(ProviderKind::Aws, "x", 1);
        small.page().unwrap();
        assert!(small.page().is_err());
    }
}
