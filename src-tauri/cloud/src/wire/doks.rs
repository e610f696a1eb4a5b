//! DigitalOcean API v2 payloads: Kubernetes clusters and node pools,
//! credentials, Droplet sizes (list prices), and invoices (actual cost).
//!
//! The DigitalOcean API is snake_case, which is also ours, so only the
//! wrappers need care: every response nests its payload under a named key
//! (`kubernetes_cluster`, `node_pools`, …).

use serde::{Deserialize, Serialize};

use super::{decode_base64, WireError};

/// Paging links. DigitalOcean sends `links: {}` on the last page, and `pages`
/// only holds the links that exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Links {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<Pages>,
}

impl Links {
    /// The next page's absolute URL; `None` on the last page.
    pub fn next(&self) -> Option<&str> {
        self.pages.as_ref()?.next.as_deref()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pages {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub total: u64,
}

/// `GET /v2/kubernetes/clusters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesClusterList {
    #[serde(default)]
    pub kubernetes_clusters: Vec<KubernetesCluster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// `GET /v2/kubernetes/clusters/{id}` and the create/update responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesClusterResponse {
    pub kubernetes_cluster: KubernetesCluster,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesCluster {
    pub id: String,
    pub name: String,
    /// A region slug such as `nyc1`.
    pub region: String,
    /// A DOKS version slug such as `1.18.6-do.0`.
    pub version: String,
    pub status: ClusterStatus,
    /// The API server URL. Empty while the cluster is still provisioning.
    #[serde(default)]
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_uuid: Option<String>,
    #[serde(default)]
    pub node_pools: Vec<NodePool>,
    pub created_at: String,
    pub updated_at: String,
    /// A highly available control plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_upgrade: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// `running`, `provisioning`, `degraded`, `error`, `deleted`, `upgrading`
    /// or `deleting`. Kept as a string: a new state must not fail discovery.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET /v2/kubernetes/clusters/{id}/node_pools`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodePoolList {
    #[serde(default)]
    pub node_pools: Vec<NodePool>,
}

/// `GET`, `POST` and `PUT` of a single node pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodePoolResponse {
    pub node_pool: NodePool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodePool {
    pub id: String,
    pub name: String,
    /// A Droplet size slug: the key into [`SizeList`] for the price.
    pub size: String,
    pub count: u32,
    /// Zero/false when the autoscaler is off; the API sends them either way.
    #[serde(default)]
    pub auto_scale: bool,
    #[serde(default)]
    pub min_nodes: u32,
    #[serde(default)]
    pub max_nodes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    /// Blank (`" "`) until the Droplet exists.
    pub name: String,
    pub status: NodeStatus,
    /// A string on the wire, and blank until the Droplet exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub droplet_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// `provisioning`, `running`, `draining` or `deleting`.
    pub state: String,
}

/// The body of `PUT /v2/kubernetes/clusters/{id}/node_pools/{pool_id}`. `name`
/// and `count` are required by the API even when only one of them changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodePoolUpdate {
    pub name: String,
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scale: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_nodes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_nodes: Option<u32>,
    /// Replaces the pool's tags when present. The service adds `k8s`,
    /// `k8s:<cluster id>` and `k8s:worker` itself (responses show them), so
    /// they need not be sent back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// `GET /v2/kubernetes/clusters/{id}/credentials`: what the cluster client
/// needs, without going through a kubeconfig file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub server: String,
    /// The cluster CA, base64 (`format: byte`); see
    /// [`Credentials::certificate_authority`].
    pub certificate_authority_data: String,
    /// Absent for old clusters that only do client-certificate auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// When `token` stops working (RFC 3339); the token source refreshes
    /// before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl Credentials {
    /// The CA bundle (PEM) bytes.
    pub fn certificate_authority(&self) -> Result<Vec<u8>, WireError> {
        decode_base64(
            "certificate_authority_data",
            &self.certificate_authority_data,
        )
    }
}

/// `GET /v2/sizes`: list prices for the node-hours estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeList {
    #[serde(default)]
    pub sizes: Vec<Size>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Size {
    pub slug: String,
    /// MiB.
    pub memory: u64,
    pub vcpus: u32,
    /// GiB.
    pub disk: u64,
    /// USD.
    pub price_monthly: f64,
    /// USD.
    pub price_hourly: f64,
    #[serde(default)]
    pub regions: Vec<String>,
    pub available: bool,
}

/// `GET /v2/customers/my/invoices`: past invoices and the month-to-date
/// preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceList {
    #[serde(default)]
    pub invoices: Vec<InvoicePreview>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_preview: Option<InvoicePreview>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// An invoice's summary; the month-to-date preview has the same shape (the API
/// calls the schema `invoice_preview` for both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoicePreview {
    /// The key for the items call; the preview's items are also at the
    /// literal `preview`.
    pub invoice_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// USD as a decimal string; month to date for the preview.
    pub amount: String,
    /// `YYYY-MM`.
    pub invoice_period: String,
    /// Only on the preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// `GET /v2/customers/my/invoices/{invoice_uuid}` (or `…/preview`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceItemList {
    #[serde(default)]
    pub invoice_items: Vec<InvoiceItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// One line of an invoice. DOKS lines carry the cluster name in
/// `group_description`, which is how actual cost is grouped per cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceItem {
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// USD as a decimal string: kept exact, never parsed into a float here.
    pub amount: String,
    /// A number as a string, in `duration_unit`s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
}

/// `GET /v2/customers/my/balance`. USD as decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// What is owed now: the balance plus the month's usage so far.
    pub month_to_date_balance: String,
    pub account_balance: String,
    /// The month's usage so far.
    pub month_to_date_usage: String,
    pub generated_at: String,
}

/// The body of every DigitalOcean error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoError {
    /// Machine-readable, e.g. `not_found`, `unauthorized`, `too_many_requests`.
    pub id: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_certificate_authority_is_an_error_not_a_panic() {
        let creds = Credentials {
            server: "https://x.k8s.ondigitalocean.com".into(),
            certificate_authority_data: "-----BEGIN CERTIFICATE-----".into(),
            token: None,
            expires_at: None,
        };
        assert!(matches!(
            creds.certificate_authority(),
            Err(WireError::BadBase64 {
                field: "certificate_authority_data",
                ..
            })
        ));
    }

    #[test]
    fn node_pool_update_omits_what_it_does_not_change() {
        let body = NodePoolUpdate {
            name: "workers".into(),
            count: 4,
            auto_scale: None,
            min_nodes: None,
            max_nodes: None,
            tags: None,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"name": "workers", "count": 4})
        );
    }

    #[test]
    fn error_body_parses_with_and_without_request_id() {
        let e: DoError = serde_json::from_value(json!({
            "id": "not_found",
            "message": "The resource you were accessing could not be found.",
            "request_id": "4d9d8375-3c56-4925-a3e7-eb137fed17e9"
        }))
        .unwrap();
        assert_eq!(e.id, "not_found");
        assert_eq!(
            e.request_id.as_deref(),
            Some("4d9d8375-3c56-4925-a3e7-eb137fed17e9")
        );
        let e: DoError = serde_json::from_value(
            json!({"id": "unauthorized", "message": "Unable to authenticate you"}),
        )
        .unwrap();
        assert_eq!(e.request_id, None);
    }

    #[test]
    fn empty_links_mean_no_next_page() {
        let list: KubernetesClusterList = serde_json::from_value(
            json!({"kubernetes_clusters": [], "links": {}, "meta": {"total": 0}}),
        )
        .unwrap();
        assert_eq!(list.links.as_ref().and_then(Links::next), None);
    }
}
