//! Issue 8 against the sandbox: pod logs through kube's `log_stream`,
//! merged across clusters by timestamp, the bad-rollout burst as a new
//! pattern, the 400 for an unknown container, and a restart mid-stream
//! marked as a gap.

use std::{sync::Arc, time::Duration};

use cloudops_cloud::{
    access::ClusterAccess,
    logs::{
        follow_deployment, follow_pods, split_timestamp, LineSink, LogEvent, LogOptions, PodRef,
        Reorder,
    },
    providers::{AccessToken, ClusterConnection, RefreshingToken, StaticToken},
};
use cloudops_core::analysis::logs::{template, Level, Observed, PatternLimits, PatternTable};
use cloudops_sandbox::{
    kube::{k8s_token, BURST_LINES, BURST_MESSAGE},
    Fault, RunningSandbox, Sandbox, World,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use tokio::sync::mpsc;

const NS: &str = "shop";
const CHECKOUT: &str = "checkout";
const BURST: &str = "failed to load config";

fn access(sandbox: &RunningSandbox, cluster_id: &str) -> Arc<ClusterAccess> {
    Arc::new(ClusterAccess::new(ClusterConnection {
        endpoint: format!("{}/k8s/{cluster_id}", sandbox.base_url()),
        ca_pem: None,
        tokens: Arc::new(RefreshingToken::new(
            Arc::new(StaticToken(AccessToken::new(k8s_token(cluster_id), None))),
            Duration::ZERO,
        )),
        identity_pem: None,
    }))
}

fn start() -> (RunningSandbox, Vec<String>) {
    let world = World::generate(11).with_readiness_delay(Duration::from_millis(200));
    let checkout = world
        .read()
        .service(CHECKOUT)
        .expect("the default world has checkout")
        .cluster_ids
        .clone();
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), world).unwrap();
    (sandbox, checkout)
}

/// Every event until all readers ended (or `deadline`).
async fn drain(mut rx: mpsc::Receiver<LogEvent>, deadline: Duration) -> Vec<LogEvent> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(deadline, async {
        while let Some(e) = rx.recv().await {
            out.push(e);
        }
    })
    .await;
    out
}

async fn snapshot(sandbox: &RunningSandbox, cluster: &str, pods: &[String]) -> Vec<LogEvent> {
    let (sink, rx) = LineSink::new(100_000, None).unwrap();
    let refs = pods
        .iter()
        .map(|p| PodRef {
            cluster: cluster.into(),
            access: access(sandbox, cluster),
            namespace: NS.into(),
            pod: p.clone(),
        })
        .collect();
    let streams = follow_pods(refs, &LogOptions::default(), &sink);
    drop(sink);
    let events = drain(rx, Duration::from_secs(20)).await;
    streams.join().await;
    events
}

async fn pods(sandbox: &RunningSandbox, cluster: &str) -> Vec<Pod> {
    let client = access(sandbox, cluster).client().await.unwrap();
    Api::<Pod>::namespaced(client, NS)
        .list(&ListParams::default().labels(&format!("app={CHECKOUT}")))
        .await
        .unwrap()
        .items
}

fn restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .map(|c| c.restart_count)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_logs_across_three_clusters_merge_in_timestamp_order() {
    let (sandbox, checkout) = start();
    assert_eq!(checkout.len(), 3);
    // Materialize the clusters, then let their pods log for a while.
    for c in &checkout {
        assert!(!pods(&sandbox, c).await.is_empty());
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let targets: Vec<_> = checkout
        .iter()
        .map(|c| (c.clone(), access(&sandbox, c)))
        .collect();
    let (sink, rx) = LineSink::new(100_000, None).unwrap();
    let opts = LogOptions {
        tail_lines: Some(50),
        ..Default::default()
    };
    let (streams, errors) = follow_deployment(&targets, NS, CHECKOUT, &opts, &sink)
        .await
        .unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(streams.len(), 9, "three pods in each of three clusters");
    drop(sink);
    let events = drain(rx, Duration::from_secs(20)).await;
    streams.join().await;

    let mut merge = Reorder::new(Duration::from_secs(3600), 1_000_000);
    let mut merged = Vec::new();
    for e in events {
        merged.extend(merge.push(e));
    }
    merged.extend(merge.flush());
    let lines: Vec<_> = merged
        .iter()
        .filter_map(|e| match e {
            LogEvent::Line(l) => Some(l),
            _ => None,
        })
        .collect();
    let ended_ok = merged
        .iter()
        .filter(
            |e| matches!(e, LogEvent::Ended { reason, error: None, .. } if reason == "complete"),
        )
        .count();
    assert_eq!(ended_ok, 9);
    assert!(lines.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns));
    let clusters: std::collections::BTreeSet<_> = lines.iter().map(|l| &l.cluster).collect();
    assert_eq!(clusters.len(), 3, "lines from every cluster");
    // Interleaved, not concatenated: the cluster changes more than twice.
    let switches = lines
        .windows(2)
        .filter(|w| w[0].cluster != w[1].cluster)
        .count();
    assert!(switches > 2, "{switches} switches in {} lines", lines.len());
    for l in &lines {
        assert_eq!((l.namespace.as_str(), l.container.as_str()), (NS, CHECKOUT));
        assert!(l.pod.starts_with("checkout-"), "{}", l.pod);
        // The kubelet prefix (nanosecond precision) is gone from the text;
        // the app's own timestamps (whole seconds) stay.
        assert_ne!(
            split_timestamp(&l.line).map(|(t, _)| t),
            Some(l.ts_ns),
            "{}",
            l.line
        );
        assert_ne!(l.level, Level::Unknown, "{}", l.line);
    }
    sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rollout_burst_is_a_new_pattern_with_the_right_count() {
    let (sandbox, checkout) = start();
    let cluster = checkout[0].clone();
    let before: Vec<String> = pods(&sandbox, &cluster)
        .await
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut table = PatternTable::new(PatternLimits::default());
    for e in snapshot(&sandbox, &cluster, &before).await {
        if let LogEvent::Line(l) = e {
            table.observe(&l.cluster, &l.pod, l.ts_ns / 1_000_000, &l.line);
        }
    }
    assert!(table.patterns().iter().all(|p| !p.template.contains(BURST)));

    sandbox
        .chaos()
        .add(Fault::BadRollout {
            cluster_id: cluster.clone(),
            namespace: NS.into(),
            deployment: CHECKOUT.into(),
        })
        .unwrap();
    // Wait for crash-looping pods.
    let mut crashing = Vec::new();
    for _ in 0..100 {
        crashing = pods(&sandbox, &cluster)
            .await
            .into_iter()
            .filter(|p| restarts(p) >= 1)
            .filter_map(|p| p.metadata.name)
            .collect();
        if !crashing.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!crashing.is_empty(), "no pod crash-looped");
    let after = snapshot(&sandbox, &cluster, &crashing).await;
    let mut raw: std::collections::BTreeMap<String, usize> = Default::default();
    let mut new = 0;
    for e in &after {
        if let LogEvent::Line(l) = e {
            if l.line.contains(BURST) {
                *raw.entry(l.pod.clone()).or_default() += 1;
            }
            if table.observe(&l.cluster, &l.pod, l.ts_ns / 1_000_000, &l.line) == Observed::New
                && l.line.contains(BURST)
            {
                new += 1;
            }
        }
    }
    // A pod listed as crashing may be replaced before its log is read
    // (the HPA and the rollout move pods): every pod whose log has the
    // burst has exactly one run of it.
    assert!(!raw.is_empty(), "no burst in the crashing pods' logs");
    assert!(
        raw.values().all(|n| *n == BURST_LINES),
        "one run per crashing pod: {raw:?}"
    );
    assert_eq!(new, 1, "the burst is one new template");
    let burst: Vec<_> = table
        .patterns()
        .into_iter()
        .filter(|p| p.template.contains(BURST))
        .collect();
    assert_eq!(burst.len(), 1, "{burst:?}");
    assert_eq!(burst[0].count, raw.values().sum::<usize>() as u64);
    assert_eq!(burst[0].level, Level::Error);
    // The message read out of the JSON line, its key a placeholder.
    assert!(
        burst[0].template.starts_with(&template(BURST_MESSAGE)),
        "{}",
        burst[0].template
    );
    assert_eq!(burst[0].pods.len(), crashing.len());
    sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_container_or_pod_is_a_clear_error() {
    let (sandbox, checkout) = start();
    let cluster = checkout[0].clone();
    let pod = pods(&sandbox, &cluster).await[0]
        .metadata
        .name
        .clone()
        .unwrap();
    for (pod, container, want) in [
        (
            pod.clone(),
            Some("nope"),
            format!("container nope is not valid for pod {pod}"),
        ),
        (
            "ghost".to_string(),
            None,
            "pod shop/ghost not found".to_string(),
        ),
    ] {
        let (sink, rx) = LineSink::new(16, None).unwrap();
        let opts = LogOptions {
            container: container.map(Into::into),
            follow: true,
            ..Default::default()
        };
        let streams = follow_pods(
            vec![PodRef {
                cluster: cluster.clone(),
                access: access(&sandbox, &cluster),
                namespace: NS.into(),
                pod,
            }],
            &opts,
            &sink,
        );
        drop(sink);
        let events = drain(rx, Duration::from_secs(10)).await;
        streams.join().await;
        match events.as_slice() {
            [LogEvent::Ended {
                reason,
                error: Some(e),
                ..
            }] => {
                assert_eq!(reason, "error");
                assert!(e.contains(&want), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
    sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_stream_is_marked_as_a_gap_and_streaming_continues() {
    let (sandbox, checkout) = start();
    let cluster = checkout[1].clone();
    sandbox
        .chaos()
        .add(Fault::BadRollout {
            cluster_id: cluster.clone(),
            namespace: NS.into(),
            deployment: CHECKOUT.into(),
        })
        .unwrap();
    let mut pod = None;
    for _ in 0..100 {
        pod = pods(&sandbox, &cluster)
            .await
            .into_iter()
            .find(|p| restarts(p) >= 1)
            .and_then(|p| p.metadata.name);
        if pod.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pod = pod.expect("a crash-looping pod");
    let (sink, mut rx) = LineSink::new(1024, None).unwrap();
    let opts = LogOptions {
        follow: true,
        reconnect_delay: Duration::from_millis(100),
        ..Default::default()
    };
    let streams = follow_pods(
        vec![PodRef {
            cluster: cluster.clone(),
            access: access(&sandbox, &cluster),
            namespace: NS.into(),
            pod,
        }],
        &opts,
        &sink,
    );
    drop(sink);
    let mut gap_at = None;
    let mut gaps = 0;
    let mut resumed = false;
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(e) = rx.recv().await {
            if matches!(e, LogEvent::Gap { .. }) {
                gaps += 1;
            }
            match e {
                LogEvent::Gap {
                    reason, last_ts_ns, ..
                } if gap_at.is_none() && reason.starts_with("container restarted") => {
                    gap_at = last_ts_ns;
                }
                LogEvent::Line(l) if gap_at.is_some_and(|g| l.ts_ns > g) => {
                    resumed = true;
                    break;
                }
                _ => {}
            }
        }
    })
    .await;
    streams.stop();
    streams.join().await;
    assert!(gap_at.is_some(), "no gap marked");
    assert!(resumed, "no line after the gap");
    // Reconnects that brought nothing new (the crashed container not yet
    // restarted) mark nothing, so there is no gap per reconnect (several a
    // second). One restart is one gap; two only when the restart falls
    // between the pod check and the log request (milliseconds), which
    // labels the first one "connection closed".
    assert!(gaps <= 2, "{gaps} gaps for one restart");
    sandbox.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_deployment_picks_up_the_pods_of_a_new_rollout() {
    let (sandbox, checkout) = start();
    let cluster = checkout[2].clone();
    let before: std::collections::BTreeSet<String> = pods(&sandbox, &cluster)
        .await
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    let (sink, mut rx) = LineSink::new(4096, None).unwrap();
    let opts = LogOptions {
        follow: true,
        tail_lines: Some(1),
        reconnect_delay: Duration::from_millis(200),
        ..Default::default()
    };
    let targets = vec![(cluster.clone(), access(&sandbox, &cluster))];
    let (streams, errors) = follow_deployment(&targets, NS, CHECKOUT, &opts, &sink)
        .await
        .unwrap();
    assert!(errors.is_empty());
    drop(sink);
    sandbox
        .chaos()
        .add(Fault::BadRollout {
            cluster_id: cluster.clone(),
            namespace: NS.into(),
            deployment: CHECKOUT.into(),
        })
        .unwrap();
    let mut burst_from_new_pod = None;
    let _ = tokio::time::timeout(Duration::from_secs(25), async {
        while let Some(e) = rx.recv().await {
            if let LogEvent::Line(l) = e {
                if !before.contains(&l.pod) && l.line.contains(BURST) {
                    burst_from_new_pod = Some(l.pod);
                    break;
                }
            }
        }
    })
    .await;
    streams.stop();
    streams.join().await;
    let pod = burst_from_new_pod.expect("the new rollout's pods were followed");
    assert!(pod.starts_with("checkout-"));
    sandbox.shutdown().await.unwrap();
}
