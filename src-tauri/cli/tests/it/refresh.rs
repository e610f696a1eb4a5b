//! `refresh` and `workloads` through the real binary against the sandbox.

use std::collections::{BTreeMap, BTreeSet};

use cloudops_sandbox::{world::CHECKOUT_SERVICE, World};

use super::{cloudops, json};

#[test]
fn refresh_once_caches_every_clusters_workloads_and_workloads_reads_them_offline() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudops(dir.path(), &["refresh", "--once", "--sandbox", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let pass = json(&out);
    let clusters = pass["clusters"].as_array().unwrap();
    let world = World::generate(cloudops_sandbox::world::DEFAULT_SEED);
    assert_eq!(clusters.len(), world.read().clusters.len());
    for c in clusters {
        assert!(c["problems"].as_array().unwrap().is_empty(), "{c}");
        assert!(c["samples"].as_u64().unwrap() > 0, "{c}");
        assert!(c["workloads"].as_u64().unwrap() > 0, "{c}");
        assert!(c["prometheus"].is_string(), "{c}");
    }

    // The pass evaluated the alert rules; what it opened is what the cache
    // lists (a first pass has nothing to fold or resolve).
    let opened = pass["alerts"]["opened"]
        .as_array()
        .expect("the pass reports its alert changes");
    let listed = json(&cloudops(
        dir.path(),
        &["alerts", "--sandbox", "--state", "all", "--json"],
    ));
    assert_eq!(
        listed["alerts"].as_array().unwrap().len(),
        opened.len(),
        "{listed}"
    );

    // The cache holds node, pod and RED series for every cluster.
    {
        use cloudops_core::metrics::names;
        use cloudops_core::store::Selector;
        let store = cloudops_core::Store::open_in(&dir.path().join("sandbox")).unwrap();
        let now = cloudops_core::store::now_ms() / 1000;
        for c in clusters {
            let id = c["cluster"].as_str().unwrap();
            for metric in [
                names::NODE_CPU_CORES,
                names::NODE_MEMORY_BYTES,
                names::NODE_DISK_USED_BYTES,
                names::POD_CPU_CORES,
                names::POD_MEMORY_BYTES,
                names::SERVICE_REQUESTS_INCREASE,
                names::SERVICE_ERRORS_INCREASE,
                names::SERVICE_LATENCY_BUCKET_INCREASE,
            ] {
                let series = store
                    .range(
                        &Selector::metric(metric).cluster(id),
                        now - 3600,
                        now + 60,
                        60,
                    )
                    .unwrap();
                assert!(
                    series.iter().any(|(_, points)| !points.is_empty()),
                    "{id} has no {metric} samples in the cache"
                );
            }
        }
    }

    let out = cloudops(
        dir.path(),
        &["workloads", "--offline", "--sandbox", "--json"],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let rows = doc["workloads"].as_array().unwrap();
    // Every cluster's deployments, as many as the refresh counted.
    let mut per_cluster: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows {
        for key in [
            "cluster",
            "namespace",
            "name",
            "kind",
            "replicas",
            "ready",
            "cpu",
            "memory",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        assert_eq!(r["kind"], "Deployment");
        *per_cluster
            .entry(r["cluster"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let counted: BTreeMap<String, u64> = clusters
        .iter()
        .map(|c| {
            (
                c["cluster"].as_str().unwrap().to_owned(),
                c["workloads"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(per_cluster, counted);
    assert_eq!(doc["total"].as_u64().unwrap(), rows.len() as u64);
    assert!(rows
        .iter()
        .any(|r| r["cpu"].as_f64().is_some_and(|v| v > 0.0)));

    // `checkout` runs in the clusters the world placed it in.
    let out = cloudops(
        dir.path(),
        &[
            "workloads",
            "--offline",
            "--sandbox",
            "--search",
            "checkout",
            "--json",
        ],
    );
    let doc = json(&out);
    let found: BTreeSet<String> = doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "checkout")
        .map(|r| {
            r["cluster"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let w = world.read();
    let placed: BTreeSet<String> = w
        .service(CHECKOUT_SERVICE)
        .unwrap()
        .cluster_ids
        .iter()
        .map(|id| w.cluster(id).unwrap().name.clone())
        .collect();
    assert_eq!(found.len(), 3);
    assert_eq!(found, placed);

    // Filters: one cluster, one namespace.
    let one = rows[0]["cluster"].as_str().unwrap();
    let out = cloudops(
        dir.path(),
        &[
            "workloads",
            "--offline",
            "--sandbox",
            "--cluster",
            one,
            "-n",
            "kube-system",
            "--json",
        ],
    );
    let doc = json(&out);
    let filtered = doc["workloads"].as_array().unwrap();
    assert!(!filtered.is_empty());
    assert!(filtered
        .iter()
        .all(|r| r["cluster"] == one && r["namespace"] == "kube-system"));

    // The real cache (not the sandbox's) was never touched.
    let out = cloudops(dir.path(), &["workloads", "--offline", "--json"]);
    assert!(json(&out)["workloads"].as_array().unwrap().is_empty());
}
