//! EKS cost ingestion against moto (BRIEF §10): results queued through
//! `POST /moto-api/static/ce/cost-and-usage-results` are read with the
//! official `aws-sdk-costexplorer` client, attributed per cluster, cached,
//! and not fetched again once closed. Also the bad inputs: mixed
//! currencies, an empty period, credits, a pagination token loop.

use std::{sync::Arc, time::Duration};

use cloudops_cloud::{
    cost::{
        refresh::{refresh_costs, CostOutcome, CostPolicy},
        CostRequest,
    },
    providers::{
        aws::{AwsProvider, StaticKeys},
        Provider,
    },
    resilience::{Breakers, CallPolicy},
};
use cloudops_core::{
    cost::CostSource,
    model::{ClusterSummary, NodePoolSummary, Provider as ProviderKind},
    Store,
};
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::moto::Moto;

const ACCOUNT: &str = "prod";

fn provider(moto: &Moto) -> Arc<dyn Provider> {
    Arc::new(
        AwsProvider::with_static_keys(
            ACCOUNT,
            vec!["us-east-1".into()],
            StaticKeys {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
                session_token: None,
            },
            Some(moto.url()),
            CallPolicy {
                timeout: Duration::from_secs(15),
                retries: 0,
                min_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(20),
            },
            Arc::new(Breakers::default()),
        )
        .unwrap(),
    )
}

fn cluster(name: &str) -> ClusterSummary {
    ClusterSummary {
        id: ClusterSummary::make_id(ProviderKind::Aws, ACCOUNT, "us-east-1", name),
        provider: ProviderKind::Aws,
        account: ACCOUNT.into(),
        name: name.into(),
        region: "us-east-1".into(),
        version: Some("1.33".into()),
        status: "ACTIVE".into(),
        endpoint: None,
        node_pools: vec![NodePoolSummary {
            name: "ng".into(),
            count: 2,
            min: None,
            max: None,
            machine_type: Some("m6i.large".into()),
        }],
        collected_at: 0,
        gone_at: None,
    }
}

fn group(tag: &str, service: &str, amount: &str, unit: &str) -> Value {
    json!({
        "Keys": [format!("eks:cluster-name${tag}"), service],
        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": unit}}
    })
}

fn period(day: &str, next: &str, estimated: bool, groups: Vec<Value>) -> Value {
    json!({
        "TimePeriod": {"Start": day, "End": next},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated
    })
}

/// Queues Cost Explorer answers: moto hands them out one per distinct
/// request, in order.
async fn queue(moto: &Moto, results: Vec<Value>) {
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/moto-api/static/ce/cost-and-usage-results",
            moto.url()
        ))
        .json(&json!({ "results": results }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn request(now: &str, first: &str, end: &str, clusters: Vec<ClusterSummary>) -> CostRequest {
    CostRequest {
        first_day: first.parse().unwrap(),
        end_day: end.parse().unwrap(),
        now: at(now),
        clusters,
    }
}

fn store_with(clusters: &[ClusterSummary]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store.upsert_clusters(clusters).unwrap();
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_costs_are_attributed_per_cluster_and_closed_days_are_not_fetched_again() {
    let moto = Moto::start().await;
    let p = provider(&moto);
    let (alpha, beta) = (cluster("alpha"), cluster("beta"));
    // Today is 06-06: days before 06-03 may close; 06-05 is still Estimated.
    let first = vec![
        period(
            "2025-06-01",
            "2025-06-02",
            false,
            vec![
                group(
                    "alpha",
                    "Amazon Elastic Compute Cloud - Compute",
                    "10.00",
                    "USD",
                ),
                group(
                    "alpha",
                    "Amazon Elastic Container Service for Kubernetes",
                    "2.40",
                    "USD",
                ),
                group(
                    "beta",
                    "Amazon Elastic Compute Cloud - Compute",
                    "5.50",
                    "USD",
                ),
                group("", "Amazon Simple Storage Service", "1.25", "USD"),
            ],
        ),
        period(
            "2025-06-02",
            "2025-06-03",
            false,
            vec![
                group(
                    "alpha",
                    "Amazon Elastic Compute Cloud - Compute",
                    "11.00",
                    "USD",
                ),
                group("alpha", "Refund", "-1.50", "USD"),
            ],
        ),
        period(
            "2025-06-05",
            "2025-06-06",
            true,
            vec![group(
                "beta",
                "Amazon Elastic Compute Cloud - Compute",
                "6.00",
                "USD",
            )],
        ),
    ];
    let second = vec![period(
        "2025-06-05",
        "2025-06-06",
        false,
        vec![group(
            "beta",
            "Amazon Elastic Compute Cloud - Compute",
            "6.25",
            "USD",
        )],
    )];
    queue(
        &moto,
        vec![
            json!({"ResultsByTime": first}),
            json!({"ResultsByTime": second}),
        ],
    )
    .await;

    let (_dir, mut store) = store_with(&[alpha.clone(), beta.clone()]);
    let policy = CostPolicy {
        history_days: 5,
        ..CostPolicy::default()
    };
    let done = refresh_costs(
        &mut store,
        std::slice::from_ref(&p),
        &policy,
        at("2025-06-06T10:00:00Z"),
    )
    .await
    .unwrap();
    match &done[0].outcome {
        CostOutcome::Fetched {
            first_day,
            api_calls,
            ..
        } => assert_eq!((first_day.as_str(), *api_calls), ("2025-06-01", 1)),
        other => panic!("{other:?}"),
    }
    let days = store.cost_days("2025-06-01", "2025-06-07", None).unwrap();
    let actual = |cluster: Option<&str>, day: &str| {
        days.iter()
            .filter(|d| d.source == CostSource::Actual)
            .filter(|d| d.cluster_id.as_deref() == cluster && d.day == day)
            .map(|d| d.amount)
            .sum::<f64>()
    };
    assert!((actual(Some(&alpha.id), "2025-06-01") - 12.40).abs() < 1e-9);
    assert!(
        (actual(Some(&alpha.id), "2025-06-02") - 9.50).abs() < 1e-9,
        "the refund nets"
    );
    assert!((actual(Some(&beta.id), "2025-06-01") - 5.50).abs() < 1e-9);
    assert!(
        (actual(None, "2025-06-01") - 1.25).abs() < 1e-9,
        "untagged spend is unallocated"
    );
    // Tags answered, so no estimate stands in for them.
    assert!(days.iter().all(|d| d.source == CostSource::Actual));

    // Within 6 h: not due, no call.
    let again = refresh_costs(
        &mut store,
        std::slice::from_ref(&p),
        &policy,
        at("2025-06-06T12:00:00Z"),
    )
    .await
    .unwrap();
    assert!(
        matches!(again[0].outcome, CostOutcome::NotDue { .. }),
        "{again:?}"
    );

    // Later that day: only from the first open day (06-03; 06-01 and 06-02
    // are closed), one call, and the closed days keep their figures.
    let later = refresh_costs(
        &mut store,
        std::slice::from_ref(&p),
        &policy,
        at("2025-06-06T17:00:00Z"),
    )
    .await
    .unwrap();
    match &later[0].outcome {
        CostOutcome::Fetched {
            first_day,
            api_calls,
            ..
        } => assert_eq!((first_day.as_str(), *api_calls), ("2025-06-03", 1)),
        other => panic!("{other:?}"),
    }
    let days = store.cost_days("2025-06-01", "2025-06-07", None).unwrap();
    let beta_05: f64 = days
        .iter()
        .filter(|d| d.cluster_id.as_deref() == Some(beta.id.as_str()) && d.day == "2025-06-05")
        .map(|d| d.amount)
        .sum();
    assert!(
        (beta_05 - 6.25).abs() < 1e-9,
        "the revised day replaced, not added"
    );
    let alpha_01: Vec<_> = days
        .iter()
        .filter(|d| d.cluster_id.as_deref() == Some(alpha.id.as_str()) && d.day == "2025-06-01")
        .collect();
    assert!(alpha_01.iter().all(|d| d.is_final));
    assert!((alpha_01.iter().map(|d| d.amount).sum::<f64>() - 12.40).abs() < 1e-9);
    assert_eq!(
        store
            .cost_api_calls_since(ProviderKind::Aws, ACCOUNT, 0)
            .unwrap(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_bad_inputs_currencies_empty_period_untagged_fallback() {
    let moto = Moto::start().await;
    let p = provider(&moto);
    let alpha = cluster("alpha");
    queue(
        &moto,
        vec![json!({"ResultsByTime": [
            period("2025-06-01", "2025-06-02", false, vec![
                group("alpha", "EC2", "10.00", "USD"),
                group("alpha", "EC2", "3.00", "EUR"),
            ]),
            // An empty period: no groups, no total.
            period("2025-06-02", "2025-06-03", false, vec![]),
        ]})],
    )
    .await;
    let req = request(
        "2025-06-10T00:00:00Z",
        "2025-06-01",
        "2025-06-03",
        vec![alpha.clone()],
    );
    let report = p.daily_costs(&req).await.unwrap();
    let totals = report.daily_totals(CostSource::Actual);
    assert_eq!(
        totals[&(alpha.id.clone(), "2025-06-01".into(), "USD".into())],
        10.0
    );
    assert_eq!(
        totals[&(alpha.id.clone(), "2025-06-01".into(), "EUR".into())],
        3.0
    );
    assert_eq!(totals.len(), 2, "the empty day adds nothing: {totals:?}");
    // Both days are old, final and came back: both close, the empty one too.
    assert_eq!(report.closed_days.len(), 2);

    // Untagged: only an unallocated total comes back; each cluster gets a
    // node-hour estimate (2 × m6i.large × 24 h × $0.096).
    let moto = Moto::start().await;
    let p = provider(&moto);
    queue(
        &moto,
        vec![
            json!({"ResultsByTime": [period("2025-06-01", "2025-06-02", false, vec![
                group("", "EC2", "50.00", "USD"),
            ])]}),
        ],
    )
    .await;
    let req = request(
        "2025-06-10T00:00:00Z",
        "2025-06-01",
        "2025-06-02",
        vec![alpha.clone()],
    );
    let report = p.daily_costs(&req).await.unwrap();
    let estimate = report.daily_totals(CostSource::Estimate);
    let want = 2.0 * 24.0 * 0.096;
    assert!((estimate[&(alpha.id.clone(), "2025-06-01".into(), "USD".into())] - want).abs() < 1e-9);
    assert_eq!(
        report.daily_totals(CostSource::Actual)
            [&(String::new(), "2025-06-01".into(), "USD".into())],
        50.0
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("cost-allocation tag")),
        "{:?}",
        report.notes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_a_repeated_next_page_token_stops_with_a_clear_error_and_writes_nothing() {
    let moto = Moto::start().await;
    let p = provider(&moto);
    let alpha = cluster("alpha");
    let page = |amount: &str| {
        json!({
            "ResultsByTime": [period("2025-06-01", "2025-06-02", false, vec![group("alpha", "EC2", amount, "USD")])],
            "NextPageToken": "token-1"
        })
    };
    queue(&moto, vec![page("1.00"), page("2.00")]).await;
    let (_dir, mut store) = store_with(std::slice::from_ref(&alpha));
    let policy = CostPolicy {
        history_days: 2,
        ..CostPolicy::default()
    };
    let done = refresh_costs(&mut store, &[p], &policy, at("2025-06-03T00:00:00Z"))
        .await
        .unwrap();
    match &done[0].outcome {
        CostOutcome::Failed { kind, message, .. } => {
            assert_eq!(kind, "bad_reply");
            assert!(
                message.contains("token-1") && message.contains("second time"),
                "{message}"
            );
            assert!(message.starts_with("aws"), "names the provider: {message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(store
        .cost_days("2025-05-01", "2025-07-01", None)
        .unwrap()
        .is_empty());
    let log = store
        .last_cost_fetch(ProviderKind::Aws, ACCOUNT)
        .unwrap()
        .unwrap();
    assert!(log.error.is_some());
    // A failure is retried sooner than the 6 h interval.
    assert!(log.next_refresh_at - log.fetched_at < 3600);
}
