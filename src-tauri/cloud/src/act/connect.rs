//! From a cluster id to a client that can write to it, shared by the CLI
//! and the app: find the discovered target, connect through the provider
//! that found it, and name the cloud identity the audit rows carry.

use crate::access::ClusterAccess;
use crate::collect::fleet::FleetTarget;

use super::ActError;

/// A connected cluster, ready for an executor.
pub struct Connected {
    pub access: ClusterAccess,
    pub client: kube::Client,
    /// `"aws account prod"`: the identity the audit rows name.
    pub identity: String,
}

/// Connects to the cluster `id` among `targets` (the last discovery's).
pub async fn connect(targets: &[FleetTarget], id: &str) -> Result<Connected, ActError> {
    let Some(target) = targets.iter().find(|t| t.cluster_id == id) else {
        return Err(ActError::UnknownCluster {
            cluster: id.to_owned(),
            known: targets.len(),
        });
    };
    let conn = target
        .provider
        .connect(&target.cluster.locator)
        .await
        .map_err(|source| ActError::Connect {
            cluster: id.to_owned(),
            source,
        })?;
    let access = ClusterAccess::new(conn);
    let client = access.client().await.map_err(|e| ActError::Unreachable {
        cluster: id.to_owned(),
        what: "a client".into(),
        detail: e.to_string(),
    })?;
    Ok(Connected {
        access,
        client,
        identity: cloud_identity(target),
    })
}

/// Who a write acts as in the cloud, for audit rows: "aws account 1234…".
/// Never a secret: the provider and the account id only.
pub fn cloud_identity(target: &FleetTarget) -> String {
    format!(
        "{} account {}",
        target.cluster.provider, target.cluster.account
    )
}
