//! GKE: the models and method paths against the Kubernetes Engine API v1
//! discovery document (revision 20250204). Google publishes no example
//! payloads, so the schemas are the witness.

use std::collections::BTreeMap;

use cloudops_cloud::wire::gke::{
    Cluster, ClusterStatus, GoogleErrorResponse, ListClustersResponse, ListNodePoolsResponse,
    MasterAuth, MaxPodsConstraint, NodeConfig, NodePool, NodePoolAutoscaling, NodePoolStatus,
    Operation, OperationStatus, SetNodePoolAutoscalingRequest, SetNodePoolSizeRequest, Status,
    METHODS,
};
use google_cloud_container_v1::model as sdk;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

use crate::support::{assert_round_trip, at, parse, read_json};

pub(crate) fn discovery() -> Value {
    read_json("gcp/container-v1-discovery.json")
}

/// Checks a JSON value against a discovery schema: every key must be a
/// property, every value must have the property's JSON type (`int64` is
/// `type: string` there), and enum strings must be among the enum's values.
/// `$ref`, array `items` and map `additionalProperties` are followed.
pub(crate) fn schema_errors(doc: &Value, value: &Value, schema_name: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let schema = json!({ "$ref": schema_name });
    check(doc, value, &schema, schema_name, &mut errors);
    errors
}

fn check(doc: &Value, value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc
            .pointer(&format!("/schemas/{name}"))
            .unwrap_or_else(|| panic!("{path}: the discovery document has no schema {name}"));
        return check(doc, value, target, path, errors);
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    let ok = match ty {
        "object" => {
            let Some(obj) = value.as_object() else {
                errors.push(format!("{path}: expected an object, got {value}"));
                return;
            };
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties");
            for (k, v) in obj {
                let sub = format!("{path}.{k}");
                match (props.and_then(|p| p.get(k)), extra) {
                    (Some(s), _) | (None, Some(s)) => check(doc, v, s, &sub, errors),
                    (None, None) => errors.push(format!("{sub}: not in the schema")),
                }
            }
            true
        }
        "array" => {
            let Some(items) = value.as_array() else {
                errors.push(format!("{path}: expected an array, got {value}"));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                check(doc, item, &schema["items"], &format!("{path}[{i}]"), errors);
            }
            true
        }
        "string" => match (value.as_str(), schema.get("enum").and_then(Value::as_array)) {
            (Some(s), Some(allowed)) if !allowed.iter().any(|a| a == s) => {
                errors.push(format!("{path}: {s} is not one of {allowed:?}"));
                true
            }
            (s, _) => s.is_some(),
        },
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "any" => true,
        other => {
            errors.push(format!("{path}: schema type {other:?} not handled"));
            true
        }
    };
    if !ok {
        let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
        errors.push(format!(
            "{path}: {value} is not of type {ty} (format {format:?})"
        ));
    }
}

fn assert_matches_schema<T: Serialize>(doc: &Value, model: &T, schema_name: &str) {
    let value = serde_json::to_value(model).expect("models serialise");
    let errors = schema_errors(doc, &value, schema_name);
    assert!(
        errors.is_empty(),
        "{schema_name} does not match the discovery document:\n{}",
        errors.join("\n")
    );
}

/// A node pool with every field we model set.
fn full_node_pool() -> NodePool {
    NodePool {
        name: "default-pool".into(),
        config: Some(NodeConfig {
            machine_type: Some("e2-standard-4".into()),
            disk_size_gb: Some(100),
            preemptible: Some(false),
            spot: Some(true),
        }),
        initial_node_count: Some(1),
        autoscaling: Some(full_autoscaling()),
        max_pods_constraint: Some(MaxPodsConstraint {
            max_pods_per_node: Some(110),
        }),
        status: Some(NodePoolStatus::RunningWithError),
        version: Some("1.31.5-gke.1023000".into()),
        instance_group_urls: vec![
            "https://www.googleapis.com/compute/v1/projects/p/zones/europe-west1-b/instanceGroupManagers/gke-prod-default-pool-1a2b3c4d-grp".into(),
        ],
        locations: vec!["europe-west1-b".into()],
    }
}

fn full_autoscaling() -> NodePoolAutoscaling {
    NodePoolAutoscaling {
        enabled: Some(true),
        min_node_count: Some(1),
        max_node_count: Some(3),
        total_min_node_count: Some(0),
        total_max_node_count: Some(9),
    }
}

/// A cluster with every field we model set.
fn full_cluster() -> Cluster {
    Cluster {
        name: "prod-eu".into(),
        self_link: Some(
            "https://container.googleapis.com/v1/projects/p/locations/europe-west1/clusters/prod-eu"
                .into(),
        ),
        location: "europe-west1".into(),
        zone: Some("europe-west1".into()),
        endpoint: Some("34.76.12.34".into()),
        current_master_version: Some("1.31.5-gke.1023000".into()),
        current_node_version: Some("1.31.5-gke.1023000".into()),
        current_node_count: Some(3),
        status: ClusterStatus::Degraded,
        status_message: Some("node pool default-pool is unhealthy".into()),
        master_auth: Some(MasterAuth {
            cluster_ca_certificate: Some("LS0tLQ==".into()),
        }),
        node_pools: vec![full_node_pool()],
        resource_labels: BTreeMap::from([("env".into(), "prod".into())]),
    }
}

fn full_operation() -> Operation {
    Operation {
        name: "operation-1739952000000-5f0a1b2c".into(),
        operation_type: Some("SET_NODE_POOL_SIZE".into()),
        status: Some(OperationStatus::Done),
        self_link: Some("https://container.googleapis.com/v1/projects/123/locations/europe-west1/operations/operation-1739952000000-5f0a1b2c".into()),
        target_link: Some("https://container.googleapis.com/v1/projects/123/locations/europe-west1/clusters/prod-eu/nodePools/default-pool".into()),
        status_message: Some("".into()),
        error: Some(Status {
            code: Some(8),
            message: Some("Insufficient regional quota".into()),
        }),
    }
}

#[test]
fn every_emitted_key_is_in_the_discovery_schemas() {
    let doc = discovery();
    let clusters = ListClustersResponse {
        clusters: vec![full_cluster()],
        missing_zones: vec!["asia-east1-a".into()],
    };
    assert_matches_schema(&doc, &clusters, "ListClustersResponse");
    assert_matches_schema(&doc, &full_cluster(), "Cluster");
    assert_matches_schema(
        &doc,
        &ListNodePoolsResponse {
            node_pools: vec![full_node_pool()],
        },
        "ListNodePoolsResponse",
    );
    assert_matches_schema(&doc, &full_operation(), "Operation");
    assert_matches_schema(
        &doc,
        &SetNodePoolSizeRequest { node_count: 4 },
        "SetNodePoolSizeRequest",
    );
    assert_matches_schema(
        &doc,
        &SetNodePoolAutoscalingRequest {
            autoscaling: full_autoscaling(),
        },
        "SetNodePoolAutoscalingRequest",
    );
}

#[test]
fn the_schema_check_catches_mismatches() {
    let doc = discovery();
    let cases = [
        // int64 as a number, where Google sends a string.
        (
            json!({"maxPodsConstraint": {"maxPodsPerNode": 110}}),
            "NodePool",
        ),
        // int32 as a string, where the schema says integer.
        (json!({"nodeCount": "3"}), "SetNodePoolSizeRequest"),
        // A misspelt key.
        (json!({"nodePool": []}), "ListNodePoolsResponse"),
        (json!({"config": {"machine_type": "e2-medium"}}), "NodePool"),
        // A value outside the enum.
        (json!({"status": "HIBERNATING"}), "Cluster"),
        // Wrong shapes.
        (json!({"resourceLabels": {"env": 1}}), "Cluster"),
        (json!({"locations": "europe-west1-b"}), "NodePool"),
    ];
    for (value, schema) in cases {
        assert!(
            !schema_errors(&doc, &value, schema).is_empty(),
            "{value} passed as {schema}"
        );
    }
}

/// Every value of the schema's enum reads as a variant that writes back the
/// same string, so a status Google documents is never read as unknown.
fn assert_enum_complete<T>(doc: &Value, pointer: &str, variants: usize)
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let allowed = at(doc, pointer, "discovery").as_array().expect("enum");
    assert_eq!(allowed.len(), variants, "{pointer}: enum size changed");
    let mut seen = Vec::new();
    for v in allowed {
        let parsed: T = parse(v, pointer);
        assert_eq!(&serde_json::to_value(&parsed).unwrap(), v, "{pointer}");
        assert!(
            !seen.contains(&parsed),
            "{pointer}: {v} read as a duplicate"
        );
        seen.push(parsed);
    }
}

#[test]
fn status_enums_cover_the_discovery_enums() {
    let doc = discovery();
    assert_enum_complete::<ClusterStatus>(&doc, "/schemas/Cluster/properties/status/enum", 7);
    assert_enum_complete::<NodePoolStatus>(&doc, "/schemas/NodePool/properties/status/enum", 7);
    assert_enum_complete::<OperationStatus>(&doc, "/schemas/Operation/properties/status/enum", 5);
}

/// Finds a method by its id (`container.projects.locations.…`).
fn method<'a>(doc: &'a Value, id: &str) -> &'a Value {
    let mut node = doc;
    let mut parts = id.split('.').skip(1).peekable();
    while let Some(part) = parts.next() {
        let kind = if parts.peek().is_some() {
            "resources"
        } else {
            "methods"
        };
        node = node
            .get(kind)
            .and_then(|n| n.get(part))
            .unwrap_or_else(|| panic!("the discovery document has no method {id}"));
    }
    node
}

#[test]
fn the_methods_we_call_exist_with_our_paths_and_verbs() {
    let doc = discovery();
    assert_eq!(doc["rootUrl"], "https://container.googleapis.com/");
    assert_eq!(doc["servicePath"], "");
    for m in METHODS {
        let d = method(&doc, m.id);
        assert_eq!(d["id"], m.id);
        assert_eq!(d["httpMethod"], m.http_method, "{}", m.id);
        assert_eq!(d["path"], m.path, "{}", m.id);
        assert_eq!(d["response"]["$ref"], m.response, "{}", m.id);
        match m.request {
            Some(r) => assert_eq!(d["request"]["$ref"], r, "{}", m.id),
            None => assert!(d.get("request").is_none(), "{} takes a body", m.id),
        }
    }
    // The ones the brief names, spelled out so a wrong constant cannot agree
    // with a wrong lookup.
    let by_id = |id: &str| METHODS.iter().find(|m| m.id == id).copied().expect(id);
    let list = by_id("container.projects.locations.clusters.list");
    assert_eq!(
        (list.http_method, list.path),
        ("GET", "v1/{+parent}/clusters")
    );
    let set_size = by_id("container.projects.locations.clusters.nodePools.setSize");
    assert_eq!(
        (set_size.http_method, set_size.path),
        ("POST", "v1/{+name}:setSize")
    );
    let autoscale = by_id("container.projects.locations.clusters.nodePools.setAutoscaling");
    assert_eq!(
        (autoscale.http_method, autoscale.path),
        ("POST", "v1/{+name}:setAutoscaling")
    );
    for id in [
        "container.projects.locations.clusters.get",
        "container.projects.locations.clusters.nodePools.list",
        "container.projects.locations.operations.get",
    ] {
        assert_eq!(by_id(id).http_method, "GET");
    }
}

/// A `projects/acme-prod/locations/-/clusters` answer as the API writes it:
/// camelCase, int64 as strings, defaults left out, and many fields we ignore.
pub(crate) fn realistic_list() -> Value {
    // Raw text, as it comes off the wire.
    serde_json::from_str(
        r#"{
      "clusters": [
        {
          "name": "prod-eu",
          "id": "4f5e6d7c8b9a41f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80912",
          "selfLink": "https://container.googleapis.com/v1/projects/acme-prod/locations/europe-west1/clusters/prod-eu",
          "location": "europe-west1",
          "zone": "europe-west1",
          "locations": ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
          "endpoint": "34.76.12.34",
          "initialClusterVersion": "1.29.4-gke.1043002",
          "currentMasterVersion": "1.31.5-gke.1023000",
          "currentNodeVersion": "1.31.5-gke.1023000",
          "currentNodeCount": 7,
          "createTime": "2024-11-02T09:14:07+00:00",
          "status": "RUNNING",
          "network": "default",
          "subnetwork": "default",
          "clusterIpv4Cidr": "10.8.0.0/14",
          "servicesIpv4Cidr": "34.118.224.0/20",
          "loggingService": "logging.googleapis.com/kubernetes",
          "monitoringService": "monitoring.googleapis.com/kubernetes",
          "labelFingerprint": "a9f3b1c2",
          "etag": "b1d2e3f4-5a6b-7c8d-9e0f-a1b2c3d4e5f6",
          "resourceLabels": {"env": "prod", "team": "sre"},
          "defaultMaxPodsConstraint": {"maxPodsPerNode": "110"},
          "masterAuth": {
            "clusterCaCertificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUVMVENDQXBXZ0F3SUJBZ0lSQUozcDBwOFpsUTlRblVvWXgxY1Qya0F3RFFZSktvWklodmNOQVFFTEJRQXcKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
          },
          "nodePools": [
            {
              "name": "default-pool",
              "config": {
                "machineType": "e2-standard-4",
                "diskSizeGb": 100,
                "diskType": "pd-balanced",
                "imageType": "COS_CONTAINERD",
                "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
                "serviceAccount": "default"
              },
              "initialNodeCount": 1,
              "locations": ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
              "autoscaling": {"enabled": true, "minNodeCount": 1, "maxNodeCount": 3, "locationPolicy": "BALANCED"},
              "maxPodsConstraint": {"maxPodsPerNode": "110"},
              "podIpv4CidrSize": 24,
              "management": {"autoUpgrade": true, "autoRepair": true},
              "upgradeSettings": {"maxSurge": 1, "strategy": "SURGE"},
              "selfLink": "https://container.googleapis.com/v1/projects/acme-prod/locations/europe-west1/clusters/prod-eu/nodePools/default-pool",
              "version": "1.31.5-gke.1023000",
              "instanceGroupUrls": [
                "https://www.googleapis.com/compute/v1/projects/acme-prod/zones/europe-west1-b/instanceGroupManagers/gke-prod-eu-default-pool-1a2b3c4d-grp",
                "https://www.googleapis.com/compute/v1/projects/acme-prod/zones/europe-west1-c/instanceGroupManagers/gke-prod-eu-default-pool-5e6f7a8b-grp",
                "https://www.googleapis.com/compute/v1/projects/acme-prod/zones/europe-west1-d/instanceGroupManagers/gke-prod-eu-default-pool-9c0d1e2f-grp"
              ],
              "status": "RUNNING",
              "etag": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
            },
            {
              "name": "spot-batch",
              "config": {"machineType": "n2-standard-8", "diskSizeGb": 200, "spot": true},
              "locations": ["europe-west1-b"],
              "autoscaling": {"enabled": true, "totalMaxNodeCount": 10, "locationPolicy": "ANY"},
              "maxPodsConstraint": {"maxPodsPerNode": "32"},
              "version": "1.31.5-gke.1023000",
              "status": "RECONCILING"
            }
          ]
        },
        {
          "name": "staging-us",
          "selfLink": "https://container.googleapis.com/v1/projects/acme-prod/zones/us-central1-a/clusters/staging-us",
          "location": "us-central1-a",
          "zone": "us-central1-a",
          "currentMasterVersion": "1.32.1-gke.1357001",
          "status": "PROVISIONING",
          "masterAuth": {},
          "nodePools": [
            {
              "name": "default-pool",
              "config": {"machineType": "e2-medium", "diskSizeGb": 50, "preemptible": true},
              "initialNodeCount": 2,
              "locations": ["us-central1-a"],
              "status": "PROVISIONING",
              "version": "1.32.1-gke.1357001"
            }
          ]
        }
      ],
      "missingZones": ["asia-east1-a"]
    }"#,
    )
    .expect("valid JSON")
}

#[test]
fn the_realistic_list_is_itself_valid_per_the_schema() {
    // Keeps the hand-written payload honest: every key in it, including the
    // ones we ignore, is a real field with the real JSON type.
    let errors = schema_errors(&discovery(), &realistic_list(), "ListClustersResponse");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn parses_a_realistic_list_clusters_response() {
    let raw = realistic_list();
    let list: ListClustersResponse = parse(&raw, "ListClustersResponse");
    assert_eq!(list.missing_zones, ["asia-east1-a"]);
    assert_eq!(list.clusters.len(), 2);

    let prod = &list.clusters[0];
    assert_eq!(prod.name, "prod-eu");
    assert_eq!(prod.location, "europe-west1");
    assert_eq!(prod.status, ClusterStatus::Running);
    assert_eq!(prod.endpoint.as_deref(), Some("34.76.12.34"));
    assert_eq!(
        prod.current_master_version.as_deref(),
        Some("1.31.5-gke.1023000")
    );
    assert_eq!(prod.current_node_count, Some(7));
    assert_eq!(
        prod.resource_labels.get("team").map(String::as_str),
        Some("sre")
    );
    let ca = prod
        .master_auth
        .as_ref()
        .expect("masterAuth")
        .cluster_ca()
        .expect("base64")
        .expect("a CA");
    assert!(ca.starts_with(b"-----BEGIN CERTIFICATE-----\n"));

    let pool = &prod.node_pools[0];
    assert_eq!(pool.name, "default-pool");
    let config = pool.config.as_ref().expect("config");
    assert_eq!(config.machine_type.as_deref(), Some("e2-standard-4"));
    assert_eq!(config.disk_size_gb, Some(100));
    assert_eq!(config.spot, None);
    assert_eq!(pool.initial_node_count, Some(1));
    assert_eq!(pool.instance_group_urls.len(), 3);
    assert_eq!(pool.locations.len(), 3);
    assert_eq!(pool.status, Some(NodePoolStatus::Running));
    assert_eq!(
        pool.autoscaling,
        Some(NodePoolAutoscaling {
            enabled: Some(true),
            min_node_count: Some(1),
            max_node_count: Some(3),
            total_min_node_count: None,
            total_max_node_count: None,
        })
    );
    // The string-encoded int64.
    assert_eq!(
        pool.max_pods_constraint
            .as_ref()
            .and_then(|m| m.max_pods_per_node),
        Some(110)
    );

    let spot = &prod.node_pools[1];
    assert_eq!(spot.status, Some(NodePoolStatus::Reconciling));
    assert_eq!(spot.config.as_ref().and_then(|c| c.spot), Some(true));
    // Zero is the proto default, so the API leaves it out.
    assert_eq!(spot.initial_node_count, None);
    let auto = spot.autoscaling.as_ref().expect("autoscaling");
    assert_eq!(
        (auto.total_min_node_count, auto.total_max_node_count),
        (None, Some(10))
    );
    assert_eq!(
        spot.max_pods_constraint
            .as_ref()
            .and_then(|m| m.max_pods_per_node),
        Some(32)
    );
    assert!(spot.instance_group_urls.is_empty());

    let staging = &list.clusters[1];
    assert_eq!(staging.status, ClusterStatus::Provisioning);
    assert_eq!(staging.endpoint, None);
    assert_eq!(staging.current_node_count, None);
    assert_eq!(
        staging
            .master_auth
            .as_ref()
            .map(|m| m.cluster_ca().unwrap()),
        Some(None)
    );
    assert!(staging.resource_labels.is_empty());
    let pool = &staging.node_pools[0];
    assert_eq!(pool.config.as_ref().and_then(|c| c.preemptible), Some(true));
    assert_eq!(pool.initial_node_count, Some(2));

    // Writes back int64 as strings, like Google.
    assert_round_trip(&list, &raw, "ListClustersResponse");
}

#[test]
fn operations_while_running_and_after_failing() {
    let running = json!({
        "name": "operation-1739952000000-5f0a1b2c",
        "zone": "europe-west1",
        "operationType": "SET_NODE_POOL_SIZE",
        "status": "RUNNING",
        "selfLink": "https://container.googleapis.com/v1/projects/123456789012/locations/europe-west1/operations/operation-1739952000000-5f0a1b2c",
        "targetLink": "https://container.googleapis.com/v1/projects/123456789012/locations/europe-west1/clusters/prod-eu/nodePools/default-pool",
        "startTime": "2025-02-19T08:00:00.123456789Z"
    });
    assert!(schema_errors(&discovery(), &running, "Operation").is_empty());
    let op: Operation = parse(&running, "running operation");
    assert_eq!(op.status, Some(OperationStatus::Running));
    assert_eq!(op.operation_type.as_deref(), Some("SET_NODE_POOL_SIZE"));
    assert_eq!(op.error, None);
    assert_round_trip(&op, &running, "running operation");

    let failed = json!({
        "name": "operation-1739952000000-5f0a1b2c",
        "status": "DONE",
        "error": {"code": 8, "message": "Insufficient regional quota to satisfy request"},
        "endTime": "2025-02-19T08:03:10Z"
    });
    assert!(schema_errors(&discovery(), &failed, "Operation").is_empty());
    let op: Operation = parse(&failed, "failed operation");
    assert_eq!(op.status, Some(OperationStatus::Done));
    let error = op.error.as_ref().expect("error");
    assert_eq!(error.code, Some(8));
    assert!(error
        .message
        .as_deref()
        .is_some_and(|m| m.contains("quota")));
}

#[test]
fn google_error_response() {
    let raw = json!({"error": {
        "code": 403,
        "message": "Required \"container.clusters.list\" permission(s) for \"projects/acme-prod\".",
        "status": "PERMISSION_DENIED",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED"}]
    }});
    let e: GoogleErrorResponse = parse(&raw, "error");
    assert_eq!(e.error.code, 403);
    assert_eq!(e.error.status.as_deref(), Some("PERMISSION_DENIED"));
    assert!(e.error.message.contains("container.clusters.list"));
    assert_round_trip(&e, &raw, "error");
}

// ---------------------------------------------------------------------------
// The GKE provider parses with google-cloud-container-v1's own model types
// (decision 0005), so the same payloads must read the same through them.

fn sdk_parse<T: DeserializeOwned>(value: &Value, what: &str) -> T {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{what} does not parse with the SDK types: {e}"))
}

/// The fields the provider reads, from either model, side by side.
pub(crate) fn assert_same_cluster(wire: &Cluster, sdk: &sdk::Cluster) {
    assert_eq!(wire.name, sdk.name);
    assert_eq!(wire.location, sdk.location);
    assert_eq!(wire.endpoint.as_deref().unwrap_or(""), sdk.endpoint);
    assert_eq!(
        wire.current_master_version.as_deref().unwrap_or(""),
        sdk.current_master_version
    );
    let wire_status = serde_json::to_value(wire.status).unwrap();
    assert_eq!(
        wire_status.as_str(),
        sdk.status.name(),
        "status of {}",
        wire.name
    );
    #[allow(deprecated)]
    let sdk_count = sdk.current_node_count;
    assert_eq!(wire.current_node_count.unwrap_or(0), sdk_count);
    assert_eq!(
        wire.master_auth
            .as_ref()
            .and_then(|m| m.cluster_ca_certificate.as_deref())
            .unwrap_or(""),
        sdk.master_auth
            .as_ref()
            .map(|m| m.cluster_ca_certificate.as_str())
            .unwrap_or("")
    );
    assert_eq!(wire.node_pools.len(), sdk.node_pools.len());
    for (w, s) in wire.node_pools.iter().zip(&sdk.node_pools) {
        assert_eq!(w.name, s.name);
        assert_eq!(w.initial_node_count.unwrap_or(0), s.initial_node_count);
        assert_eq!(w.locations, s.locations);
        assert_eq!(
            w.config
                .as_ref()
                .and_then(|c| c.machine_type.as_deref())
                .unwrap_or(""),
            s.config
                .as_ref()
                .map(|c| c.machine_type.as_str())
                .unwrap_or("")
        );
        let wa = w.autoscaling.clone().unwrap_or_default();
        let sa = s.autoscaling.clone().unwrap_or_default();
        assert_eq!(wa.enabled.unwrap_or(false), sa.enabled);
        assert_eq!(wa.min_node_count.unwrap_or(0), sa.min_node_count);
        assert_eq!(wa.max_node_count.unwrap_or(0), sa.max_node_count);
        assert_eq!(
            wa.total_min_node_count.unwrap_or(0),
            sa.total_min_node_count
        );
        assert_eq!(
            wa.total_max_node_count.unwrap_or(0),
            sa.total_max_node_count
        );
        assert_eq!(
            w.max_pods_constraint
                .as_ref()
                .and_then(|m| m.max_pods_per_node)
                .unwrap_or(0),
            s.max_pods_constraint
                .as_ref()
                .map(|m| m.max_pods_per_node)
                .unwrap_or(0)
        );
        let w_status = w.status.map(|st| serde_json::to_value(st).unwrap());
        assert_eq!(
            w_status
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or("STATUS_UNSPECIFIED"),
            s.status.name().unwrap_or("?"),
            "status of pool {}",
            w.name
        );
    }
}

#[test]
fn the_realistic_list_reads_the_same_through_the_sdk_types() {
    let raw = realistic_list();
    let wire: ListClustersResponse = parse(&raw, "ListClustersResponse");
    let sdk: sdk::ListClustersResponse = sdk_parse(&raw, "ListClustersResponse");
    assert_eq!(wire.missing_zones, sdk.missing_zones);
    assert_eq!(wire.clusters.len(), sdk.clusters.len());
    for (w, s) in wire.clusters.iter().zip(&sdk.clusters) {
        assert_same_cluster(w, s);
    }
}

#[test]
fn every_modelled_field_reads_the_same_through_the_sdk_types() {
    // The fully populated models, as the sandbox would write them.
    let cluster = serde_json::to_value(full_cluster()).unwrap();
    assert_same_cluster(&full_cluster(), &sdk_parse(&cluster, "Cluster"));
    let list = serde_json::to_value(ListNodePoolsResponse {
        node_pools: vec![full_node_pool()],
    })
    .unwrap();
    let pools: sdk::ListNodePoolsResponse = sdk_parse(&list, "ListNodePoolsResponse");
    assert_eq!(pools.node_pools[0].name, "default-pool");

    let op = serde_json::to_value(full_operation()).unwrap();
    let op: sdk::Operation = sdk_parse(&op, "Operation");
    assert_eq!(op.status, sdk::operation::Status::Done);
    assert_eq!(op.operation_type, sdk::operation::Type::SetNodePoolSize);
    assert_eq!(op.error.as_ref().map(|e| e.code), Some(8));
    assert!(op.target_link.ends_with("/nodePools/default-pool"));
}

#[test]
fn sdk_set_size_bodies_match_the_schema_and_the_sandbox_model() {
    let doc = discovery();
    for n in [0, 4] {
        // What the SDK sends: the name travels in the path, not the body.
        let req = sdk::SetNodePoolSizeRequest::new().set_node_count(n);
        let body = serde_json::to_value(&req).unwrap();
        let errors = schema_errors(&doc, &body, "SetNodePoolSizeRequest");
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        // Proto3 JSON leaves 0 out: scaling to zero is `{}`, which the
        // sandbox's model must read as 0.
        assert_eq!(
            body,
            if n == 0 {
                json!({})
            } else {
                json!({"nodeCount": n})
            }
        );
        let read: SetNodePoolSizeRequest = parse(&body, "setSize body");
        assert_eq!(read.node_count, n);
    }
}

#[test]
fn the_sdk_reads_integer_enums_as_the_named_ones() {
    // The SDK asks for `$alt=json;enum-encoding=int`, so the real API
    // answers with numbers where the discovery document shows names.
    let by_number: sdk::Cluster = sdk_parse(
        &json!({"name": "c", "status": 2, "nodePools": [{"name": "p", "status": 2}]}),
        "int enums",
    );
    let by_name: sdk::Cluster = sdk_parse(
        &json!({"name": "c", "status": "RUNNING", "nodePools": [{"name": "p", "status": "RUNNING"}]}),
        "named enums",
    );
    assert_eq!(by_number.status, sdk::cluster::Status::Running);
    assert_eq!(by_number.status, by_name.status);
    assert_eq!(by_number.node_pools[0].status, by_name.node_pools[0].status);
    // A status newer than the SDK is kept, not an error.
    let newer: sdk::Cluster = sdk_parse(&json!({"name": "c", "status": "HIBERNATING"}), "new enum");
    assert_eq!(newer.status.name(), Some("HIBERNATING"));
}
