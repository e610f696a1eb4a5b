//! A small BigQuery client over REST: `jobs.query`, then
//! `jobs.getQueryResults` while the job is not complete and for every further
//! page. Only what the billing export needs: a read-only, parameterised
//! GoogleSQL query whose rows come back as strings.
//!
//! Why not the official `google-cloud-bigquery-v2` crate: every published
//! version (1.0, 1.1) needs Rust 1.91 and google-cloud-gax 1.15, while the
//! workspace is held at Rust 1.90 with gax 1.14 (decision 0005); and it would
//! add another ~110k lines of generated models to compile for two calls.
//!
//! Wire format (REST reference, `QueryResponse` / `GetQueryResultsResponse`):
//! `schema.fields[].name`, `rows[].f[].v` (every scalar a string, NULL a JSON
//! null), `jobComplete`, `jobReference`, `pageToken`, `totalRows` (an int64
//! written as a string).

use std::{collections::BTreeMap, sync::Arc};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::KIND;
use crate::{
    cost::PageGuard,
    error::ProviderError,
    providers::RefreshingToken,
    resilience::{Breakers, CallPolicy},
    rest::{self, RestClient},
};

pub const DEFAULT_ENDPOINT: &str = "https://bigquery.googleapis.com/bigquery/v2";
/// The BigQuery endpoint override for the ambient account (the sandbox,
/// proxies, tests).
pub const ENDPOINT_VAR: &str = "CLOUDOPS_BIGQUERY_ENDPOINT";
/// How long one call asks BigQuery to wait for the job server-side.
const WAIT_MS: u32 = 10_000;
/// A job still running after this many polls (~10 s each) is given up.
const MAX_POLLS: u32 = 30;
const MAX_PAGES: u32 = 200;
const PAGE_ROWS: u32 = 10_000;

/// A named query parameter (`@name` in the SQL).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryParameter {
    pub name: String,
    pub parameter_type: ParameterType,
    pub parameter_value: ParameterValue,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterType {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array_type: Option<Box<ParameterType>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array_values: Option<Vec<ParameterValue>>,
}

impl QueryParameter {
    pub fn scalar(name: &str, type_: &str, value: impl Into<String>) -> Self {
        QueryParameter {
            name: name.into(),
            parameter_type: ParameterType {
                type_: type_.into(),
                array_type: None,
            },
            parameter_value: ParameterValue {
                value: Some(value.into()),
                array_values: None,
            },
        }
    }

    pub fn string_array(name: &str, values: &[String]) -> Self {
        QueryParameter {
            name: name.into(),
            parameter_type: ParameterType {
                type_: "ARRAY".into(),
                array_type: Some(Box::new(ParameterType {
                    type_: "STRING".into(),
                    array_type: None,
                })),
            },
            parameter_value: ParameterValue {
                value: None,
                array_values: Some(
                    values
                        .iter()
                        .map(|v| ParameterValue {
                            value: Some(v.clone()),
                            array_values: None,
                        })
                        .collect(),
                ),
            },
        }
    }
}

/// The `jobs.query` body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryRequest<'a> {
    query: &'a str,
    use_legacy_sql: bool,
    parameter_mode: &'static str,
    query_parameters: &'a [QueryParameter],
    timeout_ms: u32,
    max_results: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    #[serde(default)]
    pub schema: Option<Schema>,
    #[serde(default)]
    pub job_reference: Option<JobReference>,
    #[serde(default)]
    pub total_rows: Option<String>,
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default)]
    pub rows: Vec<Row>,
    #[serde(default)]
    pub job_complete: Option<bool>,
    #[serde(default)]
    pub errors: Vec<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Schema {
    #[serde(default)]
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReference {
    pub project_id: String,
    pub job_id: String,
    #[serde(default)]
    pub location: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    #[serde(default)]
    pub f: Vec<Cell>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Cell {
    #[serde(default)]
    pub v: Value,
}

/// A result row by column name; NULL is `None`.
pub type NamedRow = BTreeMap<String, Option<String>>;

/// What a query returned, with the calls it took.
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    pub rows: Vec<NamedRow>,
    pub calls: u32,
    pub pages: u32,
}

pub struct BigQueryClient {
    rest: RestClient,
}

fn decode(what: &str, detail: impl Into<String>) -> ProviderError {
    ProviderError::Decode {
        provider: KIND,
        what: what.to_owned(),
        detail: detail.into(),
    }
}

/// BigQuery ids in a path: letters, digits, `_`, `-`, `.` and `:` (job ids
/// are `[A-Za-z0-9_-]`, project ids add `.`/`:`, locations `-`).
fn path_safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 1024
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

impl BigQueryClient {
    pub fn new(
        endpoint: Option<&str>,
        tokens: Arc<RefreshingToken>,
        http: reqwest::Client,
        policy: CallPolicy,
        breakers: Arc<Breakers>,
    ) -> Result<Self, ProviderError> {
        let base = rest::parse_endpoint(KIND, ENDPOINT_VAR, endpoint.unwrap_or(DEFAULT_ENDPOINT))?;
        Ok(BigQueryClient {
            rest: RestClient {
                provider: KIND,
                http,
                base,
                tokens,
                policy,
                breakers,
            },
        })
    }

    pub fn endpoint(&self) -> &str {
        self.rest.base.as_str()
    }

    /// Runs `sql` in `project` (the project billed for the query, which
    /// needs `bigquery.jobs.create`) and returns every row of every page.
    /// A page token seen twice is refused, and the row count must match
    /// `totalRows`: nothing is returned from a run that lost or repeated
    /// rows.
    pub async fn query(
        &self,
        project: &str,
        sql: &str,
        params: &[QueryParameter],
        what: &str,
    ) -> Result<QueryResult, ProviderError> {
        if !path_safe(project) {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: format!("{project:?} is not a BigQuery project id"),
            });
        }
        let body = QueryRequest {
            query: sql,
            use_legacy_sql: false,
            parameter_mode: "NAMED",
            query_parameters: params,
            timeout_ms: WAIT_MS,
            max_results: PAGE_ROWS,
        };
        let url = self.rest.url(&format!("projects/{project}/queries"));
        let mut out = QueryResult::default();
        let mut reply: QueryResponse = self
            .rest
            .send(Method::POST, &url, Some(&body), what)
            .await?
            .body;
        out.calls += 1;
        let job = reply
            .job_reference
            .clone()
            .ok_or_else(|| decode(what, "the reply has no `jobReference`"))?;
        if !path_safe(&job.project_id)
            || !path_safe(&job.job_id)
            || !job.location.as_deref().is_none_or(path_safe)
        {
            return Err(decode(
                what,
                "the reply's `jobReference` has unexpected characters",
            ));
        }
        let results_url = |token: Option<&str>| {
            let mut u = self.rest.url(&format!(
                "projects/{}/queries/{}?timeoutMs={WAIT_MS}&maxResults={PAGE_ROWS}",
                job.project_id, job.job_id
            ));
            if let Some(loc) = &job.location {
                u.push_str(&format!("&location={loc}"));
            }
            if let Some(t) = token {
                u.push_str("&pageToken=");
                u.push_str(&urlencoding(t));
            }
            u
        };
        let mut polls = 0;
        while reply.job_complete != Some(true) {
            polls += 1;
            if polls > MAX_POLLS {
                return Err(ProviderError::Timeout {
                    provider: KIND,
                    endpoint: self.endpoint().to_owned(),
                    after: std::time::Duration::from_millis(
                        u64::from(WAIT_MS) * u64::from(MAX_POLLS),
                    ),
                });
            }
            reply = self.rest.get(&results_url(None), what).await?;
            out.calls += 1;
        }
        let fields: Vec<String> = reply
            .schema
            .as_ref()
            .map(|s| s.fields.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default();
        if fields.is_empty() {
            return Err(decode(what, "the completed job has no `schema.fields`"));
        }
        let total: u64 = match reply.total_rows.as_deref() {
            Some(t) => t
                .parse()
                .map_err(|_| decode(what, format!("`totalRows` {t:?} is not a count")))?,
            None => return Err(decode(what, "the completed job has no `totalRows`")),
        };
        let mut guard = PageGuard::new(KIND, what, MAX_PAGES);
        loop {
            guard.page()?;
            if !reply.errors.is_empty() {
                return Err(decode(
                    what,
                    format!(
                        "the job reported errors: {}",
                        Value::from(reply.errors.clone())
                    ),
                ));
            }
            for row in &reply.rows {
                out.rows.push(named(&fields, row, what)?);
            }
            match reply.page_token.as_deref().filter(|t| !t.is_empty()) {
                None => break,
                Some(token) => {
                    guard.next(token)?;
                    let url = results_url(Some(token));
                    reply = self.rest.get(&url, what).await?;
                    out.calls += 1;
                }
            }
        }
        out.pages = guard.pages();
        if out.rows.len() as u64 != total {
            return Err(decode(
                what,
                format!(
                    "{} rows came back over {} pages, but `totalRows` is {total}; nothing was kept",
                    out.rows.len(),
                    out.pages
                ),
            ));
        }
        Ok(out)
    }
}

fn named(fields: &[String], row: &Row, what: &str) -> Result<NamedRow, ProviderError> {
    if row.f.len() != fields.len() {
        return Err(decode(
            what,
            format!(
                "a row has {} cells for {} columns",
                row.f.len(),
                fields.len()
            ),
        ));
    }
    let mut out = NamedRow::new();
    for (name, cell) in fields.iter().zip(&row.f) {
        let v = match &cell.v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            // Scalars are strings on the wire; a number or bool is accepted
            // as its text, a RECORD or REPEATED cell is not expected here.
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                return Err(decode(
                    what,
                    format!("column {name} holds a nested value ({other}), not a scalar"),
                ))
            }
        };
        out.insert(name.clone(), v);
    }
    Ok(out)
}

/// Percent-encodes a page token for the query string (tokens are opaque and
/// may hold `=`, `+` or `/`).
fn urlencoding(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_serialise_as_the_rest_api_wants() {
        let p = QueryParameter::scalar("start", "TIMESTAMP", "2025-06-01 00:00:00+00");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"name":"start","parameterType":{"type":"TIMESTAMP"},
                "parameterValue":{"value":"2025-06-01 00:00:00+00"}})
        );
        let a = QueryParameter::string_array("projects", &["a".into(), "b".into()]);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::json!({"name":"projects",
                "parameterType":{"type":"ARRAY","arrayType":{"type":"STRING"}},
                "parameterValue":{"arrayValues":[{"value":"a"},{"value":"b"}]}})
        );
    }

    #[test]
    fn cells_are_read_by_column_name_and_null_is_none() {
        let row: Row =
            serde_json::from_value(serde_json::json!({"f":[{"v":"x"},{"v":null}]})).unwrap();
        let r = named(&["a".into(), "b".into()], &row, "t").unwrap();
        assert_eq!(r["a"].as_deref(), Some("x"));
        assert_eq!(r["b"], None);
        assert!(named(&["a".into()], &row, "t").is_err());
        assert_eq!(urlencoding("a+b/c="), "a%2Bb%2Fc%3D");
    }
}
