//! The Cost view on a real SQLite cache with the migrations.

use std::collections::BTreeMap;

use super::*;
use crate::analysis::cost_budget::{Budget, BudgetScope};
use crate::cost::{CostFetch, CostLine};
use crate::store::{ClusterState, CostWindow, CostWrite, NodeState, WorkloadState};

const AWS: &str = "aws/prod/us-east-1/eks1";
const DO: &str = "do/team/fra1/doks1";
const AZ: &str = "azure/sub/westeurope/aks1";

fn now() -> i64 {
    day_from_civil(2025, 6, 20) * 86_400 + 12 * 3600
}

/// The AWS cluster's bill: 100 a day, 400 on 2025-06-18 (a spike).
fn aws_amount(day: i64) -> f64 {
    if iso_date(day) == "2025-06-18" {
        400.0
    } else {
        100.0 + f64::from((day % 7) as u8)
    }
}

fn history_days() -> std::ops::Range<i64> {
    day_from_civil(2025, 4, 1)..day_from_civil(2025, 6, 21)
}

fn cluster(id: &str, provider: Provider, name: &str) -> ClusterSummary {
    ClusterSummary {
        id: id.into(),
        provider,
        account: "acct".into(),
        name: name.into(),
        region: "r".into(),
        version: None,
        status: "ACTIVE".into(),
        endpoint: None,
        node_pools: vec![],
        collected_at: now(),
        gone_at: None,
    }
}

fn write(
    store: &mut Store,
    provider: Provider,
    cluster: &str,
    source: CostSource,
    currency: &str,
    amount: impl Fn(i64) -> f64,
) {
    let days = history_days();
    let lines = days
        .clone()
        .map(|d| CostLine {
            cluster_id: Some(cluster.into()),
            day: iso_date(d),
            category: "compute".into(),
            amount: amount(d),
            currency: currency.into(),
            source,
            is_final: true,
        })
        .collect();
    let fetched_at = now() - 3 * 3600;
    store
        .write_costs(&CostWrite {
            provider,
            account: "acct".into(),
            collected_at: fetched_at,
            windows: vec![CostWindow {
                source,
                first_day: iso_date(days.start),
                end_day: iso_date(days.end),
            }],
            lines,
            months: vec![],
            closed_days: vec![],
            fetch: CostFetch {
                provider,
                account: "acct".into(),
                fetched_at,
                api_calls: 3,
                pages: 3,
                first_day: Some(iso_date(days.start)),
                end_day: Some(iso_date(days.end)),
                next_refresh_at: fetched_at + 6 * 3600,
                reported_month_to_date: None,
                notes: vec![],
                error: None,
            },
        })
        .unwrap();
}

fn workload(ns: &str, name: &str, replicas: i32, cpu: f64, mem: f64) -> WorkloadState {
    WorkloadState {
        namespace: ns.into(),
        kind: "Deployment".into(),
        name: name.into(),
        replicas,
        ready: replicas,
        updated: replicas,
        available: replicas,
        labels: BTreeMap::new(),
        images: vec![],
        revision: None,
        replicasets: vec![],
        hpa: None,
        cpu_cores: None,
        memory_bytes: None,
        requests_cpu_cores: Some(cpu),
        requests_memory_bytes: Some(mem),
    }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .upsert_clusters(&[
            cluster(AWS, Provider::Aws, "eks1"),
            cluster(DO, Provider::DigitalOcean, "doks1"),
            cluster(AZ, Provider::Azure, "aks1"),
        ])
        .unwrap();
    write(
        &mut store,
        Provider::Aws,
        AWS,
        CostSource::Actual,
        "USD",
        aws_amount,
    );
    write(
        &mut store,
        Provider::DigitalOcean,
        DO,
        CostSource::Estimate,
        "USD",
        |_| 10.0,
    );
    write(
        &mut store,
        Provider::Azure,
        AZ,
        CostSource::Actual,
        "EUR",
        |_| 20.0,
    );
    let node = |name: &str| NodeState {
        name: name.into(),
        pool: Some("general".into()),
        allocatable_cpu_cores: 4.0,
        allocatable_memory_bytes: 16.0 * 1024.0 * 1024.0 * 1024.0,
        ready: true,
        ..Default::default()
    };
    let gib = 1024.0 * 1024.0 * 1024.0;
    store
        .apply_cluster_state(
            AWS,
            &ClusterState {
                nodes: Some(vec![node("n1"), node("n2")]),
                workloads: Some(vec![
                    workload("shop", "web", 3, 1.0, 2.0 * gib),
                    workload("batch", "worker", 1, 0.5, gib),
                ]),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
    (dir, store)
}

fn june_sum(f: impl Fn(i64) -> f64) -> f64 {
    (day_from_civil(2025, 6, 1)..=day_from_civil(2025, 6, 20))
        .map(f)
        .sum()
}

#[test]
fn month_to_date_per_cloud_and_cluster_keeps_sources_and_currencies_apart() {
    let (_d, store) = store();
    let v = cost_view(&store, now(), &CostViewRequest::default()).unwrap();
    assert_eq!(v.month, "2025-06");
    assert_eq!(v.currencies, vec!["USD".to_owned(), "EUR".to_owned()]);
    let aws = v
        .clouds
        .iter()
        .find(|c| c.provider == Provider::Aws)
        .unwrap();
    assert!((aws.shown - june_sum(aws_amount)).abs() < 1e-6);
    assert_eq!(aws.shown_source, CostSource::Actual);
    assert_eq!(aws.estimate, None);
    let dig = v
        .clusters
        .iter()
        .find(|c| c.cluster_id.as_deref() == Some(DO))
        .unwrap();
    assert_eq!(dig.shown_source, CostSource::Estimate);
    assert_eq!(dig.actual, None);
    assert!((dig.shown - 200.0).abs() < 1e-6);
    assert_eq!(dig.label, "doks1");
    let az = v
        .clouds
        .iter()
        .find(|c| c.provider == Provider::Azure)
        .unwrap();
    assert_eq!(az.currency, "EUR");
    assert!((az.shown - 400.0).abs() < 1e-6);
    // One chart per currency, never a mixed one.
    assert_eq!(v.charts.len(), 2);
    assert!(v.notes.iter().any(|n| n.contains("2 currencies")));
    let usd = &v.charts[0];
    assert_eq!(usd.currency, "USD");
    assert!(usd.chart.svg.contains("<svg"));
    let actual_bars = usd.chart.layout.bars.iter().filter(|b| !b.forecast).count();
    let forecast_bars = usd.chart.layout.bars.iter().filter(|b| b.forecast).count();
    assert_eq!(actual_bars, 20);
    assert_eq!(forecast_bars, 10, "forecast days run to the month's end");
    assert!(usd.chart.layout.legend.iter().any(|l| l.estimate));
    assert!(usd.chart.layout.legend.iter().any(|l| !l.estimate));
    // The 06-20 bar is AWS + DO.
    let last = usd
        .chart
        .layout
        .bars
        .iter()
        .find(|b| b.day == "2025-06-20")
        .unwrap();
    assert!((last.total - (aws_amount(day_from_civil(2025, 6, 20)) + 10.0)).abs() < 1e-6);
    assert_eq!(v.data_age_secs, Some(3 * 3600));
    assert_eq!(v.api_calls, 9);
    assert_eq!(v.fetches.len(), 3);
}

#[test]
fn forecast_anomaly_and_budgets() {
    let (_d, mut store) = store();
    let mut fleet = Budget::new("fleet", BudgetScope::Fleet, 5000.0, "USD");
    fleet.id = None;
    store.put_budget(&fleet, now()).unwrap();
    let eks = Budget::new(
        "eks",
        BudgetScope::Cluster {
            cluster_id: AWS.into(),
        },
        1000.0,
        "USD",
    );
    store.put_budget(&eks, now()).unwrap();
    let v = cost_view(&store, now(), &CostViewRequest::default()).unwrap();

    let f = v.forecasts.iter().find(|f| f.currency == "USD").unwrap();
    // Today (06-20) is partial: the forecast reads up to yesterday.
    assert_eq!(f.through, "2025-06-19");
    let spent = june_sum(aws_amount) - aws_amount(day_from_civil(2025, 6, 20)) + 190.0;
    assert!((f.spent_to_date - spent).abs() < 1e-6);
    assert!(f.total > spent, "ten more days cost something");
    let (lo, hi) = (f.low.unwrap(), f.high.unwrap());
    assert!(lo <= f.total && f.total <= hi);

    let spike = v
        .anomalies
        .iter()
        .find(|a| a.day == "2025-06-18" && a.currency == "USD")
        .expect("the spike is an anomaly");
    assert_eq!(spike.direction, "up");
    assert!(v.anomalies.iter().all(|a| a.day.starts_with("2025-06")));

    // The fleet holds EUR spend: a USD fleet budget is refused, not summed.
    let fb = v.budgets.iter().find(|b| b.name == "fleet").unwrap();
    assert!(fb.error.as_deref().unwrap().contains("EUR"));
    let eb = v.budgets.iter().find(|b| b.name == "eks").unwrap();
    assert_eq!(eb.error, None);
    assert!((eb.spent.unwrap() - june_sum(aws_amount)).abs() < 1e-6);
    assert_eq!(eb.status, "critical", "spent is over 100 %");
    assert!(!eb.messages.is_empty());
}

#[test]
fn namespace_breakdown_sums_to_the_days_cost_with_idle_apart() {
    let (_d, store) = store();
    let req = CostViewRequest {
        month: Some("2025-06".into()),
        cluster: Some(AWS.into()),
    };
    let v = cost_view(&store, now(), &req).unwrap();
    let b = v.breakdown.unwrap();
    assert_eq!(b.day, "2025-06-20");
    assert_eq!(b.currency, "USD");
    let day_cost = aws_amount(day_from_civil(2025, 6, 20));
    assert!((b.total - day_cost).abs() < 1e-6);
    let ns: f64 = b.namespaces.iter().map(|n| n.cost).sum();
    assert!((ns + b.idle - day_cost).abs() < 1e-6);
    assert!(
        b.idle > 0.0,
        "3.5 of 8 cores are requested: the rest is idle"
    );
    assert_eq!(b.namespaces[0].namespace, "shop", "largest first");
    // A cluster without nodes says why instead of inventing a split.
    let v = cost_view(
        &store,
        now(),
        &CostViewRequest {
            month: None,
            cluster: Some(DO.into()),
        },
    )
    .unwrap();
    let b = v.breakdown.unwrap();
    assert!(b.namespaces.is_empty());
    assert!(b.notes[0].contains("no nodes"));
}

#[test]
fn suggestions_say_what_is_missing() {
    let (_d, store) = store();
    let v = cost_view(&store, now(), &CostViewRequest::default()).unwrap();
    let single = v
        .suggestions
        .iter()
        .find(|s| s.target == "batch/worker")
        .expect("the single-replica worker is an HA gap");
    assert_eq!(single.kind, "single_replica_no_pdb");
    assert!(single.commands.iter().any(|c| c.contains("kubectl")));
    assert_eq!(single.currency.as_deref(), Some("USD"));
    // The HA gap opens the scale dialog at 2 replicas (no HPA on it).
    let action = single.action.as_ref().expect("a one-click action");
    assert_eq!(
        (
            action.dialog.as_str(),
            action.namespace.as_str(),
            action.deployment.as_str()
        ),
        ("scale", "batch", "worker")
    );
    assert_eq!(action.replicas, 2);
    assert_eq!(action.cluster_id, AWS);
    assert!(v.suggestions.iter().all(|s| s.target != "shop/web"));
    // No pod usage in the cache: right-sizing says it needs 2 days.
    assert!(
        v.suggestion_notes
            .iter()
            .any(|n| n.contains("at least 2 days of pod usage") && n.contains("holds 0.0")),
        "{:?}",
        v.suggestion_notes
    );
}

/// Pod series of `pods` in `ns` every 5 min over `[now - days, now]`.
fn pod_usage(store: &mut Store, ns: &str, pods: &[&str], days: f64, cpu: f64, mem: f64) {
    use crate::metrics::{names, Batch, Sample, SeriesKey};
    let mut samples = Vec::new();
    let first = now() - (days * 86_400.0) as i64;
    for pod in pods {
        for ts in (first..=now()).step_by(300) {
            for (metric, v) in [(names::POD_CPU_CORES, cpu), (names::POD_MEMORY_BYTES, mem)] {
                samples.push(Sample {
                    series: SeriesKey::new(AWS, metric, [("namespace", ns), ("pod", *pod)]),
                    ts,
                    value: v,
                });
            }
        }
    }
    store
        .insert_batch(&Batch {
            collected_at: now(),
            samples,
        })
        .unwrap();
}

#[test]
fn an_over_requested_deployment_is_right_sized_from_the_cached_pod_series() {
    let (_d, mut store) = store();
    let mib = 1024.0 * 1024.0;
    // shop/web: 3 pods asking 1 core and 2 GiB each, using 0.1 core and
    // 256 MiB, for 3 days. batch/worker: 1 day only (too little).
    pod_usage(
        &mut store,
        "shop",
        &["web-6b7c9d-aaaaa", "web-6b7c9d-bbbbb", "web-6b7c9d-ccccc"],
        3.0,
        0.1,
        256.0 * mib,
    );
    pod_usage(
        &mut store,
        "batch",
        &["worker-5f4e3-zzzzz"],
        1.0,
        0.01,
        16.0 * mib,
    );
    let v = cost_view(&store, now(), &CostViewRequest::default()).unwrap();
    let web = v
        .suggestions
        .iter()
        .find(|s| s.target == "shop/web")
        .unwrap_or_else(|| panic!("{:?} {:?}", v.suggestions, v.suggestion_notes));
    assert_eq!(web.kind, "right_size_requests");
    // No dialog changes requests: the command is the way.
    assert!(web.action.is_none());
    assert!(
        web.commands[0].contains("cpu=130m") && web.commands[0].contains("memory=336Mi"),
        "{:?}",
        web.commands
    );
    // By hand: the cluster's last day (2025-06-20) costs 100 + day % 7;
    // the two 4-core / 16 GiB nodes split it by the reference prices:
    // CPU share f = 8·0.031611 / (8·0.031611 + 32·0.004237).
    let day = day_from_civil(2025, 6, 20);
    let day_cost = aws_amount(day);
    let f = 8.0 * 0.031611 / (8.0 * 0.031611 + 32.0 * 0.004237);
    let cpu_hour = day_cost * f / 8.0 / 24.0;
    let gib_hour = day_cost * (1.0 - f) / 32.0 / 24.0;
    // New requests: p95 + 30 % rounded up: 0.13 core (0.87 freed) and
    // 256·1.3 = 332.8 → 336 MiB (2048 − 336 = 1712 MiB freed), per pod,
    // three pods, 730 hours a month.
    let freed_gib = (2048.0 - 336.0) / 1024.0;
    let expected = 730.0 * 3.0 * (0.87 * cpu_hour + freed_gib * gib_hour);
    assert!(
        (web.monthly_savings - expected).abs() < 0.01,
        "{} vs {expected}",
        web.monthly_savings
    );
    assert!(web
        .caveats
        .iter()
        .any(|c| c.contains("ReplicaSet name prefix")));
    // The worker has 1 day: no right-sizing; web's 3 days are said to be short.
    assert!(v
        .suggestions
        .iter()
        .all(|s| !(s.target == "batch/worker" && s.kind == "right_size_requests")));
    assert!(!v
        .suggestion_notes
        .iter()
        .any(|n| n.contains("at least 2 days")));
    assert!(
        v.suggestion_notes
            .iter()
            .any(|n| n.contains("shop/web (3.0 days)")),
        "{:?}",
        v.suggestion_notes
    );
}

#[test]
fn bad_requests_and_an_empty_cache() {
    let (_d, store) = store();
    let bad = CostViewRequest {
        month: Some("2025-13".into()),
        cluster: None,
    };
    assert_eq!(
        cost_view(&store, now(), &bad).unwrap_err().kind(),
        "bad_range"
    );
    let unknown = CostViewRequest {
        month: None,
        cluster: Some("nope".into()),
    };
    assert_eq!(
        cost_view(&store, now(), &unknown).unwrap_err().kind(),
        "unknown_cluster"
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = Store::open_in(dir.path()).unwrap();
    let v = cost_view(&empty, now(), &CostViewRequest::default()).unwrap();
    assert!(v.charts.is_empty() && v.clouds.is_empty());
    assert_eq!(v.data_age_secs, None);
    assert!(v.notes.iter().any(|n| n.contains("never fetched")));
}

#[test]
fn csv_export_lists_the_months_daily_rows() {
    let (_d, store) = store();
    let csv = super::super::cost_csv(&store, "2025-06", None).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("day,provider,account,cluster_id"));
    // 20 June days × 3 clusters.
    assert_eq!(lines.len() - 1, 60);
    assert!(lines.iter().any(
        |l| l.starts_with("2025-06-18,aws,acct,aws/prod/us-east-1/eks1,eks1,actual,USD,400.000000")
    ));
    assert!(lines.iter().skip(1).all(|l| l.starts_with("2025-06")));
    let one = super::super::cost_csv(&store, "2025-06", Some(DO)).unwrap();
    assert_eq!(one.matches("\r\n").count(), 21);
    assert!(one.contains(",estimate,USD,10.000000"));
    assert_eq!(
        super::super::cost_csv(&store, "June", None)
            .unwrap_err()
            .kind(),
        "bad_range"
    );
    assert_eq!(
        super::super::cost_csv(&store, "2025-06", Some("x"))
            .unwrap_err()
            .kind(),
        "unknown_cluster"
    );
}

#[test]
fn forecasts_alone_match_the_views_and_narrow_to_a_cluster() {
    let (_d, store) = store();
    let v = cost_view(&store, now(), &CostViewRequest::default()).unwrap();
    let (all, notes) = super::super::cost_forecasts(&store, now(), None).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(all, v.forecasts);
    let (one, _) = super::super::cost_forecasts(&store, now(), Some(DO)).unwrap();
    assert_eq!(one.len(), 1);
    assert!((one[0].spent_to_date - 190.0).abs() < 1e-6);
    // 10 a day, every day: the rest of June is 10 × 10.
    assert!((one[0].total - 300.0).abs() < 1.0, "{}", one[0].total);
}

/// Node series of `nodes` every 5 min over `[now - days, now]`.
fn node_usage(store: &mut Store, nodes: &[&str], days: f64, cpu: f64, mem: f64) {
    use crate::metrics::{names, Batch, Sample, SeriesKey};
    let mut samples = Vec::new();
    let first = now() - (days * 86_400.0) as i64;
    for node in nodes {
        for ts in (first..=now()).step_by(300) {
            for (metric, v) in [
                (names::NODE_CPU_CORES, cpu),
                (names::NODE_MEMORY_BYTES, mem),
            ] {
                samples.push(Sample {
                    series: SeriesKey::new(AWS, metric, [("node", *node)]),
                    ts,
                    value: v,
                });
            }
        }
    }
    store
        .insert_batch(&Batch {
            collected_at: now(),
            samples,
        })
        .unwrap();
}

#[test]
fn an_idle_pool_is_found_from_its_node_series_and_requests() {
    let (_d, mut store) = store();
    let gib = 1024.0 * 1024.0 * 1024.0;
    // Four 4-core / 16 GiB nodes in one pool; the deployments ask for
    // 3·1 + 1·0.5 = 3.5 cores and 3·2 + 1 = 7 GiB; each node uses 0.5
    // core and 2 GiB (pool p95: 2 cores, 8 GiB) for 3 days.
    let node = |name: &str| NodeState {
        name: name.into(),
        pool: Some("general".into()),
        allocatable_cpu_cores: 4.0,
        allocatable_memory_bytes: 16.0 * gib,
        ready: true,
        ..Default::default()
    };
    store
        .apply_cluster_state(
            AWS,
            &ClusterState {
                nodes: Some(vec![node("n1"), node("n2"), node("n3"), node("n4")]),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
    node_usage(&mut store, &["n1", "n2", "n3", "n4"], 3.0, 0.5, 2.0 * gib);
    let v = cost_view(&store, now(), &CostViewRequest::default()).unwrap();
    let pool = v
        .suggestions
        .iter()
        .find(|s| s.kind == "idle_node_pool")
        .unwrap_or_else(|| panic!("{:?} {:?}", v.suggestions, v.suggestion_notes));
    assert_eq!(pool.target, "pool/general");
    // By hand: at ≤ 70 % a node holds 2.8 cores and 11.2 GiB; the larger of
    // requests and usage (3.5 cores, 8 GiB) needs ceil(3.5 / 2.8) = 2
    // nodes: 2 of the 4 go. The day's cost is spread evenly over four
    // equal nodes: each costs day/4/24 an hour, 730 hours a month.
    assert!(
        pool.commands[0].ends_with("--count 2"),
        "{:?}",
        pool.commands
    );
    let day_cost = aws_amount(day_from_civil(2025, 6, 20));
    let expected = 2.0 * day_cost / 4.0 / 24.0 * 730.0;
    assert!(
        (pool.monthly_savings - expected).abs() < 0.01,
        "{} vs {expected}",
        pool.monthly_savings
    );
    // A node pool resize has no dialog on the Cost screen.
    assert!(pool.action.is_none());
    assert!(!v
        .suggestion_notes
        .iter()
        .any(|n| n.contains("Idle node pools need")));
}

#[test]
fn an_average_nodes_hourly_price_comes_from_the_latest_cached_day() {
    let (_d, store) = store();
    let prices = crate::views::node_prices::node_hourly_prices(&store, now()).unwrap();
    let aws = prices.get(AWS).expect("AWS has cost and two nodes");
    assert_eq!(aws.day, "2025-06-20");
    assert_eq!(aws.currency, "USD");
    let want = aws_amount(day_from_civil(2025, 6, 20)) / 24.0 / 2.0;
    assert!((aws.hourly - want).abs() < 1e-9, "{aws:?} vs {want}");
    // No cached nodes: no price, rather than a guess.
    assert!(!prices.contains_key(DO));
    assert!(!prices.contains_key(AZ));
    // Cost older than the lookback is not today's price.
    let later = now() + 30 * 86_400;
    assert!(crate::views::node_prices::node_hourly_prices(&store, later)
        .unwrap()
        .is_empty());
}
