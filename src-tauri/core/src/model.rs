//! Domain types shared by the store, the CLI and the IPC layer. The IPC
//! ones derive `ts_rs::TS` so that `ui/src/lib/bindings/` is generated from
//! them and the webview cannot drift from the Rust DTOs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where a cluster was found. The wire names are the CLI's `--provider` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum Provider {
    #[serde(rename = "aws")]
    Aws,
    #[serde(rename = "gcp")]
    Gcp,
    #[serde(rename = "azure")]
    Azure,
    #[serde(rename = "do")]
    DigitalOcean,
    #[serde(rename = "kubeconfig")]
    Kubeconfig,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Aws,
        Provider::Gcp,
        Provider::Azure,
        Provider::DigitalOcean,
        Provider::Kubeconfig,
    ];

    /// The identifier stored in SQLite and accepted by `--provider`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
            Provider::DigitalOcean => "do",
            Provider::Kubeconfig => "kubeconfig",
        }
    }

    /// The text badge the UI and reports show (no vendor logos, BRIEF §11).
    pub fn badge(self) -> &'static str {
        match self {
            Provider::Aws => "EKS",
            Provider::Gcp => "GKE",
            Provider::Azure => "AKS",
            Provider::DigitalOcean => "DOKS",
            Provider::Kubeconfig => "kubeconfig",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown provider {0:?}: expected one of aws, gcp, azure, do, kubeconfig")]
pub struct UnknownProvider(pub String);

/// One node pool (EKS nodegroup, GKE node pool, AKS agent pool, DOKS node pool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NodePoolSummary {
    pub name: String,
    pub count: u32,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub machine_type: Option<String>,
}

/// A cluster as the cache knows it. `collected_at` (unix seconds) is when a
/// collector last wrote the row: every view shows the data's age from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ClusterSummary {
    /// Stable across refreshes: `provider/account/region/name`.
    pub id: String,
    pub provider: Provider,
    pub account: String,
    pub name: String,
    pub region: String,
    pub version: Option<String>,
    pub status: String,
    pub endpoint: Option<String>,
    pub node_pools: Vec<NodePoolSummary>,
    #[ts(type = "number")]
    pub collected_at: i64,
    /// When a complete discovery of its source last missed it (unix
    /// seconds): the cluster is kept, marked gone, never silently deleted.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub gone_at: Option<i64>,
}

impl ClusterSummary {
    /// The id scheme, kept in one place so that discovery from two sources
    /// (cloud API and kubeconfig) can be merged later.
    pub fn make_id(provider: Provider, account: &str, region: &str, name: &str) -> String {
        format!("{}/{}/{}/{}", provider.as_str(), account, region, name)
    }

    pub fn node_count(&self) -> u32 {
        self.node_pools.iter().map(|p| p.count).sum()
    }
}

/// Where the cache lives and what it holds, for the diagnostics views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CacheInfo {
    pub path: String,
    pub schema_version: u32,
    #[ts(type = "number")]
    pub size_bytes: u64,
}

/// One source (provider × account × scope) that failed during discovery.
/// The message names the provider and the place; the hint says what to do.
/// Never carries a secret: it is built from typed errors, not raw replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SourceError {
    pub provider: Provider,
    pub account: String,
    /// Region, project or subscription; empty for account-wide failures.
    pub scope: String,
    /// A stable kind: `unauthorized`, `throttled`, `timeout`, …
    pub kind: String,
    pub message: String,
    pub hint: String,
}

/// Live progress of a discovery run, one event per step of each source,
/// for the Fleet screen's progress display and the CLI's stderr.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
#[ts(export)]
pub enum DiscoveryProgress {
    /// The account's scopes are known.
    Planned {
        provider: Provider,
        account: String,
        scopes: u32,
    },
    ScopeDone {
        provider: Provider,
        account: String,
        scope: String,
        clusters: u32,
        #[ts(type = "number")]
        millis: u64,
    },
    ScopeFailed {
        provider: Provider,
        account: String,
        scope: String,
        kind: String,
        message: String,
    },
}

/// The last discovery run, as recorded in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DiscoveryStatus {
    #[ts(type = "number")]
    pub started_ms: i64,
    #[ts(type = "number")]
    pub finished_ms: i64,
    pub cluster_count: u32,
    pub errors: Vec<SourceError>,
}

/// What the Fleet screen and `cloudops clusters --offline` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FleetOverview {
    pub clusters: Vec<ClusterSummary>,
    pub cache: CacheInfo,
    /// `None` until the first discovery.
    #[serde(default)]
    pub last_discovery: Option<DiscoveryStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_round_trips_through_its_wire_name() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), p);
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.as_str())
            );
        }
        assert!("digitalocean".parse::<Provider>().is_err());
    }

    #[test]
    fn node_count_sums_every_pool() {
        let pool = |count| NodePoolSummary {
            name: format!("p{count}"),
            count,
            min: None,
            max: None,
            machine_type: None,
        };
        let c = ClusterSummary {
            id: ClusterSummary::make_id(Provider::Gcp, "acct", "europe-west1", "prod"),
            provider: Provider::Gcp,
            account: "acct".into(),
            name: "prod".into(),
            region: "europe-west1".into(),
            version: None,
            status: "RUNNING".into(),
            endpoint: None,
            node_pools: vec![pool(3), pool(4)],
            collected_at: 0,
            gone_at: None,
        };
        assert_eq!(c.node_count(), 7);
        assert_eq!(c.id, "gcp/acct/europe-west1/prod");
    }
}
