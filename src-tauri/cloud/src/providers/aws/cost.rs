//! EKS cost: Cost Explorer GetCostAndUsage, DAILY, `UnblendedCost`, grouped
//! by the `eks:cluster-name` cost-allocation tag and by SERVICE (BRIEF §4).
//!
//! Each page is billed ($0.01), so the refresh asks only for the days not
//! yet closed (`crate::cost::refresh`) and every page is counted. Cost
//! Explorer revises a day for a while after it ends (and marks it
//! `Estimated`), so a day is closed only when it is not `Estimated` and at
//! least [`CLOSED_AFTER_DAYS`] old. When the tag returns nothing (it is not
//! activated in Billing → Cost allocation tags), the cost stays as the
//! account's unallocated actual and each cluster gets a node-hour estimate.

use std::collections::BTreeSet;

use aws_sdk_costexplorer::{
    config::{retry::RetryConfig, BehaviorVersion, Region},
    types::{DateInterval, Granularity, GroupDefinition, GroupDefinitionType, ResultByTime},
    Client,
};
use cloudops_core::cost::{CostLine, CostSource};
use jiff::{civil::Date, ToSpan as _};

use super::{sdk_error, AwsProvider, KIND};
use crate::{
    cost::{
        cluster_by_name, estimate_report, parse_day, prices, CostReport, CostRequest, PageGuard,
    },
    error::ProviderError,
    resilience,
};

/// The tag EKS puts on its nodes and that Cost Explorer groups by.
pub const CLUSTER_TAG: &str = "eks:cluster-name";
const METRIC: &str = "UnblendedCost";
/// Cost Explorer is served from us-east-1 for the whole account.
const CE_REGION: &str = "us-east-1";
const MAX_PAGES: u32 = 200;
/// Days Cost Explorer may still revise a day after it ended.
pub const CLOSED_AFTER_DAYS: i64 = 3;

fn decode(what: &str, detail: impl Into<String>) -> ProviderError {
    ProviderError::Decode {
        provider: KIND,
        what: what.to_owned(),
        detail: detail.into(),
    }
}

/// Daily lines out of Cost Explorer's results, and what they said about
/// each day.
#[derive(Debug, Default)]
pub(crate) struct ParsedResults {
    pub lines: Vec<CostLine>,
    /// Some group carried a non-empty `eks:cluster-name` value.
    pub tagged: bool,
    /// Days that came back, and those still `Estimated`.
    pub days_seen: BTreeSet<Date>,
    pub days_estimated: BTreeSet<Date>,
    pub notes: Vec<String>,
}

/// Splits a group's keys into the tag value (`eks:cluster-name$prod`;
/// `eks:cluster-name$` is untagged spend) and the service.
fn split_keys(keys: &[String]) -> (Option<String>, String) {
    let prefix = format!("{CLUSTER_TAG}$");
    let mut tag = None;
    let mut service = String::new();
    for k in keys {
        match k.strip_prefix(&prefix) {
            Some(v) => tag = Some(v.to_owned()).filter(|v| !v.is_empty()),
            None => service = k.clone(),
        }
    }
    (tag, service)
}

fn amount_of(
    metrics: Option<&std::collections::HashMap<String, aws_sdk_costexplorer::types::MetricValue>>,
    what: &str,
) -> Result<Option<(f64, String)>, ProviderError> {
    let Some(m) = metrics.and_then(|m| m.get(METRIC)) else {
        return Ok(None);
    };
    let raw = m.amount().unwrap_or("0");
    let amount: f64 = raw
        .trim()
        .parse()
        .ok()
        .filter(|a: &f64| a.is_finite())
        .ok_or_else(|| decode(what, format!("the {METRIC} amount {raw:?} is not a number")))?;
    let unit = m.unit().unwrap_or("USD").trim().to_owned();
    if unit.len() != 3 || !unit.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(decode(
            what,
            format!("the unit {unit:?} is not a currency code"),
        ));
    }
    Ok(Some((amount, unit)))
}

/// Parses every period of every page. Periods outside the request are
/// left out (with a note): the cache only takes the days it asked for.
pub(crate) fn parse_results(
    results: &[ResultByTime],
    req: &CostRequest,
) -> Result<ParsedResults, ProviderError> {
    let mut out = ParsedResults::default();
    let mut outside = BTreeSet::new();
    let mut ambiguous = BTreeSet::new();
    for period in results {
        let start = period.time_period().map(|p| p.start()).unwrap_or_default();
        let what = format!("GetCostAndUsage period {start:?}");
        let day = parse_day(start).ok_or_else(|| decode(&what, "the period has no valid Start"))?;
        if !req.contains(day) {
            outside.insert(day.to_string());
            continue;
        }
        out.days_seen.insert(day);
        if period.estimated() {
            out.days_estimated.insert(day);
        }
        let mut push =
            |cluster_id: Option<String>, category: String, amount: f64, currency: String| {
                out.lines.push(CostLine {
                    cluster_id,
                    day: day.to_string(),
                    category,
                    amount,
                    currency,
                    source: CostSource::Actual,
                    is_final: false,
                });
            };
        if period.groups().is_empty() {
            // Ungrouped (or an account with no cost at all): the total.
            if let Some((amount, currency)) = amount_of(period.total(), &what)? {
                if amount != 0.0 {
                    push(None, "total".into(), amount, currency);
                }
            }
            continue;
        }
        for g in period.groups() {
            let (tag, service) = split_keys(g.keys());
            let Some((amount, currency)) = amount_of(g.metrics(), &what)? else {
                return Err(decode(
                    &what,
                    format!("a group {:?} has no {METRIC}", g.keys()),
                ));
            };
            let cluster_id = match &tag {
                Some(name) => {
                    out.tagged = true;
                    let found = cluster_by_name(&req.clusters, name).map(|c| c.id.clone());
                    if found.is_none() {
                        ambiguous.insert(name.clone());
                    }
                    found
                }
                None => None,
            };
            let category = match (&tag, cluster_id.is_some()) {
                // Keep the tag value on spend we could not place, so the
                // user sees which cluster it was.
                (Some(name), false) => format!("{CLUSTER_TAG}={name}: {service}"),
                _ if service.is_empty() => "total".into(),
                _ => service,
            };
            push(cluster_id, category, amount, currency);
        }
    }
    if !outside.is_empty() {
        out.notes.push(format!(
            "Cost Explorer returned {} day(s) outside the requested range; left out",
            outside.len()
        ));
    }
    if !ambiguous.is_empty() {
        out.notes.push(format!(
            "tagged cost of cluster(s) not in the cache, or named alike in two regions, kept unallocated: {}",
            ambiguous.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(out)
}

impl AwsProvider {
    fn cost_client(&self) -> Client {
        let mut conf = aws_sdk_costexplorer::config::Builder::from(&self.sdk)
            .region(Region::new(CE_REGION))
            .retry_config(RetryConfig::disabled());
        if self.sdk.behavior_version().is_none() {
            conf = conf.behavior_version(BehaviorVersion::latest());
        }
        if let Some(url) = &self.endpoint_override {
            conf = conf.endpoint_url(url.as_str().trim_end_matches('/'));
        }
        Client::from_conf(conf.build())
    }

    fn cost_endpoint(&self) -> String {
        match &self.endpoint_override {
            Some(url) => format!("{} (Cost Explorer)", url.as_str().trim_end_matches('/')),
            None => format!("https://ce.{CE_REGION}.amazonaws.com"),
        }
    }

    pub(super) async fn cost_and_usage(
        &self,
        req: &CostRequest,
    ) -> Result<CostReport, ProviderError> {
        let client = self.cost_client();
        let endpoint = self.cost_endpoint();
        let period = DateInterval::builder()
            .start(req.first_day.to_string())
            .end(req.end_day.to_string())
            .build()
            .map_err(|e| decode("GetCostAndUsage", e.to_string()))?;
        let mut guard = PageGuard::new(KIND, "GetCostAndUsage", MAX_PAGES);
        let mut results = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let site = sdk_error::CallSite {
                op: "GetCostAndUsage",
                region: CE_REGION,
                what: format!("{} to {}", req.first_day, req.end_day),
                endpoint: &endpoint,
                timeout: self.policy.timeout,
            };
            let site = &site;
            let send = || {
                client
                    .get_cost_and_usage()
                    .time_period(period.clone())
                    .granularity(Granularity::Daily)
                    .metrics(METRIC)
                    .group_by(
                        GroupDefinition::builder()
                            .r#type(GroupDefinitionType::Tag)
                            .key(CLUSTER_TAG)
                            .build(),
                    )
                    .group_by(
                        GroupDefinition::builder()
                            .r#type(GroupDefinitionType::Dimension)
                            .key("SERVICE")
                            .build(),
                    )
                    .set_next_page_token(token.clone())
                    .send()
            };
            let page = resilience::call(&self.policy, &self.breakers, KIND, &endpoint, || async {
                send().await.map_err(|e| sdk_error::map(e, site))
            })
            .await?;
            guard.page()?;
            results.extend(page.results_by_time().iter().cloned());
            match page.next_page_token().filter(|t| !t.is_empty()) {
                Some(next) => {
                    guard.next(next)?;
                    token = Some(next.to_owned());
                }
                None => break,
            }
        }
        let parsed = parse_results(&results, req)?;
        Ok(self.report_from(req, parsed, guard.pages()))
    }

    fn report_from(&self, req: &CostRequest, parsed: ParsedResults, pages: u32) -> CostReport {
        let closable = req
            .today()
            .checked_sub(CLOSED_AFTER_DAYS.days())
            .unwrap_or(req.first_day);
        let closed: BTreeSet<Date> = parsed
            .days_seen
            .iter()
            .filter(|d| **d < closable && !parsed.days_estimated.contains(d))
            .copied()
            .collect();
        let mut lines = parsed.lines;
        for l in &mut lines {
            l.is_final = parse_day(&l.day).is_some_and(|d| closed.contains(&d));
        }
        let mut report = CostReport {
            lines,
            windows: vec![
                req.window(CostSource::Actual),
                req.window(CostSource::Estimate),
            ],
            closed_days: closed
                .iter()
                .map(|d| (CostSource::Actual, d.to_string()))
                .collect(),
            api_calls: pages,
            pages,
            notes: parsed.notes,
            ..CostReport::default()
        };
        let missing = req
            .days()
            .into_iter()
            .filter(|d| !parsed.days_seen.contains(d))
            .count();
        if missing > 0 {
            report.notes.push(format!(
                "Cost Explorer had no data for {missing} requested day(s); they are asked again next time"
            ));
        }
        if !parsed.tagged && !req.clusters.is_empty() {
            let estimate = estimate_report(req, &prices::AWS);
            report.notes.push(format!(
                "the {CLUSTER_TAG} cost-allocation tag returned nothing (activate it in Billing → \
                 Cost allocation tags); cluster figures are estimates"
            ));
            report.notes.extend(estimate.notes);
            report.lines.extend(estimate.lines);
            report.closed_days.extend(estimate.closed_days);
        }
        report
    }
}
