//! Azure Resource Manager payloads for AKS (`Microsoft.ContainerService`) and
//! the subscriptions list, at API version [`API_VERSION`].
//!
//! ARM names are camelCase with a few upper-case acronyms (`privateFQDN`,
//! `enableAzureRBAC`): those carry explicit renames, and the fixture tests
//! would catch a wrong one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{decode_base64, WireError};

/// The `api-version` query value for every `Microsoft.ContainerService` call
/// (BRIEF §4; the newest stable version, and the one the fixtures come from).
pub const API_VERSION: &str = "2025-10-01";

/// One page of an ARM collection. The next page, if any, is at `nextLink`, an
/// absolute URL that already carries the `api-version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// serde would otherwise ask `T: Default` because of `value`'s default.
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct ArmList<T> {
    #[serde(default)]
    pub value: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// A managed cluster, from `managedClusters` list or get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedCluster {
    /// The ARM resource id; it carries the subscription and resource group that
    /// the agent-pool and credential calls need.
    pub id: String,
    pub name: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    pub properties: ManagedClusterProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedClusterProperties {
    pub provisioning_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_state: Option<PowerState>,
    /// The version asked for; it may be a bare `major.minor`.
    pub kubernetes_version: String,
    /// The version actually running, always a full patch version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_kubernetes_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Set instead of, or as well as, `fqdn` for private clusters.
    #[serde(
        rename = "privateFQDN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub private_fqdn: Option<String>,
    /// The `MC_*` group that holds the nodes: the cost query groups by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_resource_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_pool_profiles: Option<Vec<AgentPoolProfile>>,
    /// Present on Entra-ID clusters, whose API server wants an Entra token
    /// rather than the kubeconfig's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aad_profile: Option<AadProfile>,
}

/// `Running` or `Stopped`: a stopped cluster is not an unhealthy one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerState {
    pub code: String,
}

/// An agent pool as embedded in the cluster (`agentPoolProfiles[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPoolProfile {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_scaling: Option<bool>,
    /// `System` or `User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AadProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(
        rename = "enableAzureRBAC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_azure_rbac: Option<bool>,
}

/// An agent pool as its own resource (`…/agentPools/{name}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPool {
    pub id: String,
    pub name: String,
    pub properties: AgentPoolProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPoolProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_scaling: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `Succeeded` when settled; `Creating`/`Updating`/`Scaling` while a PUT is
    /// still running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orchestrator_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_state: Option<PowerState>,
}

/// The PUT body that scales an agent pool or switches its autoscaler.
///
/// ARM's PUT replaces the pool, so a body with only the scale fields would
/// reset everything else. The executor therefore reads the pool first and
/// passes its properties through [`AgentPoolScaleRequest::keeping`], which is
/// what `az aks nodepool scale` does. The unmodelled properties travel in
/// `other`, untouched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPoolScaleRequest {
    pub properties: AgentPoolScaleProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPoolScaleProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_scaling: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<i32>,
    /// Every other property, passed through as read. Must not repeat the four
    /// keys above (JSON would get them twice); `keeping` strips them.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Properties the service sets and a PUT must not echo back.
const READ_ONLY_POOL_PROPERTIES: [&str; 4] = [
    "provisioningState",
    "currentOrchestratorVersion",
    "nodeImageVersion",
    "eTag",
];

impl AgentPoolScaleRequest {
    /// A fixed size, with the autoscaler off.
    pub fn fixed(count: i32) -> Self {
        Self::with(Some(count), Some(false), None, None)
    }

    /// The autoscaler on, between `min` and `max`. The current count is kept
    /// (through [`Self::keeping`]); the autoscaler moves it from there.
    pub fn autoscale(min: i32, max: i32) -> Self {
        Self::with(None, Some(true), Some(min), Some(max))
    }

    fn with(
        count: Option<i32>,
        enable_auto_scaling: Option<bool>,
        min_count: Option<i32>,
        max_count: Option<i32>,
    ) -> Self {
        Self {
            properties: AgentPoolScaleProperties {
                count,
                enable_auto_scaling,
                min_count,
                max_count,
                other: Map::new(),
            },
        }
    }

    /// Carries over the pool's current `properties` (as read by GET), except
    /// the read-only ones and the ones this request decides. `minCount` and
    /// `maxCount` never carry over: a fixed-size request must clear them, and
    /// an autoscale request sets them.
    pub fn keeping(mut self, current_properties: &Map<String, Value>) -> Self {
        let own = &mut self.properties;
        for (key, value) in current_properties {
            let decided = match key.as_str() {
                "count" => own.count.is_some(),
                "enableAutoScaling" | "minCount" | "maxCount" => true,
                k => READ_ONLY_POOL_PROPERTIES.contains(&k),
            };
            if decided {
                continue;
            }
            if key == "count" {
                own.count = value.as_i64().and_then(|c| i32::try_from(c).ok());
            } else {
                own.other.insert(key.clone(), value.clone());
            }
        }
        self
    }
}

/// The body of `listClusterUserCredential` (and the admin variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialResults {
    #[serde(default)]
    pub kubeconfigs: Vec<CredentialResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialResult {
    pub name: String,
    /// The kubeconfig, base64-encoded (`format: byte`).
    pub value: String,
}

impl CredentialResult {
    /// The kubeconfig file's bytes. A value that is not base64 is an error,
    /// never a panic: it comes from the network.
    pub fn kubeconfig(&self) -> Result<Vec<u8>, WireError> {
        decode_base64("kubeconfigs[].value", &self.value)
    }
}

/// The body of every ARM error response (4xx/5xx, and failed long-running
/// operations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmErrorResponse {
    pub error: ArmError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmError {
    /// Machine-readable, e.g. `ResourceNotFound`, `AuthorizationFailed`.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ArmError>>,
}

/// One entry of `GET /subscriptions`, used when the account names none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    pub display_name: String,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`.
    pub state: String,
}

/// The Cost Management API version of the query models below (the official
/// examples' version).
pub const COST_API_VERSION: &str = "2025-03-01";

/// The body of `POST {scope}/providers/Microsoft.CostManagement/query`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostQuery {
    /// `Usage`, `ActualCost` or `AmortizedCost`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `MonthToDate`, `BillingMonthToDate`, `TheLastMonth`,
    /// `TheLastBillingMonth`, `WeekToDate` or `Custom` (with `timePeriod`).
    pub timeframe: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_period: Option<CostQueryTimePeriod>,
    pub dataset: CostQueryDataset,
}

/// ISO 8601 instants, e.g. `2025-06-01T00:00:00+00:00`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostQueryTimePeriod {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostQueryDataset {
    /// `Daily` or `None` (absent: `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<String>,
    /// By output name, e.g. `totalCost` → `{name: "PreTaxCost", function: "Sum"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<BTreeMap<String, CostQueryAggregation>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grouping: Option<Vec<CostQueryGrouping>>,
    /// The filter tree (`and`/`or`/`not`/`dimensions`/`tags`), kept as JSON:
    /// the product does not filter yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostQueryAggregation {
    /// The cost column, e.g. `PreTaxCost` or `Cost`.
    pub name: String,
    /// `Sum`.
    pub function: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostQueryGrouping {
    /// `Dimension` or `TagKey`.
    #[serde(rename = "type")]
    pub kind: String,
    /// e.g. `ResourceGroup`, `ResourceGroupName`.
    pub name: String,
}

/// The query's answer: a table of `columns` and `rows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostQueryResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub properties: CostQueryProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostQueryProperties {
    /// POST the same body here for the next page; `null` on the last.
    #[serde(default)]
    pub next_link: Option<String>,
    #[serde(default)]
    pub columns: Vec<CostQueryColumn>,
    /// One value per column, in column order (numbers and strings).
    #[serde(default)]
    pub rows: Vec<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostQueryColumn {
    pub name: String,
    /// `Number` or `String`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl CostQueryProperties {
    /// The index of a column, by name without regard to case.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// `(group, amount)` of each row, from the `group` and `cost` columns;
    /// rows whose cells are missing or of another type are skipped.
    pub fn amounts_by(&self, group: &str, cost: &str) -> Vec<(String, f64)> {
        let (Some(g), Some(c)) = (self.column(group), self.column(cost)) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter_map(|row| Some((row.get(g)?.as_str()?.to_string(), row.get(c)?.as_f64()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubeconfig_decodes_and_bad_base64_is_an_error() {
        let good = CredentialResult {
            name: "clusterUser".into(),
            value: "YXBpVmVyc2lvbjogdjEK".into(),
        };
        assert_eq!(good.kubeconfig().unwrap(), b"apiVersion: v1\n");

        let bad = CredentialResult {
            name: "clusterUser".into(),
            value: "apiVersion: v1".into(),
        };
        let err = bad.kubeconfig().unwrap_err();
        assert!(matches!(
            err,
            WireError::BadBase64 {
                field: "kubeconfigs[].value",
                ..
            }
        ));
    }

    #[test]
    fn acronym_fields_use_the_arm_spelling() {
        let props: ManagedClusterProperties = serde_json::from_value(json!({
            "provisioningState": "Succeeded",
            "kubernetesVersion": "1.33",
            "privateFQDN": "x.privatelink.eastus.azmk8s.io",
            "aadProfile": {"managed": true, "enableAzureRBAC": true},
            "powerState": {"code": "Stopped"}
        }))
        .unwrap();
        assert_eq!(
            props.private_fqdn.as_deref(),
            Some("x.privatelink.eastus.azmk8s.io")
        );
        assert_eq!(
            props.aad_profile,
            Some(AadProfile {
                managed: Some(true),
                enable_azure_rbac: Some(true)
            })
        );
        assert_eq!(props.power_state.unwrap().code, "Stopped");
    }

    #[test]
    fn fixed_scale_keeps_the_pool_and_clears_the_autoscaler() {
        let current = json!({
            "count": 3, "enableAutoScaling": true, "minCount": 1, "maxCount": 5,
            "vmSize": "Standard_DS2_v2", "mode": "User", "provisioningState": "Succeeded",
            "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202501.01.0",
            "currentOrchestratorVersion": "1.33.1", "orchestratorVersion": "1.33"
        });
        let body = AgentPoolScaleRequest::fixed(7).keeping(current.as_object().unwrap());
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"properties": {
                "count": 7, "enableAutoScaling": false,
                "vmSize": "Standard_DS2_v2", "mode": "User", "orchestratorVersion": "1.33"
            }})
        );
    }

    #[test]
    fn autoscale_keeps_the_current_count() {
        let current = json!({"count": 3, "vmSize": "Standard_DS2_v2"});
        let body = AgentPoolScaleRequest::autoscale(2, 6).keeping(current.as_object().unwrap());
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"properties": {
                "count": 3, "enableAutoScaling": true, "minCount": 2, "maxCount": 6,
                "vmSize": "Standard_DS2_v2"
            }})
        );
    }
}
