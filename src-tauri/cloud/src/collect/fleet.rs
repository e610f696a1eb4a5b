//! A collection pass over the fleet: each discovered cluster is
//! connected through its own provider (fresh endpoint, CA and token) and
//! collected, a bounded number at a time. A cluster that cannot be
//! connected is a `connect` problem in its own result.

use std::sync::Arc;

use futures_util::{future::BoxFuture, stream, StreamExt};

use super::{collect_cluster, ClusterCollection, CollectError, CollectSettings};
use crate::{
    access::ClusterAccess,
    providers::{DiscoveredCluster, Provider},
    resilience::Breakers,
};

/// One cluster to collect, with the provider that can connect to it.
#[derive(Clone)]
pub struct FleetTarget {
    pub cluster_id: String,
    pub cluster: DiscoveredCluster,
    pub provider: Arc<dyn Provider>,
}

/// The discovered clusters, each with the provider (same kind and account)
/// that found it. A cluster without an endpoint in its listing is still a
/// target: AKS lists no API address, `connect` asks for it.
pub fn targets(
    providers: &[Arc<dyn Provider>],
    clusters: &[DiscoveredCluster],
) -> Vec<FleetTarget> {
    clusters
        .iter()
        .filter_map(|c| {
            let provider = providers
                .iter()
                .find(|p| p.kind() == c.provider && p.account() == c.account)?;
            Some(FleetTarget {
                cluster_id: c.to_summary(0).id,
                cluster: c.clone(),
                provider: provider.clone(),
            })
        })
        .collect()
}

async fn one(
    t: &FleetTarget,
    settings: &CollectSettings,
    breakers: &Breakers,
    now: i64,
) -> ClusterCollection {
    let connect = tokio::time::timeout(
        settings.call.timeout * 2,
        t.provider.connect(&t.cluster.locator),
    )
    .await;
    let conn = match connect {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return failed(t, now, CollectError::Connect(e)),
        Err(_) => {
            return failed(
                t,
                now,
                CollectError::Deadline {
                    what: "connecting to the cluster".into(),
                    after_secs: (settings.call.timeout * 2).as_secs(),
                },
            )
        }
    };
    let access = ClusterAccess::new(conn);
    collect_cluster(&t.cluster_id, &access, settings, breakers, now).await
}

fn failed(t: &FleetTarget, now: i64, e: CollectError) -> ClusterCollection {
    let mut out = ClusterCollection {
        cluster_id: t.cluster_id.clone(),
        ..Default::default()
    };
    out.batch.collected_at = now;
    out.outcomes
        .insert("connect".into(), Some(super::Problem::new("connect", &e)));
    out
}

/// Collects every target, `settings.fleet_concurrency` at a time; results
/// come in the targets' order. `on_done` is called as each cluster ends.
pub async fn collect_fleet(
    targets: &[FleetTarget],
    settings: &CollectSettings,
    breakers: &Breakers,
    now: i64,
    on_done: impl Fn(&ClusterCollection),
) -> Vec<ClusterCollection> {
    let mut results: Vec<(usize, ClusterCollection)> =
        stream::iter(targets.iter().cloned().enumerate())
            // Owned targets and a boxed `Send` future: without them the closure's future is not `Send` for
            // every lifetime (rust-lang/rust#102211), and the app cannot spawn
            // the pass on its runtime.
            .map(
                |(i, t): (usize, FleetTarget)| -> BoxFuture<'_, (usize, ClusterCollection)> {
                    Box::pin(async move { (i, one(&t, settings, breakers, now).await) })
                },
            )
            .buffer_unordered(settings.fleet_concurrency.max(1))
            .inspect(|(_, c)| on_done(c))
            .collect()
            .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, c)| c).collect()
}
