//! World files (issue 3 item 5): valid files are served, bad ones give the
//! file, line, column and field, and the committed examples keep parsing.

use std::collections::{BTreeMap, BTreeSet};

use cloudops_cloud::wire::doks::KubernetesClusterList;
use cloudops_sandbox::{Cloud, World, WorldFileError};

use crate::{json, start};

fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples")
}

#[test]
fn the_200_cluster_example_spreads_over_4_clouds_and_10_regions_each() {
    let world = World::load(examples_dir().join("world-200.toml")).expect("example parses");
    let w = world.read();
    assert_eq!(w.clusters.len(), 200);
    let mut regions: BTreeMap<Cloud, BTreeSet<&str>> = BTreeMap::new();
    for c in &w.clusters {
        regions.entry(c.cloud).or_default().insert(&c.region);
    }
    assert_eq!(regions.len(), 4);
    for (cloud, r) in &regions {
        assert_eq!(r.len(), 10, "{cloud:?}: {r:?}");
    }
    let names: BTreeSet<_> = w.clusters.iter().map(|c| &c.name).collect();
    assert_eq!(names.len(), 200, "cluster names are unique");
    // The failover service still runs on three clouds.
    assert_eq!(w.service("checkout").unwrap().cluster_ids.len(), 3);
}

#[test]
fn every_committed_example_parses() {
    let mut seen = 0;
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("toml") {
            World::load(&path).unwrap_or_else(|e| panic!("{e}"));
            seen += 1;
        }
    }
    assert!(seen >= 2, "the examples are missing");
}

#[test]
fn the_default_spec_world_equals_the_generated_one() {
    let from_file = World::from_toml_str("seed = 9\n[generate]\nclusters = 12\n").unwrap();
    assert_eq!(from_file.snapshot(), World::generate(9).snapshot());
}

#[test]
fn knobs_set_the_kube_config() {
    let w = World::from_toml_str(
        "readiness_delay_ms = 250\nhpa_sync_period_ms = 1000\n[generate]\nclusters = 4\n",
    )
    .unwrap();
    let cfg = w.kube_config();
    assert_eq!(cfg.readiness_delay.as_millis(), 250);
    assert_eq!(cfg.hpa_sync_period.as_millis(), 1000);
}

const EXPLICIT: &str = r#"
seed = 3

[[cluster]]
name = "edge-ams"
cloud = "do"
region = "ams3"
version = "1.30.2"
deployments = 20
replicas = 2
checkout = true
node_pools = [
  { name = "pool-web", machine_type = "s-4vcpu-8gb", count = 4, min = 2, max = 8 },
  { name = "pool-batch", count = 1 },
]
"#;

#[tokio::test]
async fn an_explicit_cluster_is_served_by_the_provider_api() {
    let world = World::from_toml_str(EXPLICIT).unwrap();
    {
        let w = world.read();
        assert_eq!(w.clusters.len(), 1);
        let c = &w.clusters[0];
        assert_eq!((c.cloud, c.region.as_str()), (Cloud::DigitalOcean, "ams3"));
        assert_eq!(c.k8s_version(), "1.30.2");
        assert_eq!(
            w.service("checkout").unwrap().cluster_ids,
            vec![c.id.clone()]
        );
        // DOKS shows no bounds without autoscaling; the world has them, with
        // the defaults for the pool that gives none.
        let bounds: Vec<_> = c
            .node_pools
            .iter()
            .map(|p| (p.min_count, p.max_count))
            .collect();
        assert_eq!(bounds, vec![(2, 8), (1, 10)]);
    }
    let (sandbox, http) = start(world);
    let resp = http
        .get(format!("{}/do/v2/kubernetes/clusters", sandbox.base_url()))
        .bearer_auth("sandbox-do")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: KubernetesClusterList = json(resp).await;
    assert_eq!(list.kubernetes_clusters.len(), 1);
    let c = &list.kubernetes_clusters[0];
    assert_eq!(c.name, "edge-ams");
    assert_eq!(c.region, "ams3");
    let pools: Vec<_> = c
        .node_pools
        .iter()
        .map(|p| (p.name.as_str(), p.size.as_str(), p.count))
        .collect();
    assert_eq!(
        pools,
        vec![
            ("pool-web", "s-4vcpu-8gb", 4),
            // The defaults: the cloud's first machine type.
            ("pool-batch", "s-4vcpu-8gb", 1),
        ]
    );

    // The deployment knobs reach the cluster's Kubernetes API: 20 app
    // deployments (checkout among them) plus the two system ones.
    let id = c.id.clone();
    let token = cloudops_sandbox::kube::k8s_token(&id);
    let resp = http
        .get(format!(
            "{}/k8s/{id}/apis/apps/v1/deployments",
            sandbox.base_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: serde_json::Value = json(resp).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 22);
    let apps: Vec<_> = items
        .iter()
        .filter(|d| d["metadata"]["namespace"] != "kube-system")
        .collect();
    assert!(apps.iter().any(|d| d["metadata"]["name"] == "checkout"));
    for d in apps.iter().filter(|d| d["metadata"]["name"] != "checkout") {
        assert_eq!(d["spec"]["replicas"], 2, "{}", d["metadata"]["name"]);
    }
    sandbox.shutdown().await.unwrap();
}

/// The error for `text`, as `<world>:LINE:COL: FIELD: MESSAGE`.
fn bad(text: &str) -> (String, WorldFileError) {
    match World::from_toml_str(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => (e.to_string(), e),
    }
}

fn cluster(extra: &str, pools: &str) -> String {
    format!(
        "seed = 1\n\n[[cluster]]\nname = \"a\"\ncloud = \"aws\"\nregion = \"us-east-1\"\n{extra}node_pools = [\n{pools}\n]\n"
    )
}

#[test]
fn a_wrong_type_names_line_column_and_field() {
    let text = r#"seed = 1

[[cluster]]
name = "a"
cloud = "aws"
region = "us-east-1"
node_pools = [{ name = "ng", count = 2 }]

[[cluster]]
name = "b"
cloud = "aws"
region = "us-east-1"
node_pools = [{ name = "ng", count = "three" }]
"#;
    let (msg, e) = bad(text);
    assert_eq!(e.line(), Some(13));
    assert_eq!(e.field(), Some("cluster[1].node_pools[0].count"));
    assert!(
        msg.starts_with("<world>:13:38: cluster[1].node_pools[0].count: invalid type: string \"three\", expected u32"),
        "{msg}"
    );
}

#[test]
fn a_syntax_error_names_the_line() {
    let (msg, e) = bad("seed = 1\n[generate\nclusters = 3\n");
    assert_eq!(e.line(), Some(2), "{msg}");
    assert!(msg.starts_with("<world>:2:"), "{msg}");
}

#[test]
fn unknown_fields_are_errors_that_name_the_field() {
    let (msg, e) = bad("seed = 1\n[generate]\nclusters = 3\nregion_per_cloud = 4\n");
    assert!(msg.contains("unknown field `region_per_cloud`"), "{msg}");
    assert_eq!(e.line(), Some(4), "{msg}");
    assert!(msg.contains("generate"), "{msg}");

    let (msg, e) = bad(&cluster(
        "",
        "{ name = \"ng\", count = 2, colour = \"red\" }",
    ));
    assert!(msg.contains("unknown field `colour`"), "{msg}");
    assert!(msg.contains("cluster[0].node_pools[0]"), "{msg}");
    assert_eq!(e.line(), Some(8), "{msg}");

    let (msg, _) = bad("sede = 1\n[generate]\nclusters = 3\n");
    assert!(msg.starts_with("<world>:1:"), "{msg}");
    assert!(msg.contains("unknown field `sede`"), "{msg}");
}

#[test]
fn a_missing_field_is_named() {
    let (msg, _) = bad("[[cluster]]\nname = \"a\"\ncloud = \"aws\"\nnode_pools = []\n");
    assert!(msg.contains("missing field `region`"), "{msg}");
    assert!(msg.contains("cluster[0]"), "{msg}");
}

#[test]
fn semantic_errors_name_the_table_field_and_line() {
    let cases: Vec<(String, &str, usize, &str)> = vec![
        (
            cluster("", "{ name = \"ng\", count = 2 }").replace("\"aws\"", "\"ibm\""),
            "cluster[0].cloud",
            5,
            "unknown cloud `ibm`",
        ),
        (
            cluster("", "{ name = \"ng\", count = 2 }").replace("us-east-1", "westeurope"),
            "cluster[0].region",
            6,
            "region `westeurope` is not a aws region",
        ),
        (
            cluster("", "{ name = \"ng\", count = 2000 }"),
            "cluster[0].node_pools[0].count",
            8,
            "out of range",
        ),
        (
            cluster("", "{ name = \"ng\", count = 2, min = 5, max = 3 }"),
            "cluster[0].node_pools[0].min",
            8,
            "min 5 is greater than max 3",
        ),
        (
            cluster("", "{ name = \"ng\", count = 12, min = 1, max = 10 }"),
            "cluster[0].node_pools[0].count",
            8,
            "outside the pool's bounds",
        ),
        (
            cluster("", "{ name = \"ng\", count = 1 },\n{ name = \"ng\", count = 1 }"),
            "cluster[0].node_pools[1].name",
            9,
            "duplicate node pool name `ng`",
        ),
        (
            cluster("version = \"one\"\n", "{ name = \"ng\", count = 1 }"),
            "cluster[0].version",
            7,
            "not a Kubernetes version",
        ),
        (
            cluster("deployments = 0\n", "{ name = \"ng\", count = 1 }"),
            "cluster[0].deployments",
            7,
            "out of range",
        ),
        (
            format!(
                "{}\n[[cluster]]\nname = \"a\"\ncloud = \"gcp\"\nregion = \"us-central1\"\nnode_pools = [{{ name = \"p\", count = 1 }}]\n",
                cluster("", "{ name = \"ng\", count = 1 }")
            ),
            "cluster[1].name",
            12,
            "duplicate cluster name `a`",
        ),
        (
            "[generate]\nclusters = 8\nclouds = [\"aws\", \"oracle\"]\n".into(),
            "generate.clouds[1]",
            3,
            "unknown cloud `oracle`",
        ),
        (
            "[generate]\nclusters = 8\nregions_per_cloud = 40\n".into(),
            "generate.regions_per_cloud",
            3,
            "out of range 1..=12",
        ),
        (
            "[generate]\nclusters = 0\n".into(),
            "generate.clusters",
            2,
            "out of range",
        ),
        (
            "[generate]\nclusters = 4\n[[cluster]]\nname = \"prod-x\"\ncloud = \"azure\"\nregion = \"eastus\"\nnode_pools = [{ name = \"System-Pool\", count = 1 }]\n".into(),
            "cluster[0].node_pools[0].name",
            7,
            "AKS pool names",
        ),
    ];
    for (text, field, line, needle) in cases {
        let (msg, e) = bad(&text);
        assert_eq!(e.field(), Some(field), "{msg}\n---\n{text}");
        assert_eq!(e.line(), Some(line), "{msg}\n---\n{text}");
        assert!(msg.contains(needle), "{msg} lacks {needle}");
        assert!(msg.starts_with(&format!("<world>:{line}:")), "{msg}");
    }
}

#[test]
fn an_empty_world_is_an_error() {
    let (msg, _) = bad("seed = 5\n");
    assert!(msg.contains("no clusters"), "{msg}");
}

#[test]
fn a_missing_file_names_the_file() {
    let e = World::load("/nonexistent/world.toml").expect_err("missing file is an error");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/world.toml: cannot read"),
        "{e}"
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "=",
        "[[cluster]]",
        "[[cluster]]\nnode_pools = 3",
        "seed = -1\n",
        "seed = 1.5\n",
        "\u{feff}seed = 1",
        "[generate]\nclusters = 99999999999999999999\n",
        "[generate]\nclusters = 4\nclouds = []\n",
        "é = \"\u{0}\"",
    ] {
        let _ = World::from_toml_str(text);
    }
}
