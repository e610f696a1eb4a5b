//! Cost on the Fleet screen (issue 7 §4): each cluster's month to date,
//! saying whether it is the provider's bill (actual) or our estimate, and
//! the fleet's month to date and month-end forecast per currency, all from
//! the cache (no network) with the age of the data.
//!
//! A separate view from [`super::cost::cost_view`]: the Fleet screen polls
//! often and needs none of the charts, budgets or suggestions; and from
//! `FleetOverview`, which is `Eq` and read by the CLI's cluster listing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::cost_forecasts::cost_forecasts;
use super::{cost::CostForecastView, ViewError};
use crate::analysis::cost_series::civil_from_day;
use crate::cost::CostSource;
use crate::store::Store;

/// One cluster's month to date in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FleetClusterCost {
    pub cluster_id: String,
    pub currency: String,
    /// The figure shown: the actual when there is one, else the estimate.
    pub amount: f64,
    pub source: CostSource,
    /// In words, for the table: "actual (billing data)" or "estimate
    /// (node hours × list price)".
    pub source_words: String,
}

/// The fleet's month to date in one currency (unattributed spend included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FleetCurrencyCost {
    pub currency: String,
    pub month_to_date: f64,
    /// "actual", "estimate" or "actual and estimate".
    pub source_words: String,
    /// The month-end forecast, when the history allows one.
    pub forecast: Option<CostForecastView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FleetCostView {
    /// `YYYY-MM`, the current month.
    pub month: String,
    /// Per cluster and currency, the cluster's largest currency first.
    pub clusters: Vec<FleetClusterCost>,
    /// Largest spend first.
    pub currencies: Vec<FleetCurrencyCost>,
    /// Seconds since the oldest account's last cost fetch; `None`: never.
    #[ts(type = "number | null")]
    pub data_age_secs: Option<i64>,
    pub notes: Vec<String>,
}

pub fn source_words(source: CostSource) -> &'static str {
    match source {
        CostSource::Actual => "actual (billing data)",
        CostSource::Estimate => "estimate (node hours × list price)",
    }
}

/// The Fleet screen's cost, at `now` (unix seconds), from the cache.
pub fn fleet_cost_view(store: &Store, now: i64) -> Result<FleetCostView, ViewError> {
    let (y, m, _) = civil_from_day(now.div_euclid(86_400));
    let month = format!("{y:04}-{m:02}");
    let mut clusters = Vec::new();
    // currency → (total, saw actual, saw estimate)
    let mut fleet: BTreeMap<String, (f64, bool, bool)> = BTreeMap::new();
    for row in store.cost_month_to_date(&month, None)? {
        let Some((amount, source)) = row.best() else {
            continue;
        };
        let e = fleet.entry(row.currency.clone()).or_default();
        e.0 += amount;
        e.1 |= source == CostSource::Actual;
        e.2 |= source == CostSource::Estimate;
        if let Some(id) = row.cluster_id {
            clusters.push(FleetClusterCost {
                cluster_id: id,
                currency: row.currency,
                amount,
                source,
                source_words: source_words(source).into(),
            });
        }
    }
    clusters.sort_by(|a, b| {
        a.cluster_id
            .cmp(&b.cluster_id)
            .then(b.amount.abs().total_cmp(&a.amount.abs()))
    });
    let (forecasts, mut notes) = cost_forecasts(store, now, None)?;
    let mut currencies: Vec<FleetCurrencyCost> = fleet
        .into_iter()
        .map(|(currency, (total, actual, estimate))| FleetCurrencyCost {
            forecast: forecasts.iter().find(|f| f.currency == currency).cloned(),
            source_words: match (actual, estimate) {
                (true, true) => "actual and estimate",
                (true, false) => "actual",
                _ => "estimate",
            }
            .into(),
            currency,
            month_to_date: total,
        })
        .collect();
    currencies.sort_by(|a, b| {
        b.month_to_date
            .abs()
            .total_cmp(&a.month_to_date.abs())
            .then(a.currency.cmp(&b.currency))
    });
    let data_age_secs = store.oldest_cost_fetch()?.map(|t| (now - t).max(0));
    if data_age_secs.is_none() {
        notes = vec!["cost was never fetched".into()];
    }
    Ok(FleetCostView {
        month,
        clusters,
        currencies,
        data_age_secs,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cost_series::{day_from_civil, iso_date};
    use crate::cost::{CostFetch, CostLine};
    use crate::model::{ClusterSummary, Provider};
    use crate::store::{CostWindow, CostWrite};

    const GKE: &str = "gcp/acct/europe-west1/prod";
    const EKS: &str = "aws/acct/us-east-1/eks1";

    fn write(store: &mut Store, provider: Provider, source: CostSource, lines: Vec<CostLine>) {
        let now = now();
        store
            .write_costs(&CostWrite {
                provider,
                account: "acct".into(),
                collected_at: now - 600,
                windows: vec![CostWindow {
                    source,
                    first_day: "2025-05-01".into(),
                    end_day: "2025-06-21".into(),
                }],
                lines,
                months: vec![],
                closed_days: vec![],
                fetch: CostFetch {
                    provider,
                    account: "acct".into(),
                    fetched_at: now - 600,
                    api_calls: 1,
                    pages: 1,
                    first_day: None,
                    end_day: None,
                    next_refresh_at: now,
                    reported_month_to_date: None,
                    notes: vec![],
                    error: None,
                },
            })
            .unwrap();
    }

    fn now() -> i64 {
        day_from_civil(2025, 6, 20) * 86_400 + 12 * 3600
    }

    fn line(cluster: Option<&str>, day: i64, amount: f64, source: CostSource) -> CostLine {
        CostLine {
            cluster_id: cluster.map(str::to_owned),
            day: iso_date(day),
            category: "compute".into(),
            amount,
            currency: "USD".into(),
            source,
            is_final: true,
        }
    }

    #[test]
    fn clusters_say_actual_or_estimate_and_the_fleet_adds_up_per_currency() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        let summary = |id: &str, provider| ClusterSummary {
            id: id.into(),
            provider,
            account: "acct".into(),
            name: id.rsplit('/').next().unwrap().into(),
            region: "r".into(),
            version: None,
            status: "RUNNING".into(),
            endpoint: None,
            node_pools: vec![],
            collected_at: now(),
            gone_at: None,
        };
        store
            .upsert_clusters(&[summary(GKE, Provider::Gcp), summary(EKS, Provider::Aws)])
            .unwrap();
        let days = day_from_civil(2025, 5, 1)..day_from_civil(2025, 6, 21);
        // GKE: an estimate of 10 a day; EKS: an actual of 20 a day plus
        // 1 a day not attributed to a cluster.
        let est = days
            .clone()
            .map(|d| line(Some(GKE), d, 10.0, CostSource::Estimate))
            .collect();
        write(&mut store, Provider::Gcp, CostSource::Estimate, est);
        let act = days
            .clone()
            .flat_map(|d| {
                [
                    line(Some(EKS), d, 20.0, CostSource::Actual),
                    line(None, d, 1.0, CostSource::Actual),
                ]
            })
            .collect();
        write(&mut store, Provider::Aws, CostSource::Actual, act);

        let v = fleet_cost_view(&store, now()).unwrap();
        assert_eq!(v.month, "2025-06");
        assert_eq!(store.cost_months().unwrap(), ["2025-06", "2025-05"]);
        assert_eq!(v.data_age_secs, Some(600));
        let of = |id: &str| v.clusters.iter().find(|c| c.cluster_id == id).unwrap();
        // June 1..=20: 20 days.
        assert_eq!(of(GKE).amount, 200.0);
        assert_eq!(of(GKE).source, CostSource::Estimate);
        assert!(of(GKE).source_words.starts_with("estimate"));
        assert_eq!(of(EKS).amount, 400.0);
        assert!(of(EKS).source_words.starts_with("actual"));
        assert_eq!(v.currencies.len(), 1);
        let usd = &v.currencies[0];
        assert_eq!(usd.month_to_date, 620.0);
        assert_eq!(usd.source_words, "actual and estimate");
        let f = usd
            .forecast
            .as_ref()
            .expect("a forecast from 7 weeks of history");
        // 31 a day over June's 30 days, give or take the model.
        assert!(f.total > 600.0 && f.total < 1000.0, "{f:?}");

        let empty_dir = tempfile::tempdir().unwrap();
        let empty = Store::open_in(empty_dir.path()).unwrap();
        let v = fleet_cost_view(&empty, now()).unwrap();
        assert!(v.clusters.is_empty() && v.currencies.is_empty());
        assert_eq!(v.data_age_secs, None);
        assert_eq!(v.notes, vec!["cost was never fetched".to_string()]);
        assert!(empty.cost_months().unwrap().is_empty());
    }
}
