//! Cost vocabulary shared by ingestion (`cloudops-cloud`), the cache
//! (`store::costs`), the analysis and the views (issue 7, BRIEF §4-§5).
//!
//! Days are UTC calendar days written `YYYY-MM-DD` and months `YYYY-MM`:
//! every provider bills in UTC days, and the text form sorts in time order,
//! so the cache can range over it without a date type. Amounts are never
//! summed across currencies: every total is per currency.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::Provider;

/// Where a figure comes from: the provider's billing data (`actual`), or
/// our node-hours × list-price computation (`estimate`). Every figure shown
/// carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum CostSource {
    Actual,
    Estimate,
}

impl CostSource {
    pub const ALL: [CostSource; 2] = [CostSource::Actual, CostSource::Estimate];

    pub fn as_str(self) -> &'static str {
        match self {
            CostSource::Actual => "actual",
            CostSource::Estimate => "estimate",
        }
    }

    pub fn parse(s: &str) -> Option<CostSource> {
        CostSource::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for CostSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One daily cost line of one account: a cluster's (or the account's
/// unallocated) spend on one day in one category (AWS service, Azure
/// resource-group role, DO product, node pool…). Credits and refunds are
/// negative lines, kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostLine {
    /// `None`: spend the provider did not attribute to a known cluster.
    pub cluster_id: Option<String>,
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub category: String,
    pub amount: f64,
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    pub source: CostSource,
    /// The provider's data for the day is closed: it is not fetched again.
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// A month-level figure the provider does not split by day (DigitalOcean's
/// invoice preview items are month to date).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MonthCostLine {
    pub cluster_id: Option<String>,
    /// `YYYY-MM`.
    pub month: String,
    pub category: String,
    pub amount: f64,
    pub currency: String,
    pub source: CostSource,
}

/// An amount with its currency (never summed with another currency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Money {
    pub amount: f64,
    pub currency: String,
}

/// One cost refresh of one account: what it cost us and when the next is
/// due. Cost Explorer charges $0.01 per page, so the calls are counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostFetch {
    pub provider: Provider,
    pub account: String,
    /// Unix seconds.
    #[ts(type = "number")]
    pub fetched_at: i64,
    /// API calls made (each Cost Explorer page is one billed call).
    pub api_calls: u32,
    pub pages: u32,
    /// The days fetched, `[first_day, end_day)`; `None` when nothing was due.
    pub first_day: Option<String>,
    pub end_day: Option<String>,
    /// Unix seconds; a refresh before it is skipped.
    #[ts(type = "number")]
    pub next_refresh_at: i64,
    /// What the provider itself reports as the account's month to date
    /// (DigitalOcean's balance), shown beside our sums, never added to them.
    pub reported_month_to_date: Option<Money>,
    /// What the user should know (fallback to estimates, skipped rows…).
    pub notes: Vec<String>,
    /// The error that ended the fetch, when it failed.
    pub error: Option<String>,
}

/// A cluster's (or an account's unallocated) daily total, per source and
/// currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostDay {
    pub provider: Provider,
    pub account: String,
    pub cluster_id: Option<String>,
    pub day: String,
    pub source: CostSource,
    pub currency: String,
    pub amount: f64,
    pub is_final: bool,
}

/// Month to date of one cluster (or an account's unallocated spend), per
/// currency: the actual and the estimate side by side, either may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostMonthToDate {
    pub provider: Provider,
    pub account: String,
    pub cluster_id: Option<String>,
    pub month: String,
    pub currency: String,
    pub actual: Option<f64>,
    pub estimate: Option<f64>,
    /// The newest `collected_at` of the rows summed (unix seconds).
    #[ts(type = "number")]
    pub collected_at: i64,
}

impl CostMonthToDate {
    /// The figure to show: the actual when there is one, else the estimate.
    pub fn best(&self) -> Option<(f64, CostSource)> {
        self.actual
            .map(|a| (a, CostSource::Actual))
            .or(self.estimate.map(|e| (e, CostSource::Estimate)))
    }
}

/// What `cloudops cost` and the Cost screen read from the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostOverview {
    /// `YYYY-MM` of the month-to-date figures.
    pub month: String,
    /// The daily rows' range, `[since, until)`.
    pub since: String,
    pub until: String,
    pub month_to_date: Vec<CostMonthToDate>,
    pub daily: Vec<CostDay>,
    /// The latest fetch of each account.
    pub fetches: Vec<CostFetch>,
    /// Seconds since the oldest account's last cost fetch; `None` when cost
    /// was never fetched.
    #[ts(type = "number | null")]
    pub data_age_secs: Option<i64>,
}

/// `YYYY-MM-DD` is a plausible calendar day (month 1-12, day 1-31).
pub fn is_day(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0..4, 5..7, 8..10]
            .into_iter()
            .all(|r| b[r].iter().all(u8::is_ascii_digit))
        && matches!(s[5..7].parse::<u32>(), Ok(1..=12))
        && matches!(s[8..10].parse::<u32>(), Ok(1..=31))
}

/// `YYYY-MM` is a plausible month.
pub fn is_month(s: &str) -> bool {
    s.len() == 7 && is_day(&format!("{s}-01"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_and_month_shapes() {
        assert!(is_day("2025-06-30"));
        assert!(!is_day("2025-13-01"));
        assert!(!is_day("2025-6-30"));
        assert!(!is_day("2025-06-3x"));
        assert!(is_month("2025-06"));
        assert!(!is_month("2025-00"));
    }

    #[test]
    fn source_round_trips_and_best_prefers_actual() {
        for s in CostSource::ALL {
            assert_eq!(CostSource::parse(s.as_str()), Some(s));
        }
        let mut m = CostMonthToDate {
            provider: Provider::Aws,
            account: "a".into(),
            cluster_id: None,
            month: "2025-06".into(),
            currency: "USD".into(),
            actual: None,
            estimate: Some(2.0),
            collected_at: 0,
        };
        assert_eq!(m.best(), Some((2.0, CostSource::Estimate)));
        m.actual = Some(3.0);
        assert_eq!(m.best(), Some((3.0, CostSource::Actual)));
    }
}
