//! Cost ingestion against the official example payloads (BRIEF §6), served
//! by a fixture server: Azure Cost Management query results (columns read
//! by name, also reordered), DigitalOcean sizes, invoice preview items and
//! balance; and the GKE estimate against a hand-computed case.

use std::sync::Arc;

use cloudops_cloud::{
    cost::{prices, CostRequest},
    providers::{
        azure::AzureProvider,
        digitalocean::DigitalOceanProvider,
        gcp::{GcpCredentials, GcpProvider},
        Provider,
    },
    resilience::{Breakers, CallPolicy},
};
use cloudops_core::{
    cost::CostSource,
    model::{ClusterSummary, NodePoolSummary, Provider as ProviderKind},
};
use serde_json::{json, Value};

use crate::{
    arm::body,
    doks::example,
    fixture_server::{FixtureServer, Reply},
};

const SUB: &str = "00000000-0000-0000-0000-000000000000";

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: std::time::Duration::from_secs(5),
        retries: 0,
        min_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
    }
}

fn request(now: &str, first: &str, end: &str, clusters: Vec<ClusterSummary>) -> CostRequest {
    CostRequest {
        first_day: first.parse().unwrap(),
        end_day: end.parse().unwrap(),
        now: now.parse().unwrap(),
        clusters,
    }
}

fn summary(
    provider: ProviderKind,
    name: &str,
    region: &str,
    pools: &[(u32, &str)],
) -> ClusterSummary {
    ClusterSummary {
        id: ClusterSummary::make_id(provider, "test", region, name),
        provider,
        account: "test".into(),
        name: name.into(),
        region: region.into(),
        version: None,
        status: "running".into(),
        endpoint: None,
        node_pools: pools
            .iter()
            .enumerate()
            .map(|(i, (count, machine))| NodePoolSummary {
                name: format!("pool-{i}"),
                count: *count,
                min: None,
                max: None,
                machine_type: Some((*machine).into()),
            })
            .collect(),
        collected_at: 0,
        gone_at: None,
    }
}

/// Two AKS clusters built from the official list example: both in the
/// resource group `Ict_StratAndPlan_GoldSprova_Prod`; `aks-a`'s nodes in
/// `ScreenSharingTest-peer` (groups the query example names).
fn managed_clusters() -> Value {
    let template = body("ManagedClustersList.json", "200")["value"][0].clone();
    let make = |name: &str, node_rg: &str| {
        let mut c = template.clone();
        c["name"] = json!(name);
        c["id"] = json!(format!(
            "/subscriptions/{SUB}/resourcegroups/Ict_StratAndPlan_GoldSprova_Prod/providers/Microsoft.ContainerService/managedClusters/{name}"
        ));
        c["properties"]["nodeResourceGroup"] = json!(node_rg);
        c
    };
    json!({"value": [make("aks-a", "ScreenSharingTest-peer"), make("aks-b", "MC_other")]})
}

/// The query example's answer with its columns (and every row) reversed.
fn reversed(answer: &Value) -> Value {
    let mut a = answer.clone();
    let props = &mut a["properties"];
    props["columns"].as_array_mut().unwrap().reverse();
    for row in props["rows"].as_array_mut().unwrap() {
        row.as_array_mut().unwrap().reverse();
    }
    a
}

async fn azure_costs(answer: Value) -> (cloudops_cloud::cost::CostReport, FixtureServer, String) {
    azure_costs_between(answer, "2018-03-31", "2018-05-01").await
}

async fn azure_costs_between(
    answer: Value,
    first: &str,
    end: &str,
) -> (cloudops_cloud::cost::CostReport, FixtureServer, String) {
    let clusters = managed_clusters();
    let server = FixtureServer::start(move |req, _| {
        if req
            .uri
            .contains("/providers/Microsoft.CostManagement/query")
        {
            Reply::json(&answer)
        } else if req.uri.contains("/managedClusters") {
            Reply::json(&clusters)
        } else {
            Reply::status(
                404,
                json!({"error": {"code": "NotFound", "message": req.uri}}),
            )
        }
    })
    .await;
    let p = AzureProvider::new(
        "test",
        Some(&server.base_url),
        vec![SUB.into()],
        "token".into(),
        reqwest::Client::new(),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap();
    let id_a = ClusterSummary::make_id(ProviderKind::Azure, "test", "location1", "aks-a");
    let req = request("2018-05-10T00:00:00Z", first, end, vec![]);
    let report = p.daily_costs(&req).await.unwrap();
    (report, server, id_a)
}

#[tokio::test]
async fn azure_cost_query_example_is_read_by_column_name_and_allocated_to_clusters() {
    let answer = body("SubscriptionQuery.json", "200");
    // What the example says, computed here from its own rows.
    let rows: Vec<(f64, String)> = answer["properties"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_f64().unwrap(),
                r[1].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    let sum_of = |rg: &str| -> f64 { rows.iter().filter(|(_, g)| g == rg).map(|(a, _)| a).sum() };
    let total: f64 = rows.iter().map(|(a, _)| a).sum();
    let own = sum_of("ict_stratandplan_goldsprova_prod");
    let want_a = sum_of("screensharingtest-peer") + own / 2.0;

    let (report, server, id_a) = azure_costs(answer.clone()).await;
    let id_b = ClusterSummary::make_id(ProviderKind::Azure, "test", "location1", "aks-b");
    let per_cluster = |report: &cloudops_cloud::cost::CostReport, id: &str| -> f64 {
        report
            .lines
            .iter()
            .filter(|l| l.cluster_id.as_deref() == Some(id))
            .map(|l| l.amount)
            .sum()
    };
    assert!((per_cluster(&report, &id_a) - want_a).abs() < 1e-9);
    assert!((per_cluster(&report, &id_b) - own / 2.0).abs() < 1e-9);
    let all: f64 = report.lines.iter().map(|l| l.amount).sum();
    assert!((all - total).abs() < 1e-9, "nothing lost or counted twice");
    assert!(report
        .lines
        .iter()
        .all(|l| l.source == CostSource::Actual && l.currency == "USD"));
    assert!(report
        .lines
        .iter()
        .any(|l| l.cluster_id.is_none() && l.category.contains("ssbciotelement01")));
    // Old days are closed (and final); the query was the documented one.
    assert!(report.lines.iter().all(|l| l.is_final));
    let query = server
        .requests()
        .into_iter()
        .find(|r| r.uri.contains("CostManagement/query"))
        .unwrap();
    assert_eq!(query.method, "POST");
    assert!(
        query.uri.contains("api-version=2025-03-01"),
        "{}",
        query.uri
    );
    let sent: Value = serde_json::from_str(&query.body).unwrap();
    assert_eq!(sent["dataset"]["granularity"], "Daily");
    assert_eq!(sent["dataset"]["grouping"][0]["name"], "ResourceGroupName");
    assert_eq!(sent["timeframe"], "Custom");
    // list + query
    assert_eq!(report.api_calls, 2);

    // The same answer with its columns in another order reads the same.
    let (again, _server, _) = azure_costs(reversed(&answer)).await;
    assert_eq!(
        again.daily_totals(CostSource::Actual),
        report.daily_totals(CostSource::Actual)
    );
}

#[tokio::test]
async fn azure_answer_without_a_cost_column_is_a_decode_error_naming_the_columns() {
    let mut answer = body("ResourceGroupQuery.json", "200");
    answer["properties"]["columns"][0]["name"] = json!("Quantity");
    let clusters = managed_clusters();
    let server = FixtureServer::start(move |req, _| {
        if req.uri.contains("CostManagement/query") {
            Reply::json(&answer)
        } else {
            Reply::json(&clusters)
        }
    })
    .await;
    let p = AzureProvider::new(
        "test",
        Some(&server.base_url),
        vec![SUB.into()],
        "token".into(),
        reqwest::Client::new(),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap();
    let err = p
        .daily_costs(&request(
            "2018-05-10T00:00:00Z",
            "2018-04-01",
            "2018-05-01",
            vec![],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad_reply");
    assert!(err.to_string().contains("Quantity"), "{err}");
    assert!(err.to_string().starts_with("azure"), "{err}");
}

#[tokio::test]
async fn azure_next_link_loop_stops_and_currencies_stay_apart() {
    // Every page points at the same next page: the second sight stops it.
    let mut answer = body("ResourceGroupQuery.json", "200");
    let rows = answer["properties"]["rows"].as_array_mut().unwrap();
    rows[1][3] = json!("EUR");
    let looping = {
        let mut a = answer.clone();
        a["properties"]["nextLink"] = json!("https://management.azure.com/subscriptions/x/providers/Microsoft.CostManagement/query?api-version=2025-03-01&$skiptoken=AAA");
        a
    };
    let (err_report, server) = {
        let clusters = managed_clusters();
        let server = FixtureServer::start(move |req, _| {
            if req.uri.contains("CostManagement/query") {
                Reply::json(&looping)
            } else {
                Reply::json(&clusters)
            }
        })
        .await;
        let p = AzureProvider::new(
            "test",
            Some(&server.base_url),
            vec![SUB.into()],
            "token".into(),
            reqwest::Client::new(),
            policy(),
            Arc::new(Breakers::default()),
        )
        .unwrap();
        let req = request("2018-05-10T00:00:00Z", "2018-04-01", "2018-05-01", vec![]);
        (p.daily_costs(&req).await, server)
    };
    let err = err_report.unwrap_err();
    assert!(err.to_string().contains("second time"), "{err}");
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.uri.contains("CostManagement/query"))
        .count();
    assert_eq!(
        posts, 2,
        "the first page and the one that repeated, no more"
    );

    let (report, _server, id_a) = azure_costs_between(answer, "2018-04-01", "2018-05-01").await;
    let totals = report.daily_totals(CostSource::Actual);
    let usd = totals[&(id_a.clone(), "2018-04-17".into(), "USD".into())];
    let eur = totals[&(id_a.clone(), "2018-04-18".into(), "EUR".into())];
    assert!((usd - 2.10333307059661).abs() < 1e-12);
    assert!((eur - 20.10333307059661).abs() < 1e-12);
    assert_eq!(
        report.totals(CostSource::Actual).len(),
        2,
        "one total per currency"
    );
}

#[tokio::test]
async fn digitalocean_estimate_invoice_preview_and_balance_from_the_examples() {
    let sizes = example("digitalocean/sizes/responses/all_sizes.yml");
    let invoices = example("digitalocean/billing/responses/invoices.yml");
    let items = example("digitalocean/billing/responses/invoice.yml");
    let balance = example("digitalocean/billing/responses/balance.yml");
    let preview_uuid = invoices["invoice_preview"]["invoice_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let hourly = sizes["sizes"][0]["price_hourly"].as_f64().unwrap();
    let slug = sizes["sizes"][0]["slug"].as_str().unwrap().to_owned();
    let server = FixtureServer::start(move |req, _| {
        // `page=2` exactly: `per_page=200` must not read as page 2.
        let second_page = req.uri.contains("?page=2&") || req.uri.contains("&page=2");
        if req.uri.starts_with("/v2/sizes") {
            // The example's `next` link is followed once; page 2 ends it.
            if second_page {
                Reply::json(json!({"sizes": [], "links": {}, "meta": {"total": 1}}))
            } else {
                Reply::json(&sizes)
            }
        } else if req.uri.starts_with("/v2/customers/my/invoices?") {
            Reply::json(&invoices)
        } else if req
            .uri
            .starts_with(&format!("/v2/customers/my/invoices/{preview_uuid}"))
        {
            if second_page {
                // A credit on the second page: kept as a negative line.
                Reply::json(json!({"invoice_items": [
                    {"product": "Kubernetes Clusters", "group_description": "my-doks-cluster",
                     "amount": "-2.00", "duration": "1", "duration_unit": "Hours"}
                ], "links": {}, "meta": {"total": 3}}))
            } else {
                Reply::json(&items)
            }
        } else if req.uri.starts_with("/v2/customers/my/balance") {
            Reply::json(&balance)
        } else {
            Reply::status(404, json!({"id": "not_found", "message": req.uri}))
        }
    })
    .await;
    let p = DigitalOceanProvider::new(
        "test",
        Some(&server.base_url),
        "token".into(),
        reqwest::Client::new(),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap();
    let cluster = summary(
        ProviderKind::DigitalOcean,
        "my-doks-cluster",
        "nyc1",
        &[(3, &slug)],
    );
    // 02:10 on Feb 23: yesterday is 24 h, today 3 started hours.
    let req = request(
        "2020-02-23T02:10:00Z",
        "2020-02-22",
        "2020-02-24",
        vec![cluster.clone()],
    );
    let report = p.daily_costs(&req).await.unwrap();

    let est = report.daily_totals(CostSource::Estimate);
    let key = |day: &str| (cluster.id.clone(), day.to_owned(), "USD".to_owned());
    assert!((est[&key("2020-02-22")] - 3.0 * 24.0 * hourly).abs() < 1e-12);
    assert!((est[&key("2020-02-23")] - 3.0 * 3.0 * hourly).abs() < 1e-12);
    assert_eq!(
        report.closed_days,
        vec![(CostSource::Estimate, "2020-02-22".to_owned())]
    );

    // Actuals: month to date by group_description; the credit nets.
    let month = |cluster: Option<&str>| -> f64 {
        report
            .months
            .iter()
            .filter(|m| m.cluster_id.as_deref() == cluster)
            .map(|m| m.amount)
            .sum()
    };
    assert!(report
        .months
        .iter()
        .all(|m| m.month == "2020-02" && m.source == CostSource::Actual));
    assert!((month(Some(&cluster.id)) - (12.34 - 2.00)).abs() < 1e-9);
    assert!(
        (month(None) - 34.45).abs() < 1e-9,
        "Spaces is the account's"
    );
    let reported = report.reported_month_to_date.clone().unwrap();
    assert_eq!(
        (reported.amount, reported.currency.as_str()),
        (11.21, "USD")
    );
    // sizes ×2, invoice list, items ×2, balance
    assert_eq!(report.api_calls, 6);
}

#[tokio::test]
async fn gke_estimate_matches_a_hand_computed_case_and_names_its_price_source() {
    let c = summary(
        ProviderKind::Gcp,
        "gke-1",
        "us-central1",
        &[
            (3, "e2-standard-4"),
            (2, "n2-standard-4"),
            (1, "a3-megagpu-8g"),
        ],
    );
    // 05:30 on June 2: June 1 is 24 h, June 2 has 6 started hours.
    let req = request(
        "2025-06-02T05:30:00Z",
        "2025-06-01",
        "2025-06-03",
        vec![c.clone()],
    );
    // No network: the provider never calls out for its estimate (the
    // endpoint is a closed port).
    let gke = GcpProvider::new(
        "test",
        vec!["p".into()],
        Some("http://127.0.0.1:9"),
        GcpCredentials::StaticToken("token".into()),
        policy(),
        Arc::new(Breakers::default()),
    )
    .unwrap();
    let report = gke.daily_costs(&req).await.unwrap();
    let t = report.daily_totals(CostSource::Estimate);
    // By hand: 3 × 0.134 + 2 × 0.194 = 0.79 per hour.
    let june1 = t[&(c.id.clone(), "2025-06-01".into(), "USD".into())];
    let june2 = t[&(c.id.clone(), "2025-06-02".into(), "USD".into())];
    assert!((june1 - 18.96).abs() < 1e-9, "{june1}");
    assert!((june2 - 4.74).abs() < 1e-9, "{june2}");
    assert!(report
        .notes
        .iter()
        .any(|n| n.contains(prices::GCP.as_of) && n.contains("cloud.google.com")));
    assert!(
        report.notes.iter().any(|n| n.contains("a3-megagpu-8g")),
        "unpriced type is named"
    );
    assert!(report
        .lines
        .iter()
        .all(|l| l.source == CostSource::Estimate));
    assert_eq!(report.api_calls, 0);
}
