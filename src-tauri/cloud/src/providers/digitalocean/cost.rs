//! DOKS cost (BRIEF §4):
//! - estimate, daily: node pool count × billed hours × the size's
//!   `price_hourly` from `/v2/sizes`;
//! - actual, month to date: the invoice preview's items, per cluster by
//!   `group_description` (DigitalOcean puts the cluster name there), every
//!   other product as the account's unallocated spend;
//! - the account's own month-to-date usage from `/v2/customers/my/balance`,
//!   shown beside our sums, never added to them.

use std::collections::BTreeMap;

use cloudops_core::cost::{CostSource, Money, MonthCostLine};

use super::{rebase, DigitalOceanProvider, KIND, PER_PAGE};
use crate::{
    cost::{cluster_by_name, node_hour_estimates, CostReport, CostRequest, PageGuard},
    error::ProviderError,
    wire::doks,
};

const MAX_PAGES: u32 = 1000;
const CURRENCY: &str = "USD";

fn decode(what: &str, detail: impl Into<String>) -> ProviderError {
    ProviderError::Decode {
        provider: KIND,
        what: what.to_owned(),
        detail: detail.into(),
    }
}

/// A DigitalOcean decimal string (`"12.34"`, `"-5.00"` for a credit).
pub(crate) fn usd(raw: &str, what: &str) -> Result<f64, ProviderError> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| decode(what, format!("the amount {raw:?} is not a number")))
}

/// Month lines of the invoice preview's items: per cluster (by
/// `group_description`) and product; items of no known cluster are the
/// account's unallocated spend. Credits stay negative lines.
pub(crate) fn invoice_lines(
    month: &str,
    items: &[doks::InvoiceItem],
    req: &CostRequest,
) -> Result<Vec<MonthCostLine>, ProviderError> {
    let mut sums: BTreeMap<(Option<String>, String), f64> = BTreeMap::new();
    for item in items {
        let amount = usd(&item.amount, &format!("invoice item {:?}", item.product))?;
        let cluster = item
            .group_description
            .as_deref()
            .filter(|g| !g.is_empty())
            .and_then(|g| cluster_by_name(&req.clusters, g));
        let category = match (cluster, item.group_description.as_deref()) {
            (None, Some(g)) if !g.is_empty() => format!("{} ({g})", item.product),
            _ => item.product.clone(),
        };
        *sums
            .entry((cluster.map(|c| c.id.clone()), category))
            .or_insert(0.0) += amount;
    }
    Ok(sums
        .into_iter()
        .map(|((cluster_id, category), amount)| MonthCostLine {
            cluster_id,
            month: month.to_owned(),
            category,
            amount,
            currency: CURRENCY.into(),
            source: CostSource::Actual,
        })
        .collect())
}

impl DigitalOceanProvider {
    /// Every page of a DigitalOcean list at `path`, counted and guarded.
    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
        links: impl Fn(&T) -> Option<&doks::Links>,
        mut take: impl FnMut(T),
    ) -> Result<u32, ProviderError> {
        let mut url = self.rest.url(&format!("{path}?per_page={PER_PAGE}"));
        let mut guard = PageGuard::new(KIND, what, MAX_PAGES);
        loop {
            let page: T = self.rest.get(&url, what).await?;
            guard.page()?;
            let next = links(&page).and_then(doks::Links::next).map(str::to_owned);
            take(page);
            match next {
                Some(next) => {
                    guard.next(&next)?;
                    url = rebase(&self.rest, &next, path)?;
                }
                None => return Ok(guard.pages()),
            }
        }
    }

    pub(super) async fn costs(&self, req: &CostRequest) -> Result<CostReport, ProviderError> {
        let mut calls = 0;
        let mut prices: BTreeMap<String, f64> = BTreeMap::new();
        calls += self
            .all_pages(
                "/v2/sizes",
                "the size list",
                |l: &doks::SizeList| l.links.as_ref(),
                |l| prices.extend(l.sizes.into_iter().map(|s| (s.slug, s.price_hourly))),
            )
            .await?;
        let (lines, unpriced) =
            node_hour_estimates(req, CURRENCY, |slug| prices.get(slug).copied());
        let mut report = CostReport {
            lines,
            windows: vec![req.window(CostSource::Estimate)],
            notes: vec!["estimate: node hours × /v2/sizes price_hourly".into()],
            ..CostReport::default()
        };
        report.notes.extend(unpriced);
        report.close_days_before(req, CostSource::Estimate, 0);

        let invoices: doks::InvoiceList = self
            .rest
            .get(
                &self.rest.url("/v2/customers/my/invoices?per_page=1"),
                "the invoice list",
            )
            .await?;
        calls += 1;
        if let Some(preview) = invoices.invoice_preview {
            if !cloudops_core::cost::is_month(&preview.invoice_period) {
                return Err(decode(
                    "the invoice preview",
                    format!("invoice_period {:?} is not YYYY-MM", preview.invoice_period),
                ));
            }
            let path = format!(
                "/v2/customers/my/invoices/{}",
                super::encode(&preview.invoice_uuid)
            );
            let mut items = Vec::new();
            calls += self
                .all_pages(
                    &path,
                    "the invoice preview items",
                    |l: &doks::InvoiceItemList| l.links.as_ref(),
                    |l| items.extend(l.invoice_items),
                )
                .await?;
            report.months = invoice_lines(&preview.invoice_period, &items, req)?;
        }
        let balance: doks::Balance = self
            .rest
            .get(&self.rest.url("/v2/customers/my/balance"), "the balance")
            .await?;
        calls += 1;
        report.reported_month_to_date = Some(Money {
            amount: usd(
                &balance.month_to_date_usage,
                "the balance's month_to_date_usage",
            )?,
            currency: CURRENCY.into(),
        });
        report.api_calls = calls;
        report.pages = calls;
        Ok(report)
    }
}
