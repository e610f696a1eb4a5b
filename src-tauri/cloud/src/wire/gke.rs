//! GKE payloads: the Kubernetes Engine API v1 (`container.googleapis.com`) in
//! its REST/JSON form, plus the REST methods the GKE client calls.
//!
//! Google publishes no example payloads for this API, so the integration tests
//! check these models against the schemas of the discovery document instead:
//! every key we emit must be a property of the matching schema, with the
//! schema's JSON type.
//!
//! The JSON is protobuf's JSON mapping, which has two traps:
//! - `int64`/`uint64` fields are JSON *strings* (the discovery document says
//!   `type: string, format: int64`); `int32` fields are numbers. See
//!   [`proto_int`].
//! - Fields at their default (0, `""`, `false`, empty list, enum value 0) are
//!   left out, so almost everything needs a serde default, including the
//!   status enums, whose value 0 is `STATUS_UNSPECIFIED`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{decode_base64, WireError};

/// A REST method of the discovery document, by its id. `path` is relative to
/// the service root (`https://container.googleapis.com/`, or the endpoint
/// override) and uses RFC 6570 reserved expansion: `{+parent}` and `{+name}`
/// take a resource name such as `projects/p/locations/-` with its slashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestMethod {
    pub id: &'static str,
    pub http_method: &'static str,
    pub path: &'static str,
    /// The request body's schema, if the method has a body.
    pub request: Option<&'static str>,
    pub response: &'static str,
}

/// `parent` = `projects/{p}/locations/-` lists every location at once.
pub const LIST_CLUSTERS: RestMethod = RestMethod {
    id: "container.projects.locations.clusters.list",
    http_method: "GET",
    path: "v1/{+parent}/clusters",
    request: None,
    response: "ListClustersResponse",
};

pub const GET_CLUSTER: RestMethod = RestMethod {
    id: "container.projects.locations.clusters.get",
    http_method: "GET",
    path: "v1/{+name}",
    request: None,
    response: "Cluster",
};

pub const LIST_NODE_POOLS: RestMethod = RestMethod {
    id: "container.projects.locations.clusters.nodePools.list",
    http_method: "GET",
    path: "v1/{+parent}/nodePools",
    request: None,
    response: "ListNodePoolsResponse",
};

pub const SET_NODE_POOL_SIZE: RestMethod = RestMethod {
    id: "container.projects.locations.clusters.nodePools.setSize",
    http_method: "POST",
    path: "v1/{+name}:setSize",
    request: Some("SetNodePoolSizeRequest"),
    response: "Operation",
};

pub const SET_NODE_POOL_AUTOSCALING: RestMethod = RestMethod {
    id: "container.projects.locations.clusters.nodePools.setAutoscaling",
    http_method: "POST",
    path: "v1/{+name}:setAutoscaling",
    request: Some("SetNodePoolAutoscalingRequest"),
    response: "Operation",
};

/// Polled until `status` is `DONE` after a resize.
pub const GET_OPERATION: RestMethod = RestMethod {
    id: "container.projects.locations.operations.get",
    http_method: "GET",
    path: "v1/{+name}",
    request: None,
    response: "Operation",
};

/// Every method the GKE client calls; the tests check each against the
/// discovery document.
pub const METHODS: [RestMethod; 6] = [
    LIST_CLUSTERS,
    GET_CLUSTER,
    LIST_NODE_POOLS,
    SET_NODE_POOL_SIZE,
    SET_NODE_POOL_AUTOSCALING,
    GET_OPERATION,
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListClustersResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<Cluster>,
    /// Zones that did not answer: the list is then partial, and says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_zones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    /// A region or a zone.
    pub location: String,
    /// Deprecated by Google in favour of `location`; old clusters still fill it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The API server's IP address (no scheme, no port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_master_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_node_version: Option<String>,
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_node_count: Option<i32>,
    #[serde(default, skip_serializing_if = "ClusterStatus::is_unspecified")]
    pub status: ClusterStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_auth: Option<MasterAuth>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_pools: Vec<NodePool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_labels: BTreeMap<String, String>,
}

/// A status newer than this build reads as `StatusUnspecified` (shown as
/// unknown) instead of failing the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClusterStatus {
    Provisioning,
    Running,
    Reconciling,
    Stopping,
    Error,
    Degraded,
    // serde wants the catch-all variant last.
    #[default]
    #[serde(other)]
    StatusUnspecified,
}

impl ClusterStatus {
    pub fn is_unspecified(&self) -> bool {
        *self == Self::StatusUnspecified
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MasterAuth {
    /// Base64 of the PEM CA bundle; see [`MasterAuth::cluster_ca`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_ca_certificate: Option<String>,
}

impl MasterAuth {
    /// The cluster CA's PEM bytes, if the cluster has published one.
    pub fn cluster_ca(&self) -> Result<Option<Vec<u8>>, WireError> {
        self.cluster_ca_certificate
            .as_deref()
            .map(|v| decode_base64("masterAuth.clusterCaCertificate", v))
            .transpose()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListNodePoolsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_pools: Vec<NodePool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<NodeConfig>,
    /// Per zone of `locations`, not in total.
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub initial_node_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<NodePoolAutoscaling>,
    /// Pods per node, for the capacity check of a failover plan (BRIEF §8).
    /// The one `int64` on this path: a JSON string on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pods_constraint: Option<MaxPodsConstraint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<NodePoolStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// One managed instance group per zone; the current size is the sum of
    /// theirs (the API has no current-count field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_group_urls: Vec<String>,
    /// Zones the pool spans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
}

/// As [`ClusterStatus`], unknown values read as `StatusUnspecified`. Node pools
/// have `RUNNING_WITH_ERROR` and no `DEGRADED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodePoolStatus {
    Provisioning,
    Running,
    RunningWithError,
    Reconciling,
    Stopping,
    Error,
    // serde wants the catch-all variant last.
    #[default]
    #[serde(other)]
    StatusUnspecified,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeConfig {
    /// The price-table key, e.g. `e2-standard-4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub disk_size_gb: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preemptible: Option<bool>,
    /// Spot and preemptible nodes have their own, lower price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<bool>,
}

/// The `min`/`max` pair limits each zone; the `total_*` pair (mutually
/// exclusive with it) limits the whole pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolAutoscaling {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_node_count: Option<i32>,
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_node_count: Option<i32>,
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_min_node_count: Option<i32>,
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_max_node_count: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxPodsConstraint {
    #[serde(
        default,
        with = "proto_int::int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_pods_per_node: Option<i64>,
}

/// A long-running operation, returned by the mutating calls and polled by
/// name through [`GET_OPERATION`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Not a full resource name: the poll path is
    /// `projects/{p}/locations/{location}/operations/{name}`.
    pub name: String,
    /// e.g. `SET_NODE_POOL_SIZE`. Kept as a string: it is only shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OperationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Set when a `DONE` operation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    Pending,
    Running,
    Done,
    Aborting,
    // serde wants the catch-all variant last.
    #[default]
    #[serde(other)]
    StatusUnspecified,
}

/// `google.rpc.Status`: `code` is a gRPC code, not an HTTP status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    #[serde(
        default,
        deserialize_with = "proto_int::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The body of `setSize`: the new count per zone of the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetNodePoolSizeRequest {
    /// Proto3 JSON leaves a 0 out, so scaling to zero arrives as `{}` (the
    /// official client sends exactly that): absent means 0.
    #[serde(default, deserialize_with = "proto_int::required")]
    pub node_count: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetNodePoolAutoscalingRequest {
    pub autoscaling: NodePoolAutoscaling,
}

/// The body of every Google API error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoogleErrorResponse {
    pub error: GoogleError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoogleError {
    /// The HTTP status code.
    pub code: i32,
    pub message: String,
    /// The canonical code name, e.g. `PERMISSION_DENIED`, `NOT_FOUND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Integers in protobuf's JSON mapping.
///
/// `int64` and `uint64` travel as strings, because JavaScript numbers lose
/// precision past 2^53; `int32` travels as a number. Google's parsers accept
/// either form for every integer type, and so do we, so that a string where a
/// number was expected (or the reverse) is not a failed refresh. On output we
/// emit what the discovery document declares: numbers for `int32` (the serde
/// default) and strings for `int64` ([`proto_int::int64`]).
pub mod proto_int {
    use std::{fmt, marker::PhantomData, str::FromStr};

    use serde::{de, Deserializer, Serializer};

    struct IntVisitor<T>(PhantomData<T>);

    impl<T> de::Visitor<'_> for IntVisitor<T>
    where
        T: TryFrom<i64> + TryFrom<u64> + FromStr,
    {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer in range, as a JSON number or a decimal string")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            T::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            T::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }

        // Protobuf's JSON also allows exponent notation (`1e3`), which JSON
        // parsers hand over as a float; only whole values are integers.
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            // i64::MAX as f64 rounds up to 2^63, hence the strict bound.
            if v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64 {
                self.visit_i64(v as i64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            v.parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    struct OptionVisitor<T>(PhantomData<T>);

    impl<'de, T> de::Visitor<'de> for OptionVisitor<T>
    where
        T: TryFrom<i64> + TryFrom<u64> + FromStr,
    {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("null or an integer, as a JSON number or a decimal string")
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            required(d).map(Some)
        }
    }

    /// A required integer field, in either form.
    pub fn required<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64> + TryFrom<u64> + FromStr,
    {
        d.deserialize_any(IntVisitor(PhantomData))
    }

    /// An optional integer field, in either form; `null` is `None`.
    pub fn option<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64> + TryFrom<u64> + FromStr,
    {
        d.deserialize_option(OptionVisitor(PhantomData))
    }

    /// For `Option<i64>` fields declared `format: int64`: read either form,
    /// write a string.
    pub mod int64 {
        use super::*;

        pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.collect_str(v),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            super::option(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods(v: serde_json::Value) -> Result<MaxPodsConstraint, serde_json::Error> {
        serde_json::from_value(json!({ "maxPodsPerNode": v }))
    }

    fn min_nodes(v: serde_json::Value) -> Result<Option<i32>, serde_json::Error> {
        serde_json::from_value::<NodePoolAutoscaling>(json!({ "minNodeCount": v }))
            .map(|a| a.min_node_count)
    }

    #[test]
    fn int64_reads_strings_and_numbers_and_writes_a_string() {
        assert_eq!(pods(json!("110")).unwrap().max_pods_per_node, Some(110));
        assert_eq!(pods(json!(110)).unwrap().max_pods_per_node, Some(110));
        assert_eq!(pods(json!(1e2)).unwrap().max_pods_per_node, Some(100));
        assert_eq!(pods(json!(null)).unwrap().max_pods_per_node, None);
        // Past 2^53, where a float would have lost the last digits.
        assert_eq!(
            pods(json!("9007199254740993")).unwrap().max_pods_per_node,
            Some(9_007_199_254_740_993)
        );
        let out = serde_json::to_value(MaxPodsConstraint {
            max_pods_per_node: Some(-7),
        })
        .unwrap();
        assert_eq!(out, json!({ "maxPodsPerNode": "-7" }));
    }

    #[test]
    fn int_fields_reject_what_is_not_an_integer() {
        for bad in [
            json!("abc"),
            json!(""),
            json!(" 5"),
            json!(1.5),
            json!(true),
            json!([1]),
        ] {
            assert!(pods(bad.clone()).is_err(), "{bad} was accepted");
            assert!(min_nodes(bad.clone()).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn int32_fields_read_either_form_check_range_and_write_a_number() {
        assert_eq!(min_nodes(json!(3)).unwrap(), Some(3));
        assert_eq!(min_nodes(json!("3")).unwrap(), Some(3));
        assert!(min_nodes(json!("3000000000")).is_err());
        assert!(min_nodes(json!(3_000_000_000u64)).is_err());
        assert!(min_nodes(json!(-3_000_000_000i64)).is_err());
        let out = serde_json::to_value(SetNodePoolSizeRequest { node_count: 4 }).unwrap();
        assert_eq!(out, json!({ "nodeCount": 4 }));
        let back: SetNodePoolSizeRequest =
            serde_json::from_value(json!({ "nodeCount": "4" })).unwrap();
        assert_eq!(back.node_count, 4);
        // Proto3 JSON leaves 0 out: `{}` is "scale to zero", exactly what
        // google-cloud-container-v1 sends for it.
        let zero: SetNodePoolSizeRequest = serde_json::from_value(json!({})).unwrap();
        assert_eq!(zero.node_count, 0);
        assert!(
            serde_json::from_value::<SetNodePoolSizeRequest>(json!({"nodeCount": "x"})).is_err()
        );
    }

    #[test]
    fn unknown_status_reads_as_unspecified_and_absent_status_is_unspecified() {
        let c: Cluster = serde_json::from_value(json!({
            "name": "a", "location": "europe-west1", "status": "HIBERNATING"
        }))
        .unwrap();
        assert_eq!(c.status, ClusterStatus::StatusUnspecified);
        let c: Cluster =
            serde_json::from_value(json!({ "name": "a", "location": "europe-west1" })).unwrap();
        assert_eq!(c.status, ClusterStatus::StatusUnspecified);
        let c: Cluster = serde_json::from_value(json!({
            "name": "a", "location": "europe-west1", "status": "DEGRADED"
        }))
        .unwrap();
        assert_eq!(c.status, ClusterStatus::Degraded);
    }

    #[test]
    fn bad_cluster_ca_is_an_error_and_a_missing_one_is_none() {
        let bad = MasterAuth {
            cluster_ca_certificate: Some("%%%".into()),
        };
        assert!(matches!(
            bad.cluster_ca(),
            Err(WireError::BadBase64 {
                field: "masterAuth.clusterCaCertificate",
                ..
            })
        ));
        let none = MasterAuth {
            cluster_ca_certificate: None,
        };
        assert_eq!(none.cluster_ca().unwrap(), None);
    }
}
