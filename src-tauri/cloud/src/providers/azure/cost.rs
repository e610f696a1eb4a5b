//! AKS cost: the Cost Management query API (`2025-03-01`), ActualCost,
//! daily, grouped by resource group, per subscription (BRIEF §4).
//!
//! The answer is a table whose column order is not promised, so every
//! column is found by name. A cluster's cost is its node resource group
//! (`MC_*`, where AKS puts the VMs, disks and load balancers) plus an equal
//! share of its own resource group among the clusters in it; every other
//! resource group is the subscription's unallocated spend. Cost Management
//! may revise a day for up to 72 hours, so days close after
//! [`CLOSED_AFTER_DAYS`].

use std::collections::{BTreeMap, BTreeSet};

use cloudops_core::{
    cost::{CostLine, CostSource},
    model::ClusterSummary,
};
use jiff::civil::Date;
use reqwest::Method;
use serde_json::Value;

use super::{AzureProvider, Provider as _, KIND};
use crate::{
    cost::{parse_day, CostReport, CostRequest, PageGuard},
    error::ProviderError,
    wire::arm::{
        CostQuery, CostQueryAggregation, CostQueryDataset, CostQueryGrouping, CostQueryProperties,
        CostQueryResult, CostQueryTimePeriod, ManagedCluster, COST_API_VERSION,
    },
};

pub const CLOSED_AFTER_DAYS: i64 = 3;
const MAX_PAGES: u32 = 500;
/// Names the cost column may have, by query type and billing currency.
const COST_COLUMNS: [&str; 4] = ["Cost", "PreTaxCost", "CostUSD", "PreTaxCostUSD"];
const GROUP_COLUMNS: [&str; 2] = ["ResourceGroupName", "ResourceGroup"];

/// One row of the answer, read by column name.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    pub day: Date,
    pub resource_group: String,
    pub amount: f64,
    pub currency: String,
}

fn decode(what: &str, detail: impl Into<String>) -> ProviderError {
    ProviderError::Decode {
        provider: KIND,
        what: what.to_owned(),
        detail: detail.into(),
    }
}

fn find(props: &CostQueryProperties, names: &[&str]) -> Option<(usize, String)> {
    names
        .iter()
        .find_map(|n| props.column(n).map(|i| (i, props.columns[i].name.clone())))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

/// The rows of one answer, every cell found through its column's name.
pub fn parse_cost_rows(
    props: &CostQueryProperties,
    what: &str,
) -> Result<Vec<CostRow>, ProviderError> {
    let names = || {
        props
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (cost, cost_name) = find(props, &COST_COLUMNS).ok_or_else(|| {
        decode(
            what,
            format!(
                "no cost column (one of {COST_COLUMNS:?}); columns: {}",
                names()
            ),
        )
    })?;
    let (group, _) = find(props, &GROUP_COLUMNS).ok_or_else(|| {
        decode(
            what,
            format!("no resource-group column; columns: {}", names()),
        )
    })?;
    let (date, _) = find(props, &["UsageDate"]).ok_or_else(|| {
        decode(
            what,
            format!("no UsageDate column (daily query); columns: {}", names()),
        )
    })?;
    let currency_col = find(props, &["Currency", "BillingCurrency"]).map(|(i, _)| i);
    // `CostUSD` is in USD by definition; any other cost column needs the
    // currency column, or amounts of different currencies could be added.
    let fixed_currency = cost_name
        .to_ascii_uppercase()
        .ends_with("USD")
        .then(|| "USD".to_owned());
    let mut out = Vec::with_capacity(props.rows.len());
    for (i, row) in props.rows.iter().enumerate() {
        let bad = |field: &str| {
            decode(
                what,
                format!("row {i}: {field} is missing or of the wrong type"),
            )
        };
        let amount = row
            .get(cost)
            .and_then(number)
            .ok_or_else(|| bad(&cost_name))?;
        let resource_group = row
            .get(group)
            .and_then(Value::as_str)
            .ok_or_else(|| bad("the resource group"))?
            .to_owned();
        let day = row
            .get(date)
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64().map(|n| n.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .and_then(|s| parse_day(&s))
            .ok_or_else(|| bad("UsageDate"))?;
        let currency = match (&fixed_currency, currency_col) {
            (Some(c), _) => c.clone(),
            (None, Some(c)) => row
                .get(c)
                .and_then(Value::as_str)
                .map(|s| s.trim().to_ascii_uppercase())
                .filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()))
                .ok_or_else(|| bad("Currency"))?,
            (None, None) => {
                return Err(decode(
                    what,
                    "no Currency column: amounts cannot be labelled",
                ))
            }
        };
        out.push(CostRow {
            day,
            resource_group,
            amount,
            currency,
        });
    }
    Ok(out)
}

/// `…/resourceGroups/{rg}/…` of an ARM id.
fn resource_group_of(id: &str) -> Option<&str> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("resourceGroups") {
            return parts.next();
        }
    }
    None
}

/// Where a resource group's cost goes: `(cluster id or None, category, share)`.
pub(crate) fn allocation(
    account: &str,
    clusters: &[ManagedCluster],
) -> BTreeMap<String, Vec<(Option<String>, String, f64)>> {
    let mut by_group: BTreeMap<String, Vec<(Option<String>, String, f64)>> = BTreeMap::new();
    let id_of = |c: &ManagedCluster| ClusterSummary::make_id(KIND, account, &c.location, &c.name);
    let mut own: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in clusters {
        if let Some(node_rg) = &c.properties.node_resource_group {
            by_group
                .entry(node_rg.to_ascii_lowercase())
                .or_default()
                .push((Some(id_of(c)), "node resource group".into(), 1.0));
        }
        if let Some(rg) = resource_group_of(&c.id) {
            own.entry(rg.to_ascii_lowercase())
                .or_default()
                .push(id_of(c));
        }
    }
    for (rg, ids) in own {
        let share = 1.0 / ids.len() as f64;
        let entry = by_group.entry(rg).or_default();
        // A group that is both a node group and a cluster's own group (not
        // something AKS does) keeps the node-group meaning.
        if entry.is_empty() {
            for id in ids {
                entry.push((Some(id), "resource group share".into(), share));
            }
        }
    }
    by_group
}

impl AzureProvider {
    /// One subscription's query, every page, in rows.
    async fn cost_rows(
        &self,
        subscription: &str,
        req: &CostRequest,
    ) -> Result<(Vec<CostRow>, u32), ProviderError> {
        let last = req.end_day.yesterday().unwrap_or(req.first_day);
        let body = CostQuery {
            kind: "ActualCost".into(),
            timeframe: "Custom".into(),
            time_period: Some(CostQueryTimePeriod {
                from: format!("{}T00:00:00+00:00", req.first_day),
                to: format!("{last}T23:59:59+00:00"),
            }),
            dataset: CostQueryDataset {
                granularity: Some("Daily".into()),
                aggregation: Some(BTreeMap::from([(
                    "totalCost".to_owned(),
                    CostQueryAggregation {
                        name: "Cost".into(),
                        function: "Sum".into(),
                    },
                )])),
                grouping: Some(vec![CostQueryGrouping {
                    kind: "Dimension".into(),
                    name: "ResourceGroupName".into(),
                }]),
                filter: None,
            },
        };
        let what = format!("the cost query of subscription {subscription}");
        let mut url = format!(
            "{}?api-version={COST_API_VERSION}",
            self.rest.url(&format!(
                "/subscriptions/{subscription}/providers/Microsoft.CostManagement/query"
            ))
        );
        let mut guard = PageGuard::new(KIND, what.clone(), MAX_PAGES);
        let mut rows = Vec::new();
        loop {
            let page: CostQueryResult = self
                .rest
                .send(Method::POST, &url, Some(&body), &what)
                .await?
                .body;
            guard.page()?;
            rows.extend(parse_cost_rows(&page.properties, &what)?);
            match page.properties.next_link.filter(|l| !l.is_empty()) {
                Some(next) => {
                    guard.next(&next)?;
                    url = self.follow(&next)?;
                }
                None => return Ok((rows, guard.pages())),
            }
        }
    }

    pub(super) async fn cost_by_resource_group(
        &self,
        req: &CostRequest,
    ) -> Result<CostReport, ProviderError> {
        let mut report = CostReport {
            windows: vec![req.window(CostSource::Actual)],
            ..CostReport::default()
        };
        let mut outside = BTreeSet::new();
        for scope in self.scopes().await? {
            let (clusters, list_calls) = self.managed_clusters(&scope.id).await?;
            let (rows, pages) = self.cost_rows(&scope.id, req).await?;
            report.api_calls += list_calls + pages;
            report.pages += pages;
            let alloc = allocation(&self.account, &clusters);
            for row in rows {
                if !req.contains(row.day) {
                    outside.insert(row.day);
                    continue;
                }
                let targets = alloc.get(&row.resource_group.to_ascii_lowercase());
                let mut push = |cluster_id: Option<String>, category: String, amount: f64| {
                    report.lines.push(CostLine {
                        cluster_id,
                        day: row.day.to_string(),
                        category,
                        amount,
                        currency: row.currency.clone(),
                        source: CostSource::Actual,
                        is_final: false,
                    });
                };
                match targets {
                    Some(t) if !t.is_empty() => {
                        for (id, category, share) in t {
                            push(id.clone(), category.clone(), row.amount * share);
                        }
                    }
                    _ => push(
                        None,
                        format!("resource group {}", row.resource_group),
                        row.amount,
                    ),
                }
            }
        }
        if !outside.is_empty() {
            report.notes.push(format!(
                "Cost Management returned {} day(s) outside the requested range; left out",
                outside.len()
            ));
        }
        // A day with no rows had no cost: it closes like any other.
        report.close_days_before(req, CostSource::Actual, CLOSED_AFTER_DAYS);
        let closed: BTreeSet<&str> = report.closed_days.iter().map(|(_, d)| d.as_str()).collect();
        let finals: Vec<bool> = report
            .lines
            .iter()
            .map(|l| closed.contains(l.day.as_str()))
            .collect();
        for (l, f) in report.lines.iter_mut().zip(finals) {
            l.is_final = f;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_group_of_an_arm_id() {
        assert_eq!(
            resource_group_of("/subscriptions/s/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters/c"),
            Some("rg-1")
        );
        assert_eq!(resource_group_of("/subscriptions/s"), None);
    }

    #[test]
    fn rows_with_a_wrong_cell_are_an_error_not_a_panic() {
        let props: CostQueryProperties = serde_json::from_value(json!({
            "columns": [{"name": "Cost", "type": "Number"}, {"name": "ResourceGroupName", "type": "String"},
                        {"name": "UsageDate", "type": "Number"}, {"name": "Currency", "type": "String"}],
            "rows": [[1.5, "rg", "not a date", "USD"]]
        }))
        .unwrap();
        let err = parse_cost_rows(&props, "q").unwrap_err();
        assert!(err.to_string().contains("UsageDate"), "{err}");
    }
}
