//! GKE actuals from the BigQuery billing export, against a loopback fixture
//! server that speaks BigQuery's REST wire format (`QueryResponse`:
//! `schema.fields`, `rows[].f[].v` strings, `jobComplete`, `jobReference`,
//! `pageToken`, `totalRows`): a job that is not complete on the first
//! answer, two pages, a credit row, a token loop, and a refused table that
//! falls back to the estimate.

use std::sync::Arc;

use cloudops_cloud::{
    cost::CostRequest,
    providers::{
        gcp::{BillingExport, GcpCredentials, GcpProvider},
        Provider,
    },
    resilience::{Breakers, CallPolicy},
};
use cloudops_core::{
    cost::CostSource,
    model::{ClusterSummary, NodePoolSummary, Provider as ProviderKind},
};
use serde_json::{json, Value};

use crate::fixture_server::{FixtureServer, Recorded, Reply};

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: std::time::Duration::from_secs(5),
        retries: 0,
        min_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    }
}

fn cluster(name: &str) -> ClusterSummary {
    ClusterSummary {
        id: ClusterSummary::make_id(ProviderKind::Gcp, "test", "europe-west1", name),
        provider: ProviderKind::Gcp,
        account: "test".into(),
        name: name.into(),
        region: "europe-west1".into(),
        version: None,
        status: "running".into(),
        endpoint: None,
        node_pools: vec![NodePoolSummary {
            name: "pool-0".into(),
            count: 2,
            min: None,
            max: None,
            machine_type: Some("e2-standard-4".into()),
        }],
        collected_at: 0,
        gone_at: None,
    }
}

fn request() -> CostRequest {
    CostRequest {
        first_day: "2025-06-01".parse().unwrap(),
        end_day: "2025-06-04".parse().unwrap(),
        now: "2025-06-03T12:00:00Z".parse().unwrap(),
        clusters: vec![cluster("prod"), cluster("staging")],
    }
}

fn provider(base: &str) -> GcpProvider {
    let mut export =
        BillingExport::parse("billing-proj.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01")
            .unwrap();
    export.endpoint = Some(format!("{base}/bigquery/v2"));
    GcpProvider::new(
        "test",
        vec!["app-proj".into()],
        // GKE itself is never called for cost.
        Some("http://127.0.0.1:9"),
        GcpCredentials::StaticToken("bq-token".into()),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap()
    .with_billing_export(export)
    .unwrap()
}

fn schema() -> Value {
    json!({"fields": [
        {"name": "day", "type": "STRING", "mode": "NULLABLE"},
        {"name": "cluster", "type": "STRING", "mode": "NULLABLE"},
        {"name": "service", "type": "STRING", "mode": "NULLABLE"},
        {"name": "currency", "type": "STRING", "mode": "NULLABLE"},
        {"name": "amount", "type": "FLOAT", "mode": "NULLABLE"},
        {"name": "credits", "type": "FLOAT", "mode": "NULLABLE"}
    ]})
}

fn row(day: &str, cluster: Option<&str>, service: &str, amount: &str, credits: &str) -> Value {
    json!({"f": [
        {"v": day}, {"v": cluster}, {"v": service}, {"v": "USD"}, {"v": amount}, {"v": credits}
    ]})
}

fn job() -> Value {
    json!({"projectId": "billing-proj", "jobId": "job_abc-123", "location": "EU"})
}

/// The pages of the finished job: page 1 has three rows and a token, page 2
/// the last two. `loop_token` makes page 2 send page 1's token again.
fn page(n: u32, loop_token: bool) -> Value {
    let base = json!({
        "kind": "bigquery#getQueryResultsResponse",
        "jobReference": job(),
        "schema": schema(),
        "totalRows": "5",
        "jobComplete": true,
    });
    let mut v = base;
    match n {
        1 => {
            v["rows"] = json!([
                row("2025-06-01", Some("prod"), "Compute Engine", "10.5", "0"),
                // A credit: cost 4.0, credits -1.5, netted by the query.
                row(
                    "2025-06-01",
                    Some("staging"),
                    "Compute Engine",
                    "2.5",
                    "-1.5"
                ),
                row("2025-06-01", None, "Cloud Storage", "0.75", "0"),
            ]);
            v["pageToken"] = json!("tok+/page=2");
        }
        _ => {
            v["rows"] = json!([
                row("2025-06-02", Some("prod"), "Compute Engine", "11", "0"),
                row(
                    "2025-06-03",
                    Some("prod"),
                    "Kubernetes Engine",
                    "1.25E-1",
                    "0"
                ),
            ]);
            if loop_token {
                v["pageToken"] = json!("tok+/page=2");
            }
        }
    }
    v
}

/// A server whose `jobs.query` answers "not complete" first; the first
/// `getQueryResults` poll completes the job with page 1.
async fn server(loop_token: bool) -> FixtureServer {
    FixtureServer::start(move |r: &Recorded, _| {
        let path = r.uri.split('?').next().unwrap_or_default();
        if r.method == "POST" && path == "/bigquery/v2/projects/billing-proj/queries" {
            return Reply::json(json!({
                "kind": "bigquery#queryResponse",
                "jobReference": job(),
                "jobComplete": false,
            }));
        }
        if r.method == "GET" && path == "/bigquery/v2/projects/billing-proj/queries/job_abc-123" {
            assert!(r.uri.contains("location=EU"), "{}", r.uri);
            if r.uri.contains("pageToken=tok%2B%2Fpage%3D2") {
                return Reply::json(page(2, loop_token));
            }
            return Reply::json(page(1, loop_token));
        }
        Reply::status(404, json!({"error": {"code": 404, "message": "no route"}}))
    })
    .await
}

#[tokio::test]
async fn billing_export_polls_pages_and_nets_credits_into_actual_lines() {
    let srv = server(false).await;
    let gke = provider(&srv.base_url);
    assert_eq!(gke.primary_cost_source(), CostSource::Actual);
    let req = request();
    let report = gke.daily_costs(&req).await.unwrap();

    let sent = srv.requests();
    // query, one poll (complete, page 1), page 2.
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert_eq!(report.api_calls, 3);
    assert_eq!(report.pages, 2);
    assert_eq!(sent[0].authorization.as_deref(), Some("Bearer bq-token"));
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body["useLegacySql"], json!(false));
    assert_eq!(body["parameterMode"], json!("NAMED"));
    let sql = body["query"].as_str().unwrap();
    assert!(
        sql.contains("`billing-proj.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01`"),
        "{sql}"
    );
    let params = body["queryParameters"].as_array().unwrap();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))["parameterValue"]
            .clone()
    };
    assert_eq!(param("cluster_label")["value"], "goog-k8s-cluster-name");
    assert_eq!(param("start")["value"], "2025-06-01 00:00:00+00");
    assert_eq!(param("end")["value"], "2025-06-04 00:00:00+00");
    assert_eq!(
        param("projects")["arrayValues"],
        json!([{"value": "app-proj"}])
    );

    let prod = cluster("prod").id;
    let staging = cluster("staging").id;
    let t = report.daily_totals(CostSource::Actual);
    assert_eq!(t[&(prod.clone(), "2025-06-01".into(), "USD".into())], 10.5);
    // The credit row is counted once, as the query netted it.
    assert_eq!(t[&(staging, "2025-06-01".into(), "USD".into())], 2.5);
    assert_eq!(t[&(String::new(), "2025-06-01".into(), "USD".into())], 0.75);
    assert_eq!(t[&(prod.clone(), "2025-06-02".into(), "USD".into())], 11.0);
    assert_eq!(t[&(prod, "2025-06-03".into(), "USD".into())], 0.125);
    let total: f64 = report.totals(CostSource::Actual)[0].amount;
    assert!((total - 24.875).abs() < 1e-9, "{total}");
    assert!(report.lines.iter().all(|l| l.source == CostSource::Actual));
    assert!(
        report.notes[0].contains("BigQuery billing export"),
        "{:?}",
        report.notes
    );
    assert!(report.notes.iter().any(|n| n.contains("credits")));
    // Days close three days after: none of these is final yet, and the
    // window covers exactly the days asked.
    assert!(report.closed_days.is_empty(), "{:?}", report.closed_days);
    assert_eq!(report.windows, vec![req.window(CostSource::Actual)]);
}

#[tokio::test]
async fn a_repeated_page_token_is_refused_and_nothing_is_kept() {
    let srv = server(true).await;
    let err = provider(&srv.base_url)
        .daily_costs(&request())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad_reply", "{err}");
    assert!(err.to_string().contains("second time"), "{err}");
}

#[tokio::test]
async fn a_refused_table_falls_back_to_the_estimate_naming_table_and_roles() {
    let srv = FixtureServer::start(|_, _| {
        Reply::status(
            403,
            json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
                "message": "Access Denied: User does not have bigquery.jobs.create permission in project billing-proj."}}),
        )
    })
    .await;
    let report = provider(&srv.base_url)
        .daily_costs(&request())
        .await
        .unwrap();
    assert!(report
        .lines
        .iter()
        .all(|l| l.source == CostSource::Estimate));
    assert!(!report.lines.is_empty());
    let note = &report.notes[0];
    assert!(
        note.contains("billing-proj.billing.gcp_billing_export_v1_0123AB_4567CD_89EF01"),
        "{note}"
    );
    assert!(note.contains("roles/bigquery.dataViewer"), "{note}");
    assert!(note.contains("bigquery.jobs.create"), "{note}");
    // The actual days stay open, so the next refresh asks the export again.
    assert!(report
        .closed_days
        .iter()
        .all(|(s, _)| *s == CostSource::Estimate));
}

#[tokio::test]
async fn rows_that_do_not_add_up_to_total_rows_are_refused() {
    let srv = FixtureServer::start(|r: &Recorded, _| {
        if r.method == "POST" {
            let mut p = page(2, false);
            p["totalRows"] = json!("7");
            return Reply::json(p);
        }
        Reply::status(404, "{}")
    })
    .await;
    let err = provider(&srv.base_url)
        .daily_costs(&request())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad_reply", "{err}");
    assert!(err.to_string().contains("totalRows"), "{err}");
}
