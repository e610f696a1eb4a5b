//! What the Cost screen (and `cloudops cost --json`) receives: month to
//! date per cloud and cluster, the month-end forecast, budgets, anomalies,
//! a cluster's namespace breakdown, the suggestions the cache supports, the
//! daily chart and how old it all is (issue 7 §4).
//!
//! Amounts are never summed across currencies: every total is per
//! currency, and there is one chart per currency. Where a cluster has both
//! an actual and an estimate for a day, the actual is used (the estimate is
//! our fallback, never added on top of the bill).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ViewError;
use crate::analysis::cost_allocation::{
    allocate, CostSplit, NodeCost, WorkloadDemand, REFERENCE_CPU_HOURLY, REFERENCE_GIB_HOURLY,
};
use crate::analysis::cost_anomaly::{cost_anomalies, CostAnomalyConfig, Direction};
use crate::analysis::cost_budget::{
    daily_spend, evaluate, Budget, BudgetScope, BudgetSpend, BudgetStatus, ScopedDailyCost,
};
use crate::analysis::cost_forecast::{month_end_forecast, ForecastConfig};
use crate::analysis::cost_series::{civil_from_day, day_from_civil, iso_date, DailyCost};
use crate::charts::cost::{
    cost_chart, CostChartInput, CostChartOptions, CostSeries, ForecastDay, RenderedCostChart,
};
use crate::cost::{is_month, CostDay, CostFetch, CostSource};
use crate::model::{ClusterSummary, Provider};
use crate::store::{Store, WorkloadQuery, MAX_WORKLOAD_PAGE};

/// Days of history before the month that the forecast and the anomaly
/// baseline read (eight weeks: the anomaly check wants six same weekdays).
pub const HISTORY_DAYS: i64 = 56;

/// What the Cost screen asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostViewRequest {
    /// `YYYY-MM`; the current month when absent.
    pub month: Option<String>,
    /// The cluster whose namespace breakdown is shown.
    pub cluster: Option<String>,
}

/// Month to date of one cloud or one cluster in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostTotal {
    pub provider: Provider,
    /// `None` on a cloud's line; `Some("")` never: unattributed spend is
    /// the cloud's line minus its clusters.
    pub cluster_id: Option<String>,
    /// The cluster's name, or the cloud's name.
    pub label: String,
    pub currency: String,
    pub actual: Option<f64>,
    pub estimate: Option<f64>,
    /// What to show: the actual when there is one, else the estimate.
    pub shown: f64,
    pub shown_source: CostSource,
    /// Some clusters (or days) of this line are estimates and some actual.
    pub mixed: bool,
}

/// The fleet's month-end forecast in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostForecastView {
    pub currency: String,
    /// The last day counted as spent.
    pub through: String,
    pub spent_to_date: f64,
    pub total: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The interval's nominal coverage (0.8: 10th–90th percentile).
    pub level: f64,
    pub method: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BudgetView {
    /// The store's id (to edit or delete it).
    #[ts(type = "number | null")]
    pub id: Option<i64>,
    pub name: String,
    /// In words: "the fleet", "cloud aws", "cluster …".
    pub scope: String,
    pub amount: f64,
    pub currency: String,
    pub spent: Option<f64>,
    pub spent_pct: Option<f64>,
    pub forecast: Option<f64>,
    pub forecast_pct: Option<f64>,
    /// `ok`, `medium`, `high` or `critical` (the highest firing).
    pub status: String,
    pub messages: Vec<String>,
    /// Why the budget could not be checked (a currency mismatch, no data).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CostAnomalyView {
    pub currency: String,
    pub day: String,
    pub actual: f64,
    /// The median of the previous same weekdays.
    pub baseline: f64,
    pub change_pct: Option<f64>,
    /// `up` or `down`.
    pub direction: String,
    pub severity: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NamespaceCostView {
    pub namespace: String,
    pub cost: f64,
    pub share_pct: f64,
}

/// One cluster's daily cost split over its namespaces (Kubecost's
/// `max(request, usage)`), idle capacity as its own line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NamespaceBreakdown {
    pub cluster_id: String,
    /// The day whose cost is split.
    pub day: String,
    pub currency: String,
    pub source: CostSource,
    pub total: f64,
    pub namespaces: Vec<NamespaceCostView>,
    pub idle: f64,
    pub idle_pct: f64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SuggestionView {
    /// `right_size_requests`, `idle_node_pool` or `single_replica_no_pdb`.
    pub kind: String,
    pub cluster_id: String,
    pub target: String,
    pub summary: String,
    /// Per month, in `currency`; negative for a change that costs money.
    pub monthly_savings: f64,
    pub currency: Option<String>,
    /// The exact change, in order.
    pub commands: Vec<String>,
    pub caveats: Vec<String>,
    /// A change the UI may open in an existing dialog, when one exists and
    /// the change is safe to offer; `None`: the commands are the way.
    pub action: Option<SuggestionAction>,
}

/// What a suggestion's one click opens: the dialog of an existing action,
/// prefilled. The dialog previews and asks for confirmation; nothing is
/// written from the Cost screen itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SuggestionAction {
    /// `scale`: the deployment scale dialog.
    pub dialog: String,
    pub cluster_id: String,
    pub namespace: String,
    pub deployment: String,
    /// The replica count to prefill.
    pub replicas: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct CostChartView {
    pub currency: String,
    pub chart: RenderedCostChart,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct CostView {
    /// `YYYY-MM`.
    pub month: String,
    /// Currencies seen this month, the one with the largest spend first.
    pub currencies: Vec<String>,
    pub clouds: Vec<CostTotal>,
    pub clusters: Vec<CostTotal>,
    /// One per currency.
    pub forecasts: Vec<CostForecastView>,
    pub budgets: Vec<BudgetView>,
    pub anomalies: Vec<CostAnomalyView>,
    pub breakdown: Option<NamespaceBreakdown>,
    pub suggestions: Vec<SuggestionView>,
    /// What the suggestions could not use (inputs the cache lacks).
    pub suggestion_notes: Vec<String>,
    /// One per currency, in `currencies` order.
    pub charts: Vec<CostChartView>,
    /// The latest fetch of each account (API calls, notes, errors).
    pub fetches: Vec<CostFetch>,
    /// Σ API calls of those fetches.
    pub api_calls: u32,
    /// Seconds since the oldest account's last good fetch; `None`: never.
    #[ts(type = "number | null")]
    pub data_age_secs: Option<i64>,
    pub notes: Vec<String>,
}

pub(super) fn parse_day(s: &str) -> Option<i64> {
    let (y, m, d) = (s.get(0..4)?, s.get(5..7)?, s.get(8..10)?);
    Some(day_from_civil(
        y.parse().ok()?,
        m.parse().ok()?,
        d.parse().ok()?,
    ))
}

/// Per (provider, account, cluster, day, currency): the actual when there is
/// one, else the estimate.
pub(super) fn best_rows(days: &[CostDay]) -> Vec<CostDay> {
    let mut best: BTreeMap<(String, String, Option<String>, String, String), CostDay> =
        BTreeMap::new();
    for d in days {
        let key = (
            d.provider.as_str().to_owned(),
            d.account.clone(),
            d.cluster_id.clone(),
            d.day.clone(),
            d.currency.clone(),
        );
        match best.get(&key) {
            Some(b) if b.source == CostSource::Actual => {}
            _ => {
                best.insert(key, d.clone());
            }
        }
    }
    best.into_values().collect()
}

fn provider_label(p: Provider) -> &'static str {
    match p {
        Provider::Aws => "AWS",
        Provider::Gcp => "GCP",
        Provider::Azure => "Azure",
        Provider::DigitalOcean => "DigitalOcean",
        _ => "other",
    }
}

/// `[first day, first day of the next month)` of `YYYY-MM`, as days.
pub fn month_days(month: &str) -> Result<(String, String), ViewError> {
    let (first, next) = month_bounds_of(month)?;
    Ok((iso_date(first), iso_date(next)))
}

fn month_bounds_of(month: &str) -> Result<(i64, i64), ViewError> {
    let bad = || ViewError::BadRange(format!("{month:?} is not a YYYY-MM month"));
    if !is_month(month) {
        return Err(bad());
    }
    let first = parse_day(&format!("{month}-01")).ok_or_else(bad)?;
    let (fy, fm, _) = civil_from_day(first);
    let next = if fm == 12 {
        day_from_civil(fy + 1, 1, 1)
    } else {
        day_from_civil(fy, fm + 1, 1)
    };
    Ok((first, next))
}

/// Builds the Cost screen's data from the cache (works offline).
pub fn cost_view(store: &Store, now: i64, req: &CostViewRequest) -> Result<CostView, ViewError> {
    let today = now.div_euclid(86_400);
    let month = match &req.month {
        Some(m) => m.clone(),
        None => {
            let (y, m, _) = civil_from_day(today);
            format!("{y:04}-{m:02}")
        }
    };
    let (first, next_month) = month_bounds_of(&month)?;
    // The days shown: the month up to today (a future month shows nothing).
    let end = next_month.min(today + 1).max(first);
    let mut notes = Vec::new();
    let clusters = store.clusters(None)?;
    let names: BTreeMap<&str, &ClusterSummary> =
        clusters.iter().map(|c| (c.id.as_str(), c)).collect();

    let history =
        best_rows(&store.cost_days(&iso_date(first - HISTORY_DAYS), &iso_date(end), None)?);
    let month_rows: Vec<&CostDay> = history
        .iter()
        .filter(|d| parse_day(&d.day).is_some_and(|x| x >= first && x < end))
        .collect();

    let (cloud_totals, cluster_totals) = totals(&store.cost_month_to_date(&month, None)?, &names);
    let currencies = currencies_by_spend(&month_rows);
    if currencies.len() > 1 {
        notes.push(format!(
            "Spend is in {} currencies ({}); totals, forecasts and charts are per currency, never added up.",
            currencies.len(),
            currencies.join(", ")
        ));
    }

    let mut forecasts = Vec::new();
    let mut anomalies = Vec::new();
    let mut charts = Vec::new();
    for cur in &currencies {
        // Today is still being billed: a partial day would drag the
        // forecast and look like a drop, so both read up to yesterday
        // (today is then forecast), unless today is all the month has.
        let mut fleet = daily_totals(history.iter().filter(|d| &d.currency == cur));
        if fleet.iter().any(|d| d.day >= first && d.day < today) {
            fleet.retain(|d| d.day < today);
        }
        let in_month: Vec<DailyCost> = fleet.iter().copied().filter(|d| d.day >= first).collect();
        let mut forecast_days = Vec::new();
        if !in_month.is_empty() {
            match month_end_forecast(&fleet, &ForecastConfig::default()) {
                Ok(f) if f.month_first_day == first => {
                    forecast_days = f
                        .days
                        .iter()
                        // The chart already draws today (partial) as spent.
                        .filter(|d| d.day >= end && d.day < next_month)
                        .map(|d| ForecastDay {
                            day: iso_date(d.day),
                            low: d.low.unwrap_or(d.value),
                            mid: d.value,
                            high: d.high.unwrap_or(d.value),
                        })
                        .collect();
                    forecasts.push(CostForecastView {
                        currency: cur.clone(),
                        through: iso_date(f.through),
                        spent_to_date: f.actual_to_date + f.filled_to_date,
                        total: f.total,
                        low: f.low,
                        high: f.high,
                        level: f.level,
                        method: format!("{:?}", f.method),
                        notes: f.notes,
                    });
                }
                Ok(_) => {}
                Err(e) => notes.push(format!("No {cur} forecast: {e}")),
            }
        }
        match cost_anomalies(&fleet, &CostAnomalyConfig::default()) {
            Ok(r) => {
                anomalies.extend(r.anomalies.into_iter().filter(|a| a.day >= first).map(|a| {
                    CostAnomalyView {
                        currency: cur.clone(),
                        day: iso_date(a.day),
                        actual: a.actual,
                        baseline: a.baseline,
                        change_pct: a.change_pct,
                        direction: match a.direction {
                            Direction::Up => "up".into(),
                            Direction::Down => "down".into(),
                        },
                        severity: format!("{:?}", a.severity).to_lowercase(),
                    }
                }))
            }
            Err(e) => notes.push(format!("Cost anomalies not checked: {e}")),
        }
        let rows: Vec<&CostDay> = month_rows
            .iter()
            .copied()
            .filter(|d| &d.currency == cur)
            .collect();
        charts.push(CostChartView {
            currency: cur.clone(),
            chart: chart_for(cur, &rows, first, end, forecast_days)?,
        });
    }

    let budgets = budget_views(store, &history, first, &names)?;
    let breakdown = match &req.cluster {
        Some(c) => {
            if !names.contains_key(c.as_str()) {
                return Err(ViewError::UnknownCluster(c.clone()));
            }
            breakdown(store, c, &month_rows)?
        }
        None => None,
    };
    let (suggestions, suggestion_notes) =
        super::cost_suggestions::suggestion_views(store, &clusters, &month_rows, now)?;
    let fetches = store.cost_fetches()?;
    let api_calls = fetches.iter().map(|f| f.api_calls).sum();
    let data_age_secs = store.oldest_cost_fetch()?.map(|t| (now - t).max(0));
    if data_age_secs.is_none() {
        notes.push("Cost was never fetched: refresh to load it.".into());
    }
    Ok(CostView {
        month,
        currencies,
        clouds: cloud_totals,
        clusters: cluster_totals,
        forecasts,
        budgets,
        anomalies,
        breakdown,
        suggestions,
        suggestion_notes,
        charts,
        fetches,
        api_calls,
        data_age_secs,
        notes,
    })
}

pub(super) fn currencies_by_spend(rows: &[&CostDay]) -> Vec<String> {
    let mut by: BTreeMap<&str, f64> = BTreeMap::new();
    for r in rows {
        *by.entry(r.currency.as_str()).or_default() += r.amount.abs();
    }
    let mut v: Vec<(&str, f64)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter().map(|(c, _)| c.to_owned()).collect()
}

pub(super) fn daily_totals<'a>(rows: impl Iterator<Item = &'a CostDay>) -> Vec<DailyCost> {
    let mut by: BTreeMap<i64, f64> = BTreeMap::new();
    for r in rows {
        if let Some(d) = parse_day(&r.day) {
            *by.entry(d).or_default() += r.amount;
        }
    }
    by.into_iter()
        .map(|(day, amount)| DailyCost { day, amount })
        .collect()
}

/// A cloud's running sums: actual, estimate, shown, any actual, any estimate.
type CloudSums = (Option<f64>, Option<f64>, f64, bool, bool);

fn totals(
    mtd: &[crate::cost::CostMonthToDate],
    names: &BTreeMap<&str, &ClusterSummary>,
) -> (Vec<CostTotal>, Vec<CostTotal>) {
    let mut clouds: BTreeMap<(Provider, String), CloudSums> = BTreeMap::new();
    let mut clusters = Vec::new();
    for m in mtd {
        let Some((shown, source)) = m.best() else {
            continue;
        };
        let e = clouds.entry((m.provider, m.currency.clone())).or_default();
        let add = |slot: &mut Option<f64>, v: Option<f64>| {
            if let Some(v) = v {
                *slot = Some(slot.unwrap_or(0.0) + v);
            }
        };
        add(&mut e.0, m.actual);
        add(&mut e.1, m.estimate);
        e.2 += shown;
        e.3 |= source == CostSource::Actual;
        e.4 |= source == CostSource::Estimate;
        if let Some(id) = &m.cluster_id {
            clusters.push(CostTotal {
                provider: m.provider,
                cluster_id: Some(id.clone()),
                label: names
                    .get(id.as_str())
                    .map_or_else(|| id.clone(), |c| c.name.clone()),
                currency: m.currency.clone(),
                actual: m.actual,
                estimate: m.estimate,
                shown,
                shown_source: source,
                mixed: false,
            });
        }
    }
    let clouds = clouds
        .into_iter()
        .map(
            |((provider, currency), (actual, estimate, shown, a, e))| CostTotal {
                provider,
                cluster_id: None,
                label: provider_label(provider).into(),
                currency,
                actual,
                estimate,
                shown,
                shown_source: if a {
                    CostSource::Actual
                } else {
                    CostSource::Estimate
                },
                mixed: a && e,
            },
        )
        .collect();
    (clouds, clusters)
}

fn chart_for(
    currency: &str,
    rows: &[&CostDay],
    first: i64,
    end: i64,
    forecast: Vec<ForecastDay>,
) -> Result<RenderedCostChart, ViewError> {
    let days: Vec<String> = (first..end).map(iso_date).collect();
    // A series per cloud and source: an estimate is never drawn as a bill.
    let mut series: BTreeMap<(Provider, CostSource), Vec<f64>> = BTreeMap::new();
    for r in rows {
        let Some(i) = parse_day(&r.day).map(|d| (d - first) as usize) else {
            continue;
        };
        let v = series
            .entry((r.provider, r.source))
            .or_insert_with(|| vec![0.0; days.len()]);
        if let Some(slot) = v.get_mut(i) {
            *slot += r.amount;
        }
    }
    let input = CostChartInput {
        days,
        series: series
            .into_iter()
            .map(|((p, s), values)| CostSeries {
                label: provider_label(p).into(),
                values,
                estimate: s == CostSource::Estimate,
            })
            .collect(),
        currency: currency.to_owned(),
        forecast,
    };
    Ok(cost_chart(&input, &CostChartOptions::default())?)
}

/// One budget checked against the cached spend of one month: its status, or
/// why it could not be checked, and notes on its scope.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetCheck {
    pub budget: Budget,
    pub status: Result<BudgetStatus, String>,
    pub notes: Vec<String>,
}

/// Every saved budget against the month starting on `first`, from the
/// cached daily rows (actual over estimate) in `history`. The Cost screen
/// and the budget alerts both read this, so they cannot disagree.
fn budget_checks(
    store: &Store,
    history: &[CostDay],
    first: i64,
    names: &BTreeMap<&str, &ClusterSummary>,
) -> Result<Vec<BudgetCheck>, ViewError> {
    let scoped: Vec<ScopedDailyCost> = history
        .iter()
        .filter_map(|d| {
            Some(ScopedDailyCost {
                cloud: d.provider.as_str().to_owned(),
                cluster_id: d.cluster_id.clone().unwrap_or_default(),
                // Tags are not in the cost cache yet: tag budgets see no spend.
                tags: BTreeMap::new(),
                day: parse_day(&d.day)?,
                amount: d.amount,
                currency: d.currency.clone(),
            })
        })
        .collect();
    let mut out = Vec::new();
    for b in store.budgets()? {
        let mut notes = Vec::new();
        if let BudgetScope::Cluster { cluster_id } = &b.scope {
            if !names.contains_key(cluster_id.as_str()) {
                notes.push(format!("cluster {cluster_id} is not in the fleet"));
            }
        }
        let status = daily_spend(&b, &scoped)
            .map_err(|e| e.to_string())
            .and_then(|daily| {
                if !daily.iter().any(|d| d.day >= first) {
                    return Err("no spend in this month yet".to_owned());
                }
                let f = month_end_forecast(&daily, &ForecastConfig::default())
                    .map_err(|e| e.to_string())?;
                evaluate(&b, &BudgetSpend::from_forecast(&f, &b.currency))
                    .map_err(|e| e.to_string())
            });
        out.push(BudgetCheck {
            budget: b,
            status,
            notes,
        });
    }
    Ok(out)
}

/// The budgets checked against the month holding `now` (unix seconds):
/// the month (`YYYY-MM`) and one check per budget.
pub fn current_budget_checks(
    store: &Store,
    now: i64,
) -> Result<(String, Vec<BudgetCheck>), ViewError> {
    let today = now.div_euclid(86_400);
    let (y, m, _) = civil_from_day(today);
    let month = format!("{y:04}-{m:02}");
    let (first, _) = month_bounds_of(&month)?;
    let clusters = store.clusters(None)?;
    let names: BTreeMap<&str, &ClusterSummary> =
        clusters.iter().map(|c| (c.id.as_str(), c)).collect();
    let history =
        best_rows(&store.cost_days(&iso_date(first - HISTORY_DAYS), &iso_date(today + 1), None)?);
    let checks = budget_checks(store, &history, first, &names)?;
    Ok((month, checks))
}

/// The Cost screen's line for one checked budget.
pub fn budget_view(c: &BudgetCheck) -> BudgetView {
    let b = &c.budget;
    let mut v = BudgetView {
        id: b.id,
        name: b.name.clone(),
        scope: b.scope.describe(),
        amount: b.amount,
        currency: b.currency.clone(),
        spent: None,
        spent_pct: None,
        forecast: None,
        forecast_pct: None,
        status: "ok".into(),
        messages: c.notes.clone(),
        error: None,
    };
    match &c.status {
        Ok(s) => {
            v.spent = Some(s.actual_to_date);
            v.spent_pct = Some(s.actual_pct);
            v.forecast = s.forecast_total;
            v.forecast_pct = s.forecast_pct;
            if let Some(top) = s.firings.iter().map(|f| f.severity).max() {
                v.status = format!("{top:?}").to_lowercase();
            }
            v.messages
                .extend(s.firings.iter().map(|f| f.message.clone()));
        }
        Err(e) => v.error = Some(e.clone()),
    }
    v
}

fn budget_views(
    store: &Store,
    history: &[CostDay],
    first: i64,
    names: &BTreeMap<&str, &ClusterSummary>,
) -> Result<Vec<BudgetView>, ViewError> {
    Ok(budget_checks(store, history, first, names)?
        .iter()
        .map(budget_view)
        .collect())
}

/// The node weight a cluster's daily cost is spread by: its capacity at the
/// reference unit prices (the same split the allocation uses).
fn capacity_weight(cpu_cores: f64, memory_bytes: f64) -> f64 {
    let gib = 1024.0 * 1024.0 * 1024.0;
    cpu_cores.max(0.0) * REFERENCE_CPU_HOURLY + memory_bytes.max(0.0) / gib * REFERENCE_GIB_HOURLY
}

pub(super) struct PricedNodes {
    pub(super) nodes: Vec<NodeCost>,
    pub(super) day: String,
    pub(super) currency: String,
    pub(super) source: CostSource,
}

/// The cluster's nodes with the last day's cost spread over them, or why not.
pub(super) fn priced_nodes(
    store: &Store,
    cluster: &str,
    month_rows: &[&CostDay],
) -> Result<Result<PricedNodes, String>, ViewError> {
    let Some(last) = month_rows
        .iter()
        .filter(|d| d.cluster_id.as_deref() == Some(cluster))
        .max_by(|a, b| a.day.cmp(&b.day))
    else {
        return Ok(Err("no cost for this cluster in the month".into()));
    };
    let day_rows: Vec<&&CostDay> = month_rows
        .iter()
        .filter(|d| d.cluster_id.as_deref() == Some(cluster) && d.day == last.day)
        .collect();
    if day_rows.iter().any(|d| d.currency != last.currency) {
        return Ok(Err(format!(
            "{} has more than one currency; not split",
            last.day
        )));
    }
    let cost: f64 = day_rows.iter().map(|d| d.amount).sum();
    let nodes = store.cluster_nodes(cluster)?;
    let weights: Vec<f64> = nodes
        .iter()
        .map(|n| capacity_weight(n.allocatable_cpu_cores, n.allocatable_memory_bytes))
        .collect();
    let total_w: f64 = weights.iter().sum();
    if nodes.is_empty() || total_w <= 0.0 {
        return Ok(Err("no nodes with capacity in the cache".into()));
    }
    if !(cost.is_finite() && cost >= 0.0) {
        return Ok(Err(format!("{} is a net credit; not split", last.day)));
    }
    let priced = nodes
        .iter()
        .zip(&weights)
        .map(|(n, w)| NodeCost::from_state(n, cost * w / total_w))
        .collect();
    Ok(Ok(PricedNodes {
        nodes: priced,
        day: last.day.clone(),
        currency: last.currency.clone(),
        source: last.source,
    }))
}

fn breakdown(
    store: &Store,
    cluster: &str,
    month_rows: &[&CostDay],
) -> Result<Option<NamespaceBreakdown>, ViewError> {
    let PricedNodes {
        nodes,
        day,
        currency,
        source,
    } = match priced_nodes(store, cluster, month_rows)? {
        Ok(p) => p,
        Err(why) => {
            return Ok(Some(NamespaceBreakdown {
                cluster_id: cluster.to_owned(),
                day: String::new(),
                currency: String::new(),
                source: CostSource::Estimate,
                total: 0.0,
                namespaces: Vec::new(),
                idle: 0.0,
                idle_pct: 0.0,
                notes: vec![why],
            }))
        }
    };
    let page = store.workloads(&WorkloadQuery {
        cluster: Some(cluster.to_owned()),
        limit: MAX_WORKLOAD_PAGE,
        ..Default::default()
    })?;
    let demands: Vec<WorkloadDemand> = page.rows.iter().map(WorkloadDemand::from_row).collect();
    let Ok(a) = allocate(&nodes, &demands, CostSplit::Reference) else {
        // Node costs are finite and ≥ 0 by construction above.
        return Ok(None);
    };
    let pct = |v: f64| {
        if a.total_cost > 0.0 {
            100.0 * v / a.total_cost
        } else {
            0.0
        }
    };
    let mut notes = vec![
        "The day's cost is spread over the nodes by capacity, then split by max(request, usage) \
         at collection time."
            .to_owned(),
    ];
    if page.total > u64::from(MAX_WORKLOAD_PAGE) {
        notes.push(format!(
            "Only the first {MAX_WORKLOAD_PAGE} of {} workloads are counted.",
            page.total
        ));
    }
    notes.extend(a.warnings.iter().cloned());
    Ok(Some(NamespaceBreakdown {
        cluster_id: cluster.to_owned(),
        day,
        currency,
        source,
        total: a.total_cost,
        namespaces: a
            .namespaces
            .iter()
            .map(|n| NamespaceCostView {
                namespace: n.namespace.clone(),
                cost: n.cost,
                share_pct: pct(n.cost),
            })
            .collect(),
        idle: a.idle.cost,
        idle_pct: pct(a.idle.cost),
        notes,
    }))
}

#[cfg(test)]
#[path = "cost_tests.rs"]
mod tests;
