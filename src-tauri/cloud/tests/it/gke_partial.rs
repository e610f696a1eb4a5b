//! A GKE listing that answers without some zones (`missingZones`) is a
//! partial result (BRIEF §9 R1): discovery keeps the clusters it got, flags
//! the project with a `partial` source error, and does not treat the scope
//! as complete, so a cached cluster in a missing zone is not marked gone.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use cloudops_cloud::{
    discovery::{discover_all, Limits, Progress, Report},
    providers::{
        gcp::{GcpCredentials, GcpProvider},
        Provider,
    },
    resilience::{Breakers, CallPolicy},
};
use cloudops_core::{model::Provider as ProviderKind, store::Store};
use cloudops_sandbox::{
    chaos::{Fault, Target},
    Cloud, Sandbox, World, GCP_ACCESS_TOKEN,
};

fn provider(endpoint: &str, project: &str) -> Arc<dyn Provider> {
    let policy = CallPolicy {
        timeout: Duration::from_secs(5),
        retries: 1,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    Arc::new(
        GcpProvider::new(
            "partial-test",
            vec![project.to_owned()],
            Some(endpoint),
            GcpCredentials::StaticToken(GCP_ACCESS_TOKEN.into()),
            policy,
            Arc::new(Breakers::default()),
        )
        .unwrap(),
    )
}

/// A fresh directory for the cache, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("cloudops-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn discover(p: &Arc<dyn Provider>) -> (Report, Vec<Progress>) {
    let events = Mutex::new(Vec::new());
    let report = discover_all(std::slice::from_ref(p), &Limits::default(), |e| {
        events.lock().unwrap().push(e)
    })
    .await;
    (report, events.into_inner().unwrap())
}

fn names(report: &Report) -> BTreeSet<String> {
    report
        .clusters
        .iter()
        .map(|c| c.locator.name.clone())
        .collect()
}

#[tokio::test]
async fn missing_zones_keep_the_listed_clusters_flag_the_project_and_mark_nothing_gone() {
    // 24 clusters: six on GKE over two regions, so an outage of one region
    // leaves clusters on both sides of it.
    let world = World::generate_with(7, 24);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let project = world.read().accounts.gcp_project.clone();
    let gke: Vec<_> = world.read().clusters_of(Cloud::Gcp).cloned().collect();
    let down = gke[0].region.clone();
    let (inside, outside): (Vec<_>, Vec<_>) = gke.iter().partition(|c| c.region == down);
    assert!(
        !inside.is_empty() && !outside.is_empty(),
        "the world must have GKE clusters in and outside {down}"
    );
    let missing_zones: BTreeSet<String> = inside
        .iter()
        .flat_map(|c| c.node_pools.iter().map(|p| p.zone.clone()))
        .collect();
    let p = provider(&format!("{}/gke", sandbox.base_url()), &project);

    // A clean refresh caches every GKE cluster under a complete scope.
    let cache = TempDir::new("gke-partial");
    let mut store = Store::open_in(&cache.0).unwrap();
    let (clean, _) = discover(&p).await;
    assert!(!clean.is_partial(), "{:?}", clean.errors);
    assert_eq!(clean.clusters.len(), gke.len());
    assert!(clean
        .complete
        .iter()
        .any(|s| s.provider == ProviderKind::Gcp && s.scope == project));
    store.apply_discovery(&clean.to_run()).unwrap();

    // One region down: GKE answers without its zones.
    sandbox
        .chaos()
        .add(Fault::RegionOutage {
            cloud: Target::Gcp,
            region: down.clone(),
        })
        .unwrap();
    let (partial, events) = discover(&p).await;

    // (a) The clusters that were listed are kept.
    let want: BTreeSet<String> = outside.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names(&partial), want);

    // (c) One typed error that names the project and every missing zone.
    assert_eq!(partial.errors.len(), 1, "{:?}", partial.errors);
    let e = &partial.errors[0];
    assert_eq!(e.provider, ProviderKind::Gcp);
    assert_eq!(e.kind, "partial", "{e:?}");
    assert!(e.scope.contains(&project), "{e:?}");
    assert!(e.message.contains(&project), "{e:?}");
    for zone in &missing_zones {
        assert!(e.message.contains(zone.as_str()), "{zone} in {e:?}");
    }
    assert!(!e.hint.is_empty());
    assert!(partial.is_partial());

    // (b) The scope is not complete.
    assert!(
        !partial
            .complete
            .iter()
            .any(|s| s.provider == ProviderKind::Gcp),
        "{:?}",
        partial.complete
    );

    // Progress shows it: one event for the scope, the partial failure.
    let scope_events: Vec<&Progress> = events
        .iter()
        .filter(|e| !matches!(e, Progress::Planned { .. }))
        .collect();
    assert_eq!(scope_events.len(), 1, "{events:?}");
    match scope_events[0] {
        Progress::ScopeFailed {
            kind,
            message,
            scope,
            ..
        } => {
            assert_eq!(kind, "partial");
            assert!(scope.contains(&project), "{scope}");
            assert!(
                message.contains(&format!("{} cluster", outside.len())),
                "{message}"
            );
        }
        other => panic!("expected a partial scope_failed event, got {other:?}"),
    }

    // In the cache, the clusters in the missing zones are still there, not
    // gone: the outage hid them, it did not delete them.
    let applied = store.apply_discovery(&partial.to_run()).unwrap();
    assert_eq!(applied.marked_gone, 0);
    let cached = store.clusters(Some(ProviderKind::Gcp)).unwrap();
    assert_eq!(cached.len(), gke.len());
    for c in &inside {
        let row = cached.iter().find(|r| r.name == c.name).unwrap();
        assert_eq!(row.gone_at, None, "{} was marked gone", c.name);
    }
    let status = store.last_discovery().unwrap().unwrap();
    assert_eq!(status.errors.len(), 1);
    assert_eq!(status.errors[0].kind, "partial");

    // The outage over, the listing is complete again.
    sandbox.chaos().clear_all();
    let (healed, _) = discover(&p).await;
    assert!(!healed.is_partial(), "{:?}", healed.errors);
    assert_eq!(healed.clusters.len(), gke.len());
    assert!(healed
        .complete
        .iter()
        .any(|s| s.provider == ProviderKind::Gcp && s.scope == project));
    sandbox.shutdown().await.unwrap();
}
