//! GKE actuals from the user's Cloud Billing export to BigQuery (opt-in,
//! issue 7): the standard usage cost table (`gcp_billing_export_v1_<id>`) or
//! the detailed one (`gcp_billing_export_resource_v1_<id>`); both have the
//! columns read here.
//!
//! One query per refresh, over the days not yet closed:
//! - the day is `usage_start_time` (a UTC TIMESTAMP in the export) taken
//!   as a UTC date, like every other day in the cache (Google's own console
//!   reports count days in Pacific Time, so a day's total there may differ
//!   at the edges);
//! - the cluster is the `goog-k8s-cluster-name` label (`labels` is a
//!   repeated key/value record: read with a scalar subquery, never joined,
//!   so a row is counted once);
//! - the amount is `SUM(cost) + SUM(credits)`, where each row's credits are
//!   first summed in a subquery: joining `UNNEST(credits)` would repeat the
//!   row's cost once per credit;
//! - per `service.description` and `currency`, for the account's projects.
//!
//! Every value from the user is a query parameter; only the table path
//! cannot be one (BigQuery does not parameterise identifiers), so its three
//! parts are validated and quoted.

use cloudops_core::{
    cost::{CostLine, CostSource},
    model::Provider as ProviderKind,
};
use serde::{Deserialize, Serialize};

use super::bigquery::{NamedRow, QueryParameter, QueryResult};
use crate::{
    cost::{cluster_by_name, day_start, parse_day, CostReport, CostRequest},
    error::ProviderError,
};

const KIND: ProviderKind = ProviderKind::Gcp;
/// The label GKE puts on its billing rows (cost allocation does not need to
/// be on for the cluster name label itself).
pub const CLUSTER_LABEL: &str = "goog-k8s-cluster-name";
/// The source named on every actual line's notes.
pub const SOURCE_NAME: &str = "BigQuery billing export";
/// Late rows and corrections reach the export for a few days; a day is
/// asked again until then.
pub const CLOSED_AFTER_DAYS: i64 = 3;
/// What the query needs, for the note when it is refused.
pub const NEEDED_ROLES: &str =
    "roles/bigquery.dataViewer on the dataset and bigquery.jobs.create (e.g. roles/bigquery.jobUser) on the project";

/// Where the account's billing export lives. Not a secret: it sits in
/// `accounts.toml` beside the projects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingExport {
    /// The project that holds the dataset; the query runs (and is billed)
    /// there.
    pub project: String,
    pub dataset: String,
    pub table: String,
    /// A BigQuery endpoint override (the sandbox, a proxy); `None` for
    /// Google's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

fn config(detail: String) -> ProviderError {
    ProviderError::Config {
        provider: KIND,
        detail,
    }
}

impl BillingExport {
    /// Reads `project.dataset.table` (or `project:dataset.table`, the bq
    /// tool's spelling).
    pub fn parse(path: &str) -> Result<Self, ProviderError> {
        let path = path.trim();
        let shape = || {
            config(format!(
                "{path:?} is not PROJECT.DATASET.TABLE (the billing export table)"
            ))
        };
        // With a `:` the project is everything before the last one (this
        // also reads a legacy domain-scoped `example.com:p:dataset.table`).
        let (project, dataset, table) = match path.rsplit_once(':') {
            Some((project, rest)) => {
                let (dataset, table) = rest.split_once('.').ok_or_else(shape)?;
                (project, dataset, table)
            }
            None => {
                let mut it = path.splitn(3, '.');
                match (it.next(), it.next(), it.next()) {
                    (Some(p), Some(d), Some(t)) => (p, d, t),
                    _ => return Err(shape()),
                }
            }
        };
        let export = BillingExport {
            project: project.into(),
            dataset: dataset.into(),
            table: table.into(),
            endpoint: None,
        };
        export.validate()?;
        Ok(export)
    }

    /// `project.dataset.table`, as the user would type it.
    pub fn path(&self) -> String {
        format!("{}.{}.{}", self.project, self.dataset, self.table)
    }

    /// The checks that keep the table path, which goes into the SQL text,
    /// from being anything but a table name: project ids are lowercase
    /// letters, digits, `-` (and a legacy `domain:` prefix); datasets are
    /// letters, digits and `_` (at most 1024); tables here are the export's
    /// own names, letters, digits, `_` and `-`.
    pub fn validate(&self) -> Result<(), ProviderError> {
        let p = &self.project;
        if p.is_empty()
            || p.len() > 100
            || !p.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | ':')
            })
            || p.starts_with(['.', ':', '-'])
        {
            return Err(config(format!(
                "billing export: {p:?} is not a project id (lowercase letters, digits and '-')"
            )));
        }
        let d = &self.dataset;
        if d.is_empty()
            || d.len() > 1024
            || !d.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(config(format!(
                "billing export: {d:?} is not a dataset name (letters, digits and '_')"
            )));
        }
        let t = &self.table;
        if t.is_empty()
            || t.len() > 1024
            || !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        {
            return Err(config(format!(
                "billing export: {t:?} is not a table name (letters, digits, '_' and '-')"
            )));
        }
        if let Some(e) = &self.endpoint {
            crate::rest::parse_endpoint(KIND, "billing export endpoint", e)?;
        }
        Ok(())
    }

    /// The query. Only the validated, backtick-quoted table path is
    /// written into it; everything else is a parameter.
    pub fn sql(&self) -> String {
        format!(
            "WITH usage AS (\n\
             \x20 SELECT\n\
             \x20   DATE(usage_start_time, 'UTC') AS usage_day,\n\
             \x20   (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @cluster_label LIMIT 1) AS cluster,\n\
             \x20   service.description AS service,\n\
             \x20   currency,\n\
             \x20   cost,\n\
             \x20   IFNULL((SELECT SUM(c.amount) FROM UNNEST(credits) AS c), 0) AS credit\n\
             \x20 FROM `{}`\n\
             \x20 WHERE usage_start_time >= @start AND usage_start_time < @end\n\
             \x20   AND _PARTITIONTIME >= TIMESTAMP_SUB(@start, INTERVAL 1 DAY)\n\
             \x20   AND project.id IN UNNEST(@projects)\n\
             )\n\
             SELECT FORMAT_DATE('%F', usage_day) AS day, cluster, service, currency,\n\
             \x20 SUM(cost) + SUM(credit) AS amount, SUM(credit) AS credits\n\
             FROM usage\n\
             GROUP BY day, cluster, service, currency\n\
             ORDER BY day, cluster, service, currency",
            self.path()
        )
    }

    /// The parameters for the days of `req` and the account's projects.
    pub fn params(&self, req: &CostRequest, projects: &[String]) -> Vec<QueryParameter> {
        let ts = |d: jiff::civil::Date| {
            let t = day_start(d);
            t.strftime("%Y-%m-%d %H:%M:%S+00").to_string()
        };
        vec![
            QueryParameter::scalar("cluster_label", "STRING", CLUSTER_LABEL),
            QueryParameter::scalar("start", "TIMESTAMP", ts(req.first_day)),
            QueryParameter::scalar("end", "TIMESTAMP", ts(req.end_day)),
            QueryParameter::string_array("projects", projects),
        ]
    }

    /// The note shown when the export could not be read and the estimate
    /// stands in.
    pub fn fallback_note(&self, e: &ProviderError) -> String {
        format!(
            "the {SOURCE_NAME} {} could not be read ({e}); showing the estimate instead. \
             The account needs {NEEDED_ROLES}.",
            self.path()
        )
    }
}

/// Turns the query's rows into a report of actual lines over `req`'s days.
/// Rows are read by column name; a row outside the days, with no currency
/// or a non-numeric amount makes the whole answer refused (nothing kept).
pub fn report_from_rows(
    export: &BillingExport,
    req: &CostRequest,
    result: QueryResult,
) -> Result<CostReport, ProviderError> {
    let what = format!("the {SOURCE_NAME} {}", export.path());
    let bad = |detail: String| ProviderError::Decode {
        provider: KIND,
        what: what.clone(),
        detail,
    };
    let today = req.today();
    let mut lines = Vec::with_capacity(result.rows.len());
    let mut credits = 0usize;
    let mut unknown = std::collections::BTreeSet::new();
    let col = |row: &NamedRow, name: &str| -> Result<Option<String>, ProviderError> {
        match row.get(name) {
            Some(v) => Ok(v.clone()),
            None => Err(bad(format!("the answer has no column {name:?}"))),
        }
    };
    for row in &result.rows {
        let raw_day = col(row, "day")?.unwrap_or_default();
        let day = parse_day(&raw_day)
            .filter(|d| req.contains(*d))
            .ok_or_else(|| bad(format!("the day {raw_day:?} is outside the days asked for")))?;
        let amount_text = col(row, "amount")?.unwrap_or_default();
        let amount: f64 = amount_text
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite())
            .ok_or_else(|| {
                bad(format!(
                    "the amount {amount_text:?} on {day} is not a number"
                ))
            })?;
        let currency = col(row, "currency")?
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad(format!("a row on {day} has no currency")))?;
        if col(row, "credits")?
            .and_then(|c| c.parse::<f64>().ok())
            .is_some_and(|c| c != 0.0)
        {
            credits += 1;
        }
        let service = col(row, "service")?.unwrap_or_else(|| "(no service)".into());
        let (cluster_id, category) = match col(row, "cluster")? {
            None => (None, service),
            Some(name) => match cluster_by_name(&req.clusters, &name) {
                Some(c) => (Some(c.id.clone()), service),
                None => {
                    unknown.insert(name.clone());
                    (None, format!("{service} (cluster {name})"))
                }
            },
        };
        lines.push(CostLine {
            cluster_id,
            day: day.to_string(),
            category,
            amount,
            currency,
            source: CostSource::Actual,
            is_final: day
                < today
                    .checked_sub(jiff::ToSpan::days(CLOSED_AFTER_DAYS))
                    .unwrap_or(req.first_day),
        });
    }
    let mut report = CostReport {
        lines,
        windows: vec![req.window(CostSource::Actual)],
        api_calls: result.calls,
        pages: result.pages,
        notes: vec![format!(
            "actual: {SOURCE_NAME} {} (days in UTC, credits included)",
            export.path()
        )],
        ..CostReport::default()
    };
    if credits > 0 {
        report.notes.push(format!(
            "{credits} row(s) carry credits; they are netted into the amounts"
        ));
    }
    if !unknown.is_empty() {
        report.notes.push(format!(
            "clusters in the export that the cache does not know (or knows twice): {}; \
             their cost is shown as unallocated",
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    report.close_days_before(req, CostSource::Actual, CLOSED_AFTER_DAYS);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_paths_parse_and_bad_names_are_refused() {
        let e = BillingExport::parse("my-proj.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01")
            .unwrap();
        assert_eq!(e.project, "my-proj");
        assert_eq!(e.dataset, "billing");
        assert_eq!(e.table, "gcp_billing_export_v1_0123AB_4567CD_89EF01");
        let legacy = BillingExport::parse("example.com:proj:billing.t").unwrap();
        assert_eq!(legacy.project, "example.com:proj");
        assert_eq!(BillingExport::parse("p:billing.t").unwrap().project, "p");
        for bad in [
            "billing.t",
            "p.d.t`; DROP TABLE x; --",
            "p.d e.t",
            "P.d.t",
            "p..t",
            "p.d.",
        ] {
            let err = BillingExport::parse(bad).expect_err(bad);
            assert_eq!(err.kind(), "config", "{bad}: {err}");
        }
    }

    #[test]
    fn the_sql_quotes_only_the_validated_table_and_uses_parameters() {
        let e = BillingExport::parse("p.d.t").unwrap();
        let sql = e.sql();
        assert!(sql.contains("FROM `p.d.t`"), "{sql}");
        for p in ["@cluster_label", "@start", "@end", "@projects"] {
            assert!(sql.contains(p), "{p}");
        }
        // Credits are summed per row before the group: never a join.
        assert!(!sql.contains(", UNNEST(credits)"), "{sql}");
        assert!(sql.contains("SUM(cost) + SUM(credit)"), "{sql}");
    }
}
